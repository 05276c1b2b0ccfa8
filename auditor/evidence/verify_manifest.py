"""The report manifest (``manifest.json``): what the renderer writes for ``verify``
beyond the digests, and the validation of every field ``verify`` reads from it.

Nothing read from the file is trusted: each field is type-checked, its length bounded,
dates must carry a time zone, digests must be 64 hexadecimal digits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from auditor.interfaces import ReportContext

MAX_MANIFEST = 16 << 20
MAX_JSON_DEPTH = 32
REQUIRED_FILES = ("snapshot.json", "config.yaml", "findings.csv")
RELATIONSHIPS = frozenset({"Source", "Data", "Alternative", "Supplement", "Unspecified"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,199}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def generator() -> dict[str, str]:
    """The tool and renderer versions: pages re-rendered by another version may differ."""
    return {
        "tool": "mfa-auditor",
        "version": _version("mfa-auditor"),
        "renderer": f"weasyprint {_version('weasyprint')}",
    }


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


def page_check_facts(ctx: ReportContext) -> dict[str, Any]:
    from auditor.evidence.verify_history import history_to_data

    options = ctx.options
    # The presentation actually used: a command line may override the config's
    # (``report --language``), and verify renders the pages again with these.
    presentation = {"title": options.title, "max_detail_rows": options.max_detail_rows}
    return {"generator": generator(), "history": history_to_data(ctx.extra), "presentation": presentation}


class ManifestError(ValueError):
    """The manifest is not a valid report manifest; the message names the field."""


@dataclass(frozen=True, slots=True)
class Listed:
    sha256: str
    size: int
    relationship: str


@dataclass(frozen=True, slots=True)
class Manifest:
    run_id: str
    evaluated_at: datetime
    generated_at: datetime
    snapshot_sha256: str
    findings_digest: str
    findings_count: int
    config_sha256: str
    pseudonymised: bool
    language: str
    attachments: Mapping[str, Listed]
    generator: Mapping[str, str] | None
    history: Any  # validated by verify_history when used
    title: str | None = None
    max_detail_rows: int | None = None


def _depth_ok(data: bytes) -> bool:
    """JSON nesting depth, counted outside strings, before the parser recurses."""
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def parse_manifest(data: bytes, expected_format: str) -> Manifest:
    if len(data) > MAX_MANIFEST:
        raise ManifestError(f"larger than {MAX_MANIFEST >> 20} MiB")
    if not _depth_ok(data):
        raise ManifestError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        obj = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ManifestError("not UTF-8 text") from None
    except (ValueError, RecursionError) as exc:
        raise ManifestError(f"not JSON ({str(exc)[:80]})") from None
    if not isinstance(obj, dict):
        raise ManifestError(f"expected a JSON object, got {type(obj).__name__}")
    if obj.get("format") != expected_format:
        raise ManifestError(f"format: expected {expected_format!r}")
    run_id = obj.get("run_id")
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise ManifestError("run_id: missing or not a run id")
    listed_raw = obj.get("attachments")
    if not isinstance(listed_raw, dict) or len(listed_raw) > 100:
        raise ManifestError("attachments: expected an object of at most 100 files")
    listed: dict[str, Listed] = {}
    for name, entry in listed_raw.items():
        if not _NAME.fullmatch(name):
            raise ManifestError("attachments: a file name is not a plain name")
        if not isinstance(entry, dict):
            raise ManifestError(f"attachments.{name}: expected an object")
        sha = entry.get("sha256")
        size = entry.get("size")
        rel = entry.get("relationship")
        if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
            raise ManifestError(f"attachments.{name}.sha256: expected 64 hexadecimal digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestError(f"attachments.{name}.size: expected a byte count")
        if rel not in RELATIONSHIPS:
            raise ManifestError(f"attachments.{name}.relationship: expected one of {', '.join(sorted(RELATIONSHIPS))}")
        listed[name] = Listed(sha, size, str(rel))
    gen = obj.get("generator")
    if gen is not None and not (
        isinstance(gen, dict) and all(isinstance(v, str) and len(v) < 100 for v in gen.values())
    ):
        raise ManifestError("generator: expected an object of short texts")
    count = obj.get("findings_count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ManifestError("findings_count: expected a count")
    language = obj.get("language")
    if not isinstance(language, str) or len(language) > 10:
        raise ManifestError("language: expected a language code")
    pseudonymised = obj.get("pseudonymised", False)
    if not isinstance(pseudonymised, bool):
        raise ManifestError("pseudonymised: expected true or false")
    presentation = obj.get("presentation")
    title = max_rows = None
    if presentation is not None:
        if not isinstance(presentation, dict):
            raise ManifestError("presentation: expected an object")
        title, max_rows = presentation.get("title"), presentation.get("max_detail_rows")
        if not isinstance(title, str) or len(title) > 1000:
            raise ManifestError("presentation.title: expected text")
        if not isinstance(max_rows, int) or isinstance(max_rows, bool) or not 0 < max_rows <= 1_000_000:
            raise ManifestError("presentation.max_detail_rows: expected a positive count")
    if language not in ("en", "fr"):
        raise ManifestError("language: expected en or fr")
    return Manifest(
        title=title,
        max_detail_rows=max_rows,
        run_id=run_id,
        evaluated_at=_aware(obj, "evaluated_at"),
        generated_at=_aware(obj, "generated_at"),
        snapshot_sha256=_hex(obj, "snapshot_sha256"),
        findings_digest=_hex(obj, "findings_digest"),
        findings_count=count,
        config_sha256=_hex(obj, "config_sha256"),
        pseudonymised=pseudonymised,
        language=language,
        attachments=listed,
        generator=gen,
        history=obj.get("history"),
    )


def _hex(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ManifestError(f"{key}: expected 64 hexadecimal digits")
    return value


def _aware(obj: Mapping[str, Any], key: str) -> datetime:
    value = obj.get(key)
    if not isinstance(value, str) or len(value) > 64:
        raise ManifestError(f"{key}: missing or not a date-time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ManifestError(f"{key}: not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ManifestError(f"{key}: has no time zone")
    return parsed
