"""Secret references, parsed in one place: ``{env: VAR}`` or ``{file: path}``.

The config loader and every connector's settings use ``parse_reference``; a problem is a
``ReferenceProblem`` naming the part of the reference that is wrong (``env`` / ``file``)
and what was found, described by its type, never by its value. ``reveal_line`` reveals a
secret that travels in an HTTP header or form field and refuses control characters
(a CR/LF pasted with a token would otherwise split a header), naming the setting."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from auditor.interfaces import Secret, SettingsError

SECRET_FORM = "secrets must be given as {env: VAR} or {file: path}"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class ReferenceProblem(Exception):
    """Why a value is not a secret reference. ``part`` is ``env``, ``file`` or empty."""

    part: str
    message: str  # the whole sentence, as the config loader prints it
    got: str  # what was found, briefly (never a value that may be secret)

    def __str__(self) -> str:
        return self.message


def describe(value: object) -> str:
    """What was given, without ever echoing a value that might be a secret."""
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping with keys " + ", ".join(sorted(str(k) for k in value)) if value else "an empty mapping"
    return f"a {type(value).__name__}"


def parse_reference(value: object, base_dir: Path) -> Secret:
    """``{env: VAR}`` or ``{file: path}`` (relative to ``base_dir``, ``~`` expanded) →
    ``Secret``; a ``Secret`` passes through. Raises ``ReferenceProblem``."""
    if isinstance(value, Secret):
        return value
    if not isinstance(value, Mapping):
        # A plain string is refused: secrets live in the environment or a file, never in the config.
        raise ReferenceProblem("", f"{SECRET_FORM}, got {describe(value)}", describe(value))
    keys = set(value)
    if keys == {"env"}:
        name = value["env"]
        if isinstance(name, str) and ENV_NAME.fullmatch(name):
            return Secret(env=name)
        # A variable's name is no secret: quoted, so a typo can be seen.
        got = repr(name[:60]) if isinstance(name, str) and name else describe(name)
        raise ReferenceProblem("env", f"expected the name of an environment variable, got {got}", got)
    if keys == {"file"}:
        raw = value["file"]
        if isinstance(raw, Path):
            raw = str(raw)
        if isinstance(raw, str) and raw.strip():
            path = Path(raw.strip()).expanduser()
            return Secret(file=path if path.is_absolute() else base_dir / path)
        raise ReferenceProblem("file", f"expected a file path, got {describe(raw)}", describe(raw))
    got = "keys " + (", ".join(sorted(map(str, keys))) or "none")
    raise ReferenceProblem("", f"{SECRET_FORM}: exactly one of the keys env or file, got {got}", got)


def settings_secret(value: object, key: str, base_dir: Path) -> Secret:
    """A connector setting holding a secret reference; a problem is a ``SettingsError``
    naming ``key`` (and ``key.env`` / ``key.file`` where that part is wrong)."""
    try:
        return parse_reference(value, base_dir)
    except ReferenceProblem as problem:
        where = f"{key}.{problem.part}" if problem.part else key
        raise SettingsError(where, "a secret reference {env: VAR} or {file: path}", problem.got) from None


def reveal_line(secret: Secret, setting: str) -> str:
    """The secret's value for a header or a form field: one line of printable text.
    Raises ``SettingsError`` naming ``setting`` and the reference, never the value
    (``SecretError`` when the reference cannot be resolved)."""
    value = secret.reveal()
    if _CONTROL.search(value):
        raise SettingsError(
            setting,
            f"a secret of one line without control characters ({secret.reference})",
            "a line break or another control character in it",
        )
    return value
