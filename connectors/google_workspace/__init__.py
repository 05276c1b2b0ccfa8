"""Google Workspace connector (Admin SDK Directory + Reports, read-only scopes).

Entry point ``google_workspace``; see docs/google-workspace.md for the service account,
domain-wide delegation and the exact scopes.
"""

from connectors.google_workspace.connector import GoogleWorkspaceConnector

__all__ = ["GoogleWorkspaceConnector"]
