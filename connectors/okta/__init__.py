"""Okta connector (the okta SDK 3.x, read-only ``okta.*.read`` scopes or an API token).

Entry point ``okta``; see docs/okta.md for both authentication modes and the scopes.
"""

from connectors.okta.connector import OktaConnector

__all__ = ["OktaConnector"]
