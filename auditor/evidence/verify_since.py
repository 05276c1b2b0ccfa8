"""``verify REPORT.pdf --previous PREVIOUS.pdf``: the "since the last report" figures,
re-derived.

A report's history sections come from the evidence store, so the report alone cannot
prove them: its manifest names the previous run they were computed against. Given that
run's report, verify has both runs' evidence. It stores the two re-evaluated runs in a
throwaway evidence store and asks it the question a run asks (``queries.history``:
``diff_runs`` then ``since_last``, the trend points), so the figures are derived by the
very code that printed them, and compares them with what the manifest records (the
page check has already proved that the pages print the manifest's figures).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.evidence.run_artefacts import RunArtefacts
from auditor.evidence.verify_manifest import Manifest
from auditor.evidence.verify_result import Check
from auditor.interfaces import AuditorError
from auditor.model import AuditResult

NAME = "since the last report"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One report's evidence, re-evaluated: what a stored run holds."""

    path: Path
    manifest: Manifest
    config_digest: str
    config_text: str
    run: RunArtefacts
    result: AuditResult
    config: Any  # the parsed AuditConfig


def since_last_checks(current: Evidence, previous: Evidence, recorded: Mapping[str, Any] | None) -> list[Check]:
    """One check: the manifest's since-last figures (and the two runs' trend points) are
    what the two runs' evidence gives."""
    from auditor.evidence.verify_history import history_to_data
    from auditor.queries import history
    from auditor.store.database import EvidenceStore

    recorded = recorded if isinstance(recorded, Mapping) else {}
    since = recorded.get("since_last")
    if not isinstance(since, Mapping):
        return [Check(NAME, False, "--previous was given but this report prints no 'since the last report' figures")]
    against = since.get("previous_run_id")
    if against != previous.manifest.run_id:
        return [
            Check(
                NAME,
                False,
                f"the figures are against run {against!s:.80}; {previous.path.name} is run {previous.manifest.run_id}",
            )
        ]
    if current.manifest.pseudonymised != previous.manifest.pseudonymised:
        why = "one report is pseudonymised and the other is not: their accounts cannot be matched"
        return [Check(NAME, False, why)]
    if previous.manifest.evaluated_at >= current.manifest.evaluated_at:
        return [Check(NAME, False, f"{previous.path.name} was not evaluated before this report")]
    try:
        with tempfile.TemporaryDirectory(prefix="mfa-verify-") as folder:
            store = EvidenceStore(Path(folder) / "evidence.sqlite3")
            for ev in (previous, current):
                store.save_run(ev.result, ev.run, ev.config_digest, ev.config_text)
            before, after = store.load_run(previous.manifest.run_id), store.load_run(current.manifest.run_id)
            diff = history.diff_runs(before, after)
            derived = history_to_data(
                {
                    "since_last": history.since_last(diff),
                    "persisting_keys": frozenset(p.after.key for p in diff.persisting),
                }
            )
            trend = _as_json(history_to_data({"trend": history.trend(store.runs())}))["trend"]
            points = {p["run_id"]: p for p in trend}
            derived = _as_json(derived)
    except AuditorError as exc:
        return [Check(NAME, False, f"the two runs cannot be compared: {str(exc)[:300]}")]
    differing = [key for key in ("since_last", "persisting_keys") if derived.get(key) != recorded.get(key)]
    if isinstance(derived.get("since_last"), dict):
        differing = _fields(derived["since_last"], since) + [k for k in differing if k != "since_last"]
    printed = recorded.get("trend")
    for point in printed if isinstance(printed, list) else []:
        run_id = point.get("run_id") if isinstance(point, dict) else None
        if run_id in points and points[run_id] != point:
            differing.append(f"trend point of run {run_id}")
    if differing:
        return [Check(NAME, False, f"differs from what the two runs' evidence gives: {', '.join(differing)[:300]}")]
    return [
        Check(
            NAME,
            True,
            f"re-derived from {previous.path.name} (run {previous.manifest.run_id}): the figures printed are the "
            "two runs' evidence",
        )
    ]


def _as_json(data: dict[str, Any]) -> Any:
    """As the manifest holds it (tuples become lists, keys strings): compared like for like."""
    return json.loads(json.dumps(data, ensure_ascii=False, sort_keys=True))


def _fields(derived: Mapping[str, Any], recorded: Mapping[str, Any]) -> list[str]:
    return [key for key in sorted(derived.keys() | recorded.keys()) if derived.get(key) != recorded.get(key)]
