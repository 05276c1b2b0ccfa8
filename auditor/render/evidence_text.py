"""The evidence a finding's row shows, in the reader's language: the weak method and the
requirement (MFA-005), the condition (MFA-004), the number of single-factor sign-ins
(MFA-011), the exception and its portals (MFA-009)…

Built from the finding's structured evidence (enum values, counts, dates, policy names),
never from the engine's English sentences, so the French edition says it in French.
Vendor data (policy names, a condition's detail) is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from auditor.model import ConditionKind, Finding, PolicyId, Snapshot
from auditor.render.i18n import Translator

_METHOD = re.compile(r"([a-z0-9_]+) \(")
_POLICY_ID = re.compile(r"\(([^()]+)\)(?:;|$)")


def _kinds(methods: str) -> list[str]:
    """Method kinds from the evidence's "kind (vendor label, status), …"."""
    return list(dict.fromkeys(_METHOD.findall(methods or "")))


def _methods(t: Translator, methods: str) -> str:
    kinds = _kinds(methods)
    if not kinds:
        return t("evidence.no_method")
    return ", ".join(t.get(f"method.{k}", k) for k in kinds)


def _day(t: Translator, value: str) -> str:
    try:
        return t.date(datetime.fromisoformat(value).date())
    except ValueError:
        try:
            return t.date(date.fromisoformat(value))
        except ValueError:
            return value


def _conditions(t: Translator, snapshot: Snapshot | None, source: str, policies: str) -> str:
    """The conditions of the policies a row names (``Name (id); …``), kind in words and the
    vendor's detail."""
    if snapshot is None:
        return ""
    ids = {PolicyId(m) for m in _POLICY_ID.findall(policies or "")}
    parts: list[str] = []
    for snap in snapshot.sources:
        if snap.source != source:
            continue
        for policy in snap.policies:
            if policy.id not in ids:
                continue
            for rule in policy.rules:
                for c in rule.conditions:
                    kind = t.get(f"condition.{c.kind.value}", c.kind.value)
                    text = (
                        kind
                        if c.kind is ConditionKind.ALTERNATIVE_CONTROL or not c.detail
                        else f"{kind}{t('common.colon')} {c.detail}"
                    )
                    if text not in parts:
                        parts.append(text)
    return "; ".join(parts)


def evidence_text(t: Translator, f: Finding, snapshot: Snapshot | None = None) -> str:
    """One line of evidence for a finding's row."""
    e: Mapping[str, str] = f.evidence
    required = t.get(f"strength.{e.get('required', '')}", e.get("required", ""))
    rule = f.rule_id
    if rule == "MFA-001":
        return t("evidence.not_enrolled", required=required)
    if rule == "MFA-002":
        return t("evidence.not_enforced", methods=_methods(t, e.get("methods", "")), required=required)
    if rule == "MFA-003":
        return t("evidence.report_only", policies=e.get("policies", "") or "–")
    if rule == "MFA-004":
        conditions = _conditions(t, snapshot, e.get("enforcement_source", f.source), e.get("policies", ""))
        return t("evidence.conditional", policies=e.get("policies", "") or "–", conditions=conditions or "–")
    if rule == "MFA-005":
        return t(
            "evidence.weak",
            methods=_methods(t, e.get("methods", "")),
            enrolled=t.get(f"strength.{e.get('enrolled', '')}", e.get("enrolled", "")),
            required=required,
        )
    if rule == "MFA-006":
        portals = [p for p in e.get("portals", "").split("; ") if p]
        return t(
            "evidence.privileged",
            methods=_methods(t, e.get("methods", "")),
            required=required,
            portals=t.number(len(portals)),
        )
    if rule == "MFA-007":
        return t("evidence.excluded", policies=e.get("excluded_by", "") or "–")
    if rule == "MFA-008":
        last = e.get("last_sign_in")
        days = e.get("dormant_after_days", "")
        if last:
            return t("evidence.dormant", last=_day(t, last), days=days)
        return t("evidence.dormant_never", days=days)
    if rule == "MFA-009":
        return t(
            "evidence.expired",
            exception=e.get("exception", ""),
            portals=e.get("portals", "") if e.get("portals") != "every portal" else t("common.all_portals"),
            expires=_day(t, e.get("expires", "")),
        )
    if rule == "MFA-011":
        count = int(e.get("sign_ins", "0") or 0)
        key = "evidence.sign_ins_one" if count == 1 else "evidence.sign_ins_many"
        return t(key, count=t.number(count), first=_day(t, e.get("first", "")), last=_day(t, e.get("last", "")))
    if rule == "MFA-010":
        return t("evidence.incomplete", source=f.source)
    if rule == "MFA-012":
        return t("evidence.legacy", source=f.source, accounts=t.number(int(e.get("enabled_accounts", "0") or 0)))
    return t.finding_message(f)
