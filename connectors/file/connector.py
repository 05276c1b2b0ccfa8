"""The ``file`` connector: reads one export file (CSV or JSON) as a source.

Read-only and offline. A file that is missing or unreadable makes the source
unavailable (the audit goes on, the source is reported incomplete); a file whose
content is malformed is the user's input error (``InputDataError``), named by file,
line / record and column / field.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from auditor.interfaces import CollectContext, InputDataError, PermissionCheck, SourceUnavailable
from auditor.model import PageDigest, SourceIssue, SourceName, SourceSnapshot
from connectors.file import codes
from connectors.file.csv_format import parse_csv
from connectors.file.facts import csv_facts, json_facts
from connectors.file.json_format import parse_json
from connectors.file.settings import FileFormat, parse_settings

CONNECTOR_NAME = "file"


class FileConnector:
    def __init__(self, source: str, settings: Mapping[str, Any], base_dir: Path) -> None:
        self.source = SourceName(source)
        self.settings = parse_settings(settings, base_dir)

    def _read(self) -> bytes:
        path = self.settings.path
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise SourceUnavailable(f"{path}: export file not found") from None
        except IsADirectoryError:
            raise SourceUnavailable(f"{path}: is a folder, expected an export file") from None
        except OSError as exc:
            raise SourceUnavailable(f"{path}: cannot be read: {exc.strerror}") from None

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        raw = self._read()
        path = self.settings.path
        snap = self._from_json(raw, ctx) if self.settings.format is FileFormat.JSON else self._from_csv(raw, ctx)
        if ctx.collect_sign_ins and not snap.sign_ins_collected:
            # Not an incomplete source: the export simply holds no sign-in log, and the
            # report says MFA-011 could not look at this source.
            snap = replace(
                snap,
                issues=(
                    *snap.issues,
                    SourceIssue(codes.NO_SIGN_INS, f"{path.name} holds no sign-in log; sign-ins were not checked"),
                ),
            )
        ctx.logger.info("source %s: %d accounts read from %s", ctx.source, len(snap.accounts), path)
        return snap

    def _from_json(self, raw: bytes, ctx: CollectContext) -> SourceSnapshot:
        snap = parse_json(raw, self.settings.path)
        source = SourceName(ctx.source)
        snap = replace(
            snap,
            source=source,
            connector=CONNECTOR_NAME,
            accounts=tuple(replace(a, source=source) for a in snap.accounts),
            portals=tuple(replace(p, source=source) for p in snap.portals),
        )
        if not ctx.collect_sign_ins and snap.sign_ins_collected:
            snap = replace(snap, sign_ins=(), sign_ins_collected=False)  # the config did not ask for them
        return replace(snap, facts=json_facts(snap))

    def _from_csv(self, raw: bytes, ctx: CollectContext) -> SourceSnapshot:
        path = self.settings.path
        try:
            text = raw.decode("utf-8-sig")  # spreadsheet exports often start with a BOM
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise InputDataError(f"{path}:{line}: not UTF-8 text (byte {exc.start})") from None
        source = SourceName(ctx.source)
        contents = parse_csv(text, path, source, self.settings.portals)
        return SourceSnapshot(
            source=source,
            connector=CONNECTOR_NAME,
            collected_at=ctx.now,
            complete=True,
            accounts=contents.accounts,
            portals=contents.portals,
            access=contents.access,
            policies=contents.policies,
            expected_counts={"accounts": len(contents.accounts)},
            raw_digests=(PageDigest(path.name, hashlib.sha256(raw).hexdigest(), len(contents.accounts)),),
            facts=csv_facts(),
        )

    def check_access(self) -> tuple[PermissionCheck, ...]:
        path = self.settings.path
        purpose = f"read the {self.settings.format.value.upper()} export"
        if not path.exists():
            return (PermissionCheck(f"read {path}", purpose, False, "the file does not exist"),)
        if not path.is_file():
            return (PermissionCheck(f"read {path}", purpose, False, "not a regular file"),)
        readable = os.access(path, os.R_OK)
        return (PermissionCheck(f"read {path}", purpose, readable, "" if readable else "permission denied"),)
