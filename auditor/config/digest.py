"""The part of a configuration that decides the verdicts, and its digest.

The cover of every report prints this digest, and the evidence store and
``report --run`` compare it: two configs that differ only in how the report is
presented (language, title, formats, output folder, detail rows, signing,
pseudonymisation), where the store lives, or how a source is reached (its
``settings``: endpoints, credentials) give the same digest. Everything else —
organisation, period, sources (name, type, sign-in collection), portals, policy,
identity links, exceptions — is evaluation-relevant.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PRESENTATION_KEYS = frozenset({"report", "store"})  # top-level keys that never affect a verdict
CONNECTION_KEYS = frozenset({"settings"})  # keys of a source that say how to read it, not what it is
_MAX_DIFFS = 20


def evaluation_data(data: Any) -> dict[str, Any]:
    """The evaluation-relevant part of a config's YAML data."""
    if not isinstance(data, dict):
        return {}
    out = {k: v for k, v in data.items() if k not in PRESENTATION_KEYS}
    sources = out.get("sources")
    if isinstance(sources, list):
        out["sources"] = [
            {k: v for k, v in s.items() if k not in CONNECTION_KEYS} if isinstance(s, dict) else s for s in sources
        ]
    return out


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def evaluation_digest_of_data(data: Any) -> str:
    return hashlib.sha256(canonical(evaluation_data(data))).hexdigest()


def evaluation_digest(text: str, path: Path) -> str:
    """SHA-256 of the canonical JSON of the evaluation-relevant config. Raises ``ConfigError``."""
    from auditor.config.load import yaml_data

    return evaluation_digest_of_data(yaml_data(text, path))


def differing_keys(a: Any, b: Any) -> list[str]:
    """Key paths (``policy.required.high``, ``exceptions[2]``) where the evaluation-relevant
    parts of two configs' data differ; at most a handful."""
    return list(_diff(evaluation_data(a), evaluation_data(b), ""))[:_MAX_DIFFS]


def _diff(a: Any, b: Any, here: str) -> Iterator[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            child = f"{here}.{key}" if here else str(key)
            if key not in a or key not in b:
                yield child
            else:
                yield from _diff(a[key], b[key], child)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff(x, y, f"{here}[{i}]")
    elif canonical(a) != canonical(b):
        yield here or "(the whole configuration)"
