"""Auth0 connector (auth0-python 6.x, a machine-to-machine application with read scopes).

Entry point ``auth0``; see docs/auth0.md for the scopes and the two ways users are read.
"""

from connectors.auth0.connector import Auth0Connector

__all__ = ["Auth0Connector"]
