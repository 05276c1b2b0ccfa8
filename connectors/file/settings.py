"""The ``file`` connector's settings: ``path``, ``format`` and, for CSV, ``portals``.

Every problem is a ``SettingsError`` naming the key; the config loader adds the file,
line and ``sources[i].settings`` prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from auditor.interfaces import Secret, SettingsError


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


KNOWN_KEYS = ("format", "path", "portals")


@dataclass(frozen=True, slots=True)
class FileSettings:
    path: Path
    format: FileFormat
    # CSV only: portal id → display name. When given, it is the list of portals: a
    # portal id in the file that is not in it is an error (a typo would otherwise make
    # an unclassified portal).
    portals: Mapping[str, str] | None = field(default=None, hash=False)


def _describe(value: object) -> str:
    if isinstance(value, Secret):
        return "a secret reference"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value)


def parse_settings(settings: Mapping[str, Any], base_dir: Path) -> FileSettings:
    if not isinstance(settings, Mapping):
        raise SettingsError("", "a mapping with path (and optionally format, portals)", _describe(settings))
    for key in settings:
        if key not in KNOWN_KEYS:
            raise SettingsError(str(key), "one of " + ", ".join(KNOWN_KEYS), "an unknown key")
    raw_path = settings.get("path")
    if not isinstance(raw_path, str) or not raw_path.strip():
        raise SettingsError("path", "the path of a .csv or .json export file", _describe(raw_path))
    path = Path(raw_path.strip()).expanduser()
    path = path if path.is_absolute() else base_dir / path
    fmt = _format(settings.get("format"), path)
    portals = _portals(settings.get("portals"), fmt)
    return FileSettings(path, fmt, portals)


def _format(value: object, path: Path) -> FileFormat:
    if value is None:
        suffix = path.suffix.lower().lstrip(".")
        if suffix in (FileFormat.CSV, FileFormat.JSON):
            return FileFormat(suffix)
        raise SettingsError("format", "csv or json (the file name does not end in .csv or .json)")
    if isinstance(value, str) and value.strip().lower() in (FileFormat.CSV, FileFormat.JSON):
        return FileFormat(value.strip().lower())
    raise SettingsError("format", "csv or json", _describe(value))


def _portals(value: object, fmt: FileFormat) -> Mapping[str, str] | None:
    if value is None:
        return None
    if fmt is not FileFormat.CSV:
        raise SettingsError("portals", "nothing: a JSON export names its portals itself", "a value")
    if not isinstance(value, Mapping) or not value:
        raise SettingsError("portals", "a mapping of portal id to portal name", _describe(value))
    out: dict[str, str] = {}
    for key, name in value.items():
        if not isinstance(name, str) or not name.strip():
            raise SettingsError(f"portals.{key}", "the portal's name (text)", _describe(name))
        out[str(key)] = name.strip()
    return out
