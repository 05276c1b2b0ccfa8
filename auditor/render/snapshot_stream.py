"""The snapshot's canonical JSON, written piece by piece.

Produces exactly the bytes of ``auditor.serialise.snapshot_to_json(snapshot)`` (tested),
without building the whole document tree in memory first: at a million accounts that
tree is several times the size of the text.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from typing import Any

from auditor.model import Snapshot
from auditor.serialise import to_data


def _dumps(value: Any) -> str:
    return json.dumps(to_data(value), ensure_ascii=False, sort_keys=True)


def _iter(value: Any, depth: int) -> Iterator[str]:
    # Dataclasses and tuples near the top are opened up; anything small is dumped whole.
    if depth <= 3 and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = sorted(f.name for f in dataclasses.fields(value))
        yield "{"
        for i, name in enumerate(names):
            yield (", " if i else "") + json.dumps(name) + ": "
            yield from _iter(getattr(value, name), depth + 1)
        yield "}"
    elif depth <= 3 and isinstance(value, tuple):
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ", "
            yield from _iter(item, depth + 1)
        yield "]"
    else:
        yield _dumps(value)


def iter_snapshot_json(snapshot: Snapshot) -> Iterator[str]:
    fields = {f.name for f in dataclasses.fields(snapshot)}
    yield "{"
    for i, name in enumerate(sorted({*fields, "format"})):
        yield (", " if i else "") + json.dumps(name) + ": "
        if name == "format":
            yield json.dumps("mfa-auditor.snapshot")
        else:
            yield from _iter(getattr(snapshot, name), 1)
    yield "}"


def snapshot_gzip(snapshot: Snapshot) -> bytes:
    """The document gzip-compressed as it is encoded (deterministic: no name, mtime 0).
    At a million accounts the JSON is most of a gigabyte; neither it nor the PDF writer's
    copies of it are ever held whole, only the compressed tenth."""
    global _last_digest
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=buffer, mode="wb", compresslevel=6, mtime=0) as gz:
        for piece in iter_snapshot_json(snapshot):
            chunk = piece.encode("utf-8")
            digest.update(chunk)
            gz.write(chunk)
    _last_digest = (snapshot, digest.hexdigest())
    return buffer.getvalue()


_last_digest: tuple[Snapshot, str] | None = None


def snapshot_sha256(snapshot: Snapshot) -> str:
    """SHA-256 of the canonical JSON. The last answer is kept: every renderer of a run
    prints it, and at a million accounts it costs seconds."""
    global _last_digest
    if _last_digest is not None and _last_digest[0] is snapshot:
        return _last_digest[1]
    digest = hashlib.sha256()
    for chunk in iter_snapshot_json(snapshot):
        digest.update(chunk.encode("utf-8"))
    _last_digest = (snapshot, digest.hexdigest())
    return _last_digest[1]
