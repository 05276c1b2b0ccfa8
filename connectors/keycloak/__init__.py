"""Keycloak connector (python-keycloak 7.x, a read-only service-account client).

Entry point ``keycloak``; see docs/keycloak.md for the service account's roles and the
mapping of authentication-flow executions onto policies.
"""

from connectors.keycloak.connector import KeycloakConnector

__all__ = ["KeycloakConnector"]
