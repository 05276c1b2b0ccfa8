"""Microsoft Entra ID connector (msal + Microsoft Graph). Entry point ``entra``."""

from connectors.entra.connector import EntraConnector

__all__ = ["EntraConnector"]
