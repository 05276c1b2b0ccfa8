"""The report's history sections (trend, "since the last report") as manifest data, and
back, validated.

They come from the evidence store, not from the run's own evidence, so a report
carries them in its manifest: ``mfa-audit verify`` re-renders the pages with them and
checks the pages print exactly that. It cannot re-derive them (the previous run's
evidence is not in this file); it names the previous run whose figures they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from auditor.model import Severity
from auditor.queries.history import (
    CoverageChange,
    FindingRef,
    SinceLast,
    TrendPoint,
    ref_to_data,
    since_last_to_data,
    trend_to_data,
)

MAX_ITEMS = 1000


class HistoryDataError(ValueError):
    """The manifest's history is not what this tool writes."""


def history_to_data(extra: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    trend = extra.get("trend")
    if trend:
        out["trend"] = trend_to_data(trend)
    since = extra.get("since_last")
    if isinstance(since, SinceLast):
        data = since_last_to_data(since)
        # CoverageChange's figures are derived from these four: only they are kept.
        data["portals"] = [
            {
                "key": c.key,
                "label": c.label,
                "total_before": c.total_before,
                "protected_before": c.protected_before,
                "total_after": c.total_after,
                "protected_after": c.protected_after,
            }
            for c in since.portals
        ]
        out["since_last"] = data
    keys = extra.get("persisting_keys")
    if keys:
        # The findings also present in the previous run: the report prints their first
        # quarter from these, so verify must re-render with the same set.
        out["persisting_keys"] = sorted([list(k) for k in keys])
    return out


# A finding key (rule, source, account, portal) per persisting finding: as many as findings.
MAX_KEYS = 5_000_000


def _persisting(value: Any) -> frozenset[tuple[str, str, str, str]]:
    if not isinstance(value, list) or len(value) > MAX_KEYS:
        raise HistoryDataError(f"history.persisting_keys: expected a list of at most {MAX_KEYS} keys")
    out = set()
    for i, k in enumerate(value):
        if not (isinstance(k, list) and len(k) == 4 and all(isinstance(x, str) and len(x) <= 10_000 for x in k)):
            raise HistoryDataError(f"history.persisting_keys[{i}]: expected (rule, source, account, portal)")
        out.add((k[0], k[1], k[2], k[3]))
    return frozenset(out)


def history_from_data(data: Any) -> dict[str, Any]:
    """``ReportContext.extra`` entries (``trend``, ``since_last``) from manifest data."""
    if data is None:
        return {}
    obj = _mapping(data, "history")
    out: dict[str, Any] = {}
    if "trend" in obj:
        out["trend"] = tuple(_trend_point(p, f"history.trend[{i}]") for i, p in enumerate(_list(obj["trend"], "trend")))
    if "since_last" in obj:
        out["since_last"] = _since_last(_mapping(obj["since_last"], "history.since_last"))
    if "persisting_keys" in obj:
        out["persisting_keys"] = _persisting(obj["persisting_keys"])
    return out


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise HistoryDataError(f"{where}: expected an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise HistoryDataError(f"{where}: expected a list of at most {MAX_ITEMS} items")
    return value


def _str(obj: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > 10_000:
        raise HistoryDataError(f"{where}.{key}: expected text")
    return value


def _int(obj: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise HistoryDataError(f"{where}.{key}: expected a count")
    return value


def _ratio(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise HistoryDataError(f"{where}.{key}: expected a ratio between 0 and 1")
    return float(value)


def _bool(obj: Mapping[str, Any], key: str, where: str) -> bool:
    value = obj.get(key)
    if not isinstance(value, bool):
        raise HistoryDataError(f"{where}.{key}: expected true or false")
    return value


def _severities(value: Any, where: str) -> dict[Severity, int]:
    obj = _mapping(value, where)
    try:
        return {Severity(k): _int(obj, k, where) for k in obj}
    except ValueError:
        raise HistoryDataError(f"{where}: unknown severity") from None


def _trend_point(value: Any, where: str) -> TrendPoint:
    p = _mapping(value, where)
    try:
        at = datetime.fromisoformat(_str(p, "evaluated_at", where))
    except ValueError:
        raise HistoryDataError(f"{where}.evaluated_at: expected an ISO date-time") from None
    if at.tzinfo is None:
        raise HistoryDataError(f"{where}.evaluated_at: expected a time zone")
    return TrendPoint(
        period=_str(p, "period", where),
        run_id=_str(p, "run_id", where),
        evaluated_at=at,
        protected_ratio=_ratio(p, "protected_ratio", where),
        sensitive_accesses=_int(p, "sensitive_accesses", where),
        sensitive_protected=_int(p, "sensitive_protected", where),
        sensitive_unknown=_int(p, "sensitive_unknown", where),
        complete=_bool(p, "complete", where),
        findings_by_severity=_severities(p.get("findings_by_severity"), f"{where}.findings_by_severity"),
    )


def _ref(value: Any, where: str) -> FindingRef:
    r = _mapping(value, where)
    try:
        severity = Severity(str(r.get("severity")))
    except ValueError:
        raise HistoryDataError(f"{where}.severity: unknown severity") from None
    ref = FindingRef(
        rule_id=_str(r, "rule_id", where),
        severity=severity,
        title=_str(r, "title", where),
        source=_str(r, "source", where),
        account_id=_str(r, "account_id", where, optional=True),
        principal=_str(r, "principal", where, optional=True),
        portal_id=_str(r, "portal_id", where, optional=True),
        portal_name=_str(r, "portal_name", where, optional=True),
        message=_str(r, "message", where),
    )
    if ref_to_data(ref) != dict(r):
        raise HistoryDataError(f"{where}: unexpected keys")
    return ref


def _change(value: Any, where: str) -> CoverageChange:
    c = _mapping(value, where)
    return CoverageChange(
        key=_str(c, "key", where),
        label=_str(c, "label", where),
        total_before=_int(c, "total_before", where, optional=True),
        protected_before=_int(c, "protected_before", where, optional=True),
        total_after=_int(c, "total_after", where, optional=True),
        protected_after=_int(c, "protected_after", where, optional=True),
    )


def _since_last(s: Mapping[str, Any]) -> SinceLast:
    w = "history.since_last"
    counts = _mapping(s.get("counts"), f"{w}.counts")
    return SinceLast(
        previous_run_id=_str(s, "previous_run_id", w),
        previous_period=_str(s, "previous_period", w),
        current_run_id=_str(s, "current_run_id", w),
        current_period=_str(s, "current_period", w),
        ratio_before=_ratio(s, "ratio_before", w),
        ratio_after=_ratio(s, "ratio_after", w),
        new_count=_int(counts, "new", f"{w}.counts"),
        resolved_count=_int(counts, "resolved", f"{w}.counts"),
        persisting_count=_int(counts, "persisting", f"{w}.counts"),
        new_by_severity=_severities(s.get("new_by_severity"), f"{w}.new_by_severity"),
        resolved_by_severity=_severities(s.get("resolved_by_severity"), f"{w}.resolved_by_severity"),
        persisting_by_severity=_severities(s.get("persisting_by_severity"), f"{w}.persisting_by_severity"),
        top_new=tuple(_ref(r, f"{w}.top_new[{i}]") for i, r in enumerate(_list(s.get("top_new"), "top_new"))),
        top_resolved=tuple(
            _ref(r, f"{w}.top_resolved[{i}]") for i, r in enumerate(_list(s.get("top_resolved"), "top_resolved"))
        ),
        top_persisting=tuple(
            _ref(r, f"{w}.top_persisting[{i}]") for i, r in enumerate(_list(s.get("top_persisting"), "top_persisting"))
        ),
        portals=tuple(_change(c, f"{w}.portals[{i}]") for i, c in enumerate(_list(s.get("portals"), "portals"))),
        same_rule_set=_bool(s, "same_rule_set", w),
    )
