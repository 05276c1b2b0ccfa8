"""What one run derives once and hands, explicitly, to every stage that needs it.

At a million accounts the snapshot's canonical JSON takes seconds to encode and the
run id, the evidence store and every report print its digest; the findings and coverage
CSVs are attached to the PDF and written again by the CSV renderer; the pseudonymised
edition is built once for all formats. These used to be module-global caches keyed by
object identity, so a result could depend on what was rendered before and lived past
its run. They are now two plain objects:

- ``RunArtefacts`` belongs to a snapshot: it is made with it (by collection, by the
  store when it loads a run, by verify from a report's attachment) and carried by the
  run's ``ReportContext``; its snapshot file is encoded at most once.
- ``ReportArtefacts`` belongs to one ``ReportContext`` (made fresh with each, so a
  context rebuilt with other options never sees the files of another): the evidence
  files its renderers share, and its pseudonymised edition.

Nothing here is global: when the run's objects are dropped, so are its files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.evidence.attachments import EvidenceFile, snapshot_file, snapshot_json_chunks, stored_snapshot_file
from auditor.model import Snapshot


class RunArtefacts:
    """A snapshot and the evidence file of its canonical JSON, encoded at most once."""

    __slots__ = ("_snapshot_file", "snapshot")

    def __init__(self, snapshot: Snapshot, snapshot_file: EvidenceFile | None = None) -> None:
        self.snapshot = snapshot
        self._snapshot_file = snapshot_file

    @classmethod
    def stored(cls, snapshot: Snapshot, *, size: int, sha256: str, md5: str, deflated: bytes) -> RunArtefacts:
        """A snapshot decoded from a file whose bytes are known (the evidence store's
        zlib stream, a report's attachment): its file is those bytes, nothing is encoded."""
        return cls(snapshot, stored_snapshot_file(size=size, sha256=sha256, md5=md5, deflated=deflated))

    @classmethod
    def of(cls, value: Snapshot | RunArtefacts) -> RunArtefacts:
        """The artefacts given, or fresh ones for a bare snapshot (a caller that holds
        the run's artefacts passes them, so the snapshot is encoded once per run)."""
        return value if isinstance(value, RunArtefacts) else cls(value)

    @property
    def snapshot_file(self) -> EvidenceFile:
        if self._snapshot_file is None:
            self._snapshot_file = snapshot_file(self.snapshot)
        return self._snapshot_file

    @property
    def snapshot_sha256(self) -> str:
        return self.snapshot_file.sha256

    def snapshot_json_chunks(self) -> Iterator[bytes]:
        """The canonical JSON in chunks: inflated from the file when it is made (about
        30x faster than encoding again), else encoded without keeping the file."""
        if self._snapshot_file is not None:
            return self._snapshot_file.chunks()
        return snapshot_json_chunks(self.snapshot)


class ReportArtefacts:
    """What the renderers of one report context make once and share."""

    __slots__ = ("_files", "pseudonymised")

    def __init__(self) -> None:
        self._files: dict[str, EvidenceFile] = {}
        # The context's pseudonymised edition (``auditor.render.pseudonym.prepare``),
        # typed loosely here: the interfaces module defines ReportContext and imports this one.
        self.pseudonymised: Any = None

    def file(self, name: str, make: Callable[[], EvidenceFile]) -> EvidenceFile:
        """The evidence file ``name``, made on first request."""
        found = self._files.get(name)
        if found is None:
            found = self._files[name] = make()
        return found
