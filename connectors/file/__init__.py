"""The ``file`` connector: a source read from an export file instead of an API.

Entry point ``file``. Two formats (docs/file-formats.md): a JSON document holding one
source snapshot in the normalised model (it can carry everything, policies and
sign-ins included), and a CSV layout of one row per account for systems that can only
export a table.
"""

from connectors.file.connector import FileConnector

__all__ = ["FileConnector"]
