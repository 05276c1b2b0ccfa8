"""Helpers shared by the tests: sample data, report contexts, model strategies.

Imported as ``tests.support.<module>``; nothing here is collected as a test."""
