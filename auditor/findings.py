"""A finding as every output shows it, in one place: the order findings come in
(``finding_order``) and the fields a finding becomes in JSON and CSV (``finding_fields``).

The engine's result, the report's JSON and CSV rows, ``mfa-audit check --json`` and the
history diffs all take them from here, so a field added or renamed is renamed everywhere."""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Protocol

from auditor.model import Severity


class FindingLike(Protocol):
    """What ``Finding`` and the views of a finding (``check``'s, ``history``'s) share."""

    @property
    def rule_id(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def source(self) -> str: ...
    @property
    def account_id(self) -> str | None: ...
    @property
    def portal_id(self) -> str | None: ...


# The order of the keys is the order of the JSON objects and the CSV columns.
FINDING_FIELDS = (
    "rule_id",
    "severity",
    "title",
    "source",
    "account_id",
    "principal",
    "portal_id",
    "portal_name",
    "message",
    "remediation",
)


def finding_order(f: FindingLike) -> tuple[int, str, str, str, str]:
    """Most severe first, then by rule, source, account, portal: the same findings
    always come out in the same order."""
    return (-f.severity.rank, f.rule_id, f.source, f.account_id or "", f.portal_id or "")


_GETTERS: dict[tuple[str, ...], attrgetter[Any]] = {}


def finding_fields(f: object, fields: tuple[str, ...] = FINDING_FIELDS) -> dict[str, Any]:
    """``fields`` of the finding (or a view of one) as a dict, the severity as its value.
    One C-level ``attrgetter`` per field set: the report writes a row per finding."""
    getter = _GETTERS.get(fields)
    if getter is None:
        getter = _GETTERS[fields] = attrgetter(*fields)
    data = dict(zip(fields, getter(f), strict=True))
    if "severity" in data:
        data["severity"] = data["severity"].value
    return data
