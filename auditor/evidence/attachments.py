"""Evidence files: the bytes a report attaches and whose digests every report prints.

A file is produced once, as it is written: hashed (SHA-256 for the integrity page and
``mfa-audit verify``, MD5 for the PDF's ``/CheckSum``), counted and deflated. Nothing holds
a file whole and uncompressed: at a million accounts the snapshot JSON is 700 MiB and the
coverage matrix 450 MiB, their deflated forms a tenth of that. The deflated bytes are
exactly what a PDF ``/FlateDecode`` stream holds, so the PDF writer embeds them as they
are, and the CSV renderer inflates them instead of writing the rows a second time.

The snapshot's file is also its canonical digest (the run id, the store and every report
print it); a run encodes it once and keeps it in its ``RunArtefacts``
(``auditor.evidence.run_artefacts``).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from auditor.evidence.canonical_json import iter_snapshot_json
from auditor.model import Snapshot

DEFLATE_LEVEL = 6  # zlib's default: at 1M accounts level 1 saves ~3 s and costs ~40 % more bytes
SNAPSHOT_NAME = "snapshot.json"
SNAPSHOT_MEDIA_TYPE = "application/json"
_INFLATE_SLICE = 1 << 20


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    name: str
    media_type: str
    relationship: str  # PDF/A-3 AFRelationship: Data, Source, Supplement…
    description_key: str  # report catalogue key of its one-line description
    size: int  # bytes of the file itself
    sha256: str
    md5: str  # the PDF's /Params /CheckSum
    deflated: bytes  # the file as one zlib stream

    def data(self) -> bytes:
        """The whole file; for small files and tests (use ``write_to`` for big ones)."""
        return zlib.decompress(self.deflated)

    def chunks(self) -> Iterator[bytes]:
        inflate = zlib.decompressobj()
        view = memoryview(self.deflated)
        for start in range(0, len(view), _INFLATE_SLICE):
            piece = inflate.decompress(view[start : start + _INFLATE_SLICE])
            if piece:
                yield piece
        tail = inflate.flush()
        if tail:
            yield tail

    def write_to(self, out: BinaryIO) -> None:
        for piece in self.chunks():
            out.write(piece)


class DeflatingSink:
    """A write-only binary stream that hashes, counts and deflates what it is given."""

    def __init__(self, level: int = DEFLATE_LEVEL) -> None:
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._deflate = zlib.compressobj(level)
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._sha256.update(data)
        self._md5.update(data)
        self.size += len(data)
        out = self._deflate.compress(data)
        if out:
            self._parts.append(out)
        return len(data)

    def close_as(self, name: str, media_type: str, relationship: str, description_key: str) -> EvidenceFile:
        self._parts.append(self._deflate.flush())
        deflated = b"".join(self._parts)
        self._parts = []
        return EvidenceFile(
            name,
            media_type,
            relationship,
            description_key,
            self.size,
            self._sha256.hexdigest(),
            self._md5.hexdigest(),
            deflated,
        )


def evidence_file(
    pieces: Iterable[bytes], name: str, media_type: str, relationship: str, description_key: str
) -> EvidenceFile:
    sink = DeflatingSink()
    for piece in pieces:
        sink.write(piece)
    return sink.close_as(name, media_type, relationship, description_key)


def snapshot_file(snapshot: Snapshot) -> EvidenceFile:
    """The snapshot's canonical JSON (``auditor.evidence.canonical_json``) as an evidence
    file. Encoded on every call: a run keeps its file in its ``RunArtefacts``."""
    encoded = (piece.encode("utf-8") for piece in _batched(iter_snapshot_json(snapshot)))
    return evidence_file(encoded, SNAPSHOT_NAME, SNAPSHOT_MEDIA_TYPE, "Source", "attachment.snapshot")


def stored_snapshot_file(*, size: int, sha256: str, md5: str, deflated: bytes) -> EvidenceFile:
    """A snapshot's file from bytes already measured, hashed and deflated (the evidence
    store's blob, a report's attachment)."""
    return EvidenceFile(
        SNAPSHOT_NAME, SNAPSHOT_MEDIA_TYPE, "Source", "attachment.snapshot", size, sha256, md5, deflated
    )


def snapshot_sha256(snapshot: Snapshot) -> str:
    """SHA-256 of the snapshot's canonical JSON."""
    return snapshot_file(snapshot).sha256


def snapshot_json_chunks(snapshot: Snapshot) -> Iterator[bytes]:
    """The canonical JSON in chunks, encoded as they are asked for."""
    for piece in _batched(iter_snapshot_json(snapshot)):
        yield piece.encode("utf-8")


def _batched(pieces: Iterable[str], size: int = 256 * 1024) -> Iterator[str]:
    # The encoder yields many small pieces; hashing and deflating them one by one costs
    # more than joining them first.
    buffer: list[str] = []
    held = 0
    for piece in pieces:
        buffer.append(piece)
        held += len(piece)
        if held >= size:
            yield "".join(buffer)
            buffer, held = [], 0
    if buffer:
        yield "".join(buffer)
