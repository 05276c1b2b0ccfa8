"""A finding as every output shows it, in one place: the order findings come in
(``finding_order``) and the fields a finding becomes in JSON and CSV (``finding_fields``).

The engine's result, the report's JSON and CSV rows, ``mfa-audit check --json`` and the
history diffs all take them from here, so a field added or renamed is renamed everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Protocol

from auditor.model import Finding, Severity


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


_SHOWN = attrgetter(*FINDING_FIELDS)


@dataclass(frozen=True, slots=True)
class FindingRef:
    """A finding as a reader of stored runs shows it (``check``, ``history``): its shown
    fields, without the evidence and references a report attaches. ``remediation`` is
    empty where the reader gives no advice (a diff)."""

    rule_id: str
    severity: Severity
    title: str
    source: str
    account_id: str | None
    principal: str | None
    portal_id: str | None
    portal_name: str | None
    message: str
    remediation: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """As ``Finding.key``: the identity of a finding across runs."""
        return (self.rule_id, self.source, self.account_id or "", self.portal_id or "")

    @classmethod
    def of(cls, f: Finding, *, advice: bool = True) -> FindingRef:
        shown = _SHOWN(f)  # FINDING_FIELDS, remediation last
        return cls(*shown) if advice else cls(*shown[:-1])
