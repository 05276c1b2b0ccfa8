"""The snapshot's canonical JSON for the reports: its digest and the compressed
attachment, both from ``auditor.serialise.iter_snapshot_json`` (never the whole text)."""

from __future__ import annotations

import gzip
import hashlib
import io

from auditor.model import Snapshot
from auditor.serialise import iter_snapshot_json


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
