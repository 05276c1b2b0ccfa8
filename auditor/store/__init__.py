"""The evidence store: every run on SQLite, and its retention."""
