"""Plain values of a connector's ``settings:`` mapping, read the one way every connector
reads them: a wrong value is a ``SettingsError`` naming the key, what was expected and
what was found."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.interfaces import SettingsError


def optional_text(settings: Mapping[str, Any], key: str, *, where: str | None = None) -> str | None:
    """A non-empty string, stripped, or None when the key is absent; ``where`` names the
    key in a message when it sits deeper than the top of the settings."""
    value = settings.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(where or key, "a non-empty string", repr(value) if not isinstance(value, str) else "''")
    return value.strip()


def required_text(settings: Mapping[str, Any], key: str) -> str:
    """A non-empty string, stripped; absent is an error."""
    value = settings.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(key, "a non-empty string", "nothing" if value is None else repr(value))
    return value.strip()


def flag(settings: Mapping[str, Any], key: str, default: bool) -> bool:
    """true or false, ``default`` when absent."""
    value = settings.get(key, default)
    if not isinstance(value, bool):
        raise SettingsError(key, "true or false", repr(value))
    return value
