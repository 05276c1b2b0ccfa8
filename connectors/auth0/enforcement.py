"""Auth0 enforcement → policies: the tenant MFA policy (``/guardian/policies``), the
enabled factors (``/guardian/factors`` → the methods policy), and post-login Actions
read statically.

Reading an Action's code is a heuristic, so only shapes that are obvious count as
enforcement: ``api.multifactor.enable(...)`` as the handler's only statements (every
application), or inside one ``if`` whose condition compares the application
(``event.client.client_id`` / ``event.client.name``) with literals. Any other code that
mentions the multifactor API is *unknown* for the applications it may touch, with an
issue naming the action: never counted as enforced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.model import (
    Condition,
    ConditionKind,
    MethodAllowance,
    MethodKind,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    PortalId,
    PortalScope,
    Requirement,
    Scope,
    SourceIssue,
    Strength,
    requirement_for_strength,
)

TENANT_POLICY_KIND = "auth0_mfa_policy"
ACTION_KIND = "auth0_post_login_action"
ALL_APPLICATIONS = "all-applications"
CONFIDENCE_SCORE = "confidence-score"

# Guardian factor name → the method kinds it lets users use.
FACTOR_KINDS: Mapping[str, tuple[MethodKind, ...]] = {
    "sms": (MethodKind.SMS, MethodKind.VOICE),  # the phone factor: SMS or voice messages
    "push-notification": (MethodKind.AUTHENTICATOR_PUSH,),
    "otp": (MethodKind.TOTP_SOFTWARE,),
    "email": (MethodKind.EMAIL_OTP,),
    "webauthn-roaming": (MethodKind.FIDO2_SECURITY_KEY,),
    "webauthn-platform": (MethodKind.PLATFORM_AUTHENTICATOR,),
}
NOT_FACTORS = frozenset({"recovery-code"})
# A Guardian enrolment of unstated kind is usable when any Guardian factor is on.
_GUARDIAN_FACTORS = ("sms", "push-notification", "otp")


def demanded(allowances: Iterable[MethodAllowance], accepted: tuple[MethodKind, ...] = ()) -> Requirement:
    """What Auth0's MFA demands: the strength of the weakest enabled factor it accepts
    (the weakest way to satisfy it). Unknown factors (not read): any second factor."""
    strengths = [
        a.kind.strength
        for a in allowances
        if a.enabled and a.kind is not MethodKind.UNSPECIFIED_SECOND_FACTOR and (not accepted or a.kind in accepted)
    ]
    if not strengths:
        return Requirement.MFA if not accepted else requirement_for_strength(min(k.strength for k in accepted))
    weakest = min(strengths, key=lambda st: st.rank)
    return Requirement.MFA if weakest is Strength.NONE else requirement_for_strength(weakest)


def tenant_policies(
    values: Iterable[Any], requirement: Requirement = Requirement.MFA
) -> tuple[tuple[Policy, ...], list[SourceIssue]]:
    """``[]``: MFA never required by the tenant; ``all-applications``: always;
    ``confidence-score``: adaptive (only when the risk assessment asks: conditional).
    ``requirement``: what the enabled factors make MFA demand (``demanded``)."""
    out: list[Policy] = []
    issues: list[SourceIssue] = []
    for value in values:
        if value == ALL_APPLICATIONS:
            conditions: tuple[Condition, ...] = ()
        elif value == CONFIDENCE_SCORE:
            conditions = (Condition(ConditionKind.RISK, "Adaptive MFA: only when the login's confidence is low"),)
        else:
            issues.append(
                SourceIssue(
                    "auth0.unknown_mfa_policy",
                    f"tenant MFA policy {str(value)[:40]!r} is not one the connector knows: enforcement unknown",
                    incomplete=True,
                )
            )
            continue
        rule = PolicyRule(
            f"guardian:{value}",
            f"Tenant MFA policy: {value}",
            Scope(include_all=True),
            PortalScope(all=True),
            requirement,
            conditions,
        )
        out.append(
            Policy(
                PolicyId(f"guardian:{value}"),
                "Tenant multi-factor policy",
                PolicyState.ENFORCED,
                (rule,),
                TENANT_POLICY_KIND,
            )
        )
    return tuple(out), issues


def method_policy(factors: Iterable[Mapping[str, Any]]) -> tuple[tuple[MethodAllowance, ...], list[SourceIssue]]:
    allowed: dict[MethodKind, tuple[bool, str]] = {}
    issues: list[SourceIssue] = []
    enabled_names: set[str] = set()
    for f in factors:
        name, enabled = str(f.get("name") or ""), f.get("enabled") is True and f.get("trial_expired") is not True
        if enabled:
            enabled_names.add(name)
        if name in NOT_FACTORS:
            continue
        kinds = FACTOR_KINDS.get(name)
        if kinds is None:
            if enabled:
                issues.append(
                    SourceIssue(
                        "auth0.unknown_factor",
                        f"MFA factor {name[:40]!r} is enabled but its enrolments are not visible to the connector "
                        "(e.g. Duo keeps them): users relying on it are counted without that factor",
                    )
                )
            continue
        for kind in kinds:
            previous = allowed.get(kind)
            if previous is None or (enabled and not previous[0]):
                allowed[kind] = (enabled, name)
    guardian = any(n in enabled_names for n in _GUARDIAN_FACTORS)
    allowed[MethodKind.UNSPECIFIED_SECOND_FACTOR] = (guardian, "guardian")
    out = tuple(
        MethodAllowance(kind, enabled, Scope(include_all=True), label)
        for kind, (enabled, label) in sorted(allowed.items(), key=lambda kv: kv[0].value)
    )
    return out, issues


# --- post-login Actions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionReading:
    """What an action's code says about MFA. ``kind``: "none" (no multifactor call),
    "enforce" (obvious), "unknown" (anything else; ``reason`` says why)."""

    kind: str
    portals: PortalScope = field(default_factory=PortalScope)
    accepted: tuple[MethodKind, ...] = ()
    conditions: tuple[Condition, ...] = ()
    reason: str = ""


# The APIs through which a post-login action asks for a second factor: the multifactor
# API, and the factor challenge / enrolment of ``api.authentication`` (challengeWith,
# challengeWithAny, enrollWith, enrollWithAny), which the connector does not read as
# enforcement (never "enforced"), only as "this action may require MFA".
_MFA_API = re.compile(r"multifactor|\.authentication\s*\.\s*(?:challenge|enroll)With")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_HANDLER = re.compile(
    r"exports\.onExecutePostLogin\s*=\s*(?:async\s+)?(?:function\s*\w*\s*)?\(\s*(\w+)\s*,\s*(\w+)\s*\)\s*(?:=>\s*)?\{"
)
_STR = r"""(?:'([^'\\]*)'|"([^"\\]*)")"""
_PROVIDERS: Mapping[str, tuple[MethodKind, ...]] = {
    "any": (),
    "guardian": (),
    "google-authenticator": (MethodKind.TOTP_SOFTWARE,),
}


def _block(code: str, start: int) -> tuple[str, int] | None:
    """The text between the brace before ``start`` and its match, ignoring braces in strings."""
    depth, i, quote = 1, start, ""
    while i < len(code):
        c = code[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return code[start:i], i + 1
        i += 1
    return None


def _enable_call(stmt: str, api: str) -> tuple[str, bool] | None:
    """(provider, allowRememberBrowser) of a bare ``api.multifactor.enable(...)`` statement."""
    m = re.fullmatch(
        rf"{api}\.multifactor\.enable\(\s*{_STR}\s*(?:,\s*\{{\s*allowRememberBrowser\s*:\s*(true|false)\s*,?\s*\}}\s*)?\)",
        stmt,
    )
    if m is None:
        return None
    return (m.group(1) if m.group(1) is not None else m.group(2)), m.group(3) == "true"


def _if_statement(body: str) -> tuple[str, str] | None:
    """(condition, statements) of a body that is one ``if (…) {…}`` or ``if (…) stmt;``
    and nothing else (no ``else``)."""
    open_at = body.index("(")
    depth, i = 0, open_at
    while i < len(body):
        depth += {"(": 1, ")": -1}.get(body[i], 0)
        if depth == 0:
            break
        i += 1
    else:
        return None
    cond, rest = body[open_at + 1 : i], body[i + 1 :].strip()
    if rest.startswith("{"):
        found = _block(rest, 1)
        if found is None:
            return None
        inner, after = found
        tail = rest[after:].strip().lstrip(";").strip()
        return (cond, inner) if not tail else None
    if rest.count(";") <= 1 and rest.rstrip().rstrip(";").count(";") == 0:
        return cond, rest
    return None


def _statements(body: str) -> list[str]:
    return [s.strip() for s in body.split(";") if s.strip()]


def _client_condition(cond: str, event: str, names: Mapping[str, str]) -> PortalScope | None:
    """A condition that only compares the application with literals, as a portal scope."""
    cond = cond.strip()
    field = rf"{event}\.client\.(client_id|name)"
    ors = [c.strip() for c in cond.split("||")]
    ids: list[str] = []
    for part in ors:
        m = re.fullmatch(rf"\(?\s*{field}\s*===?\s*{_STR}\s*\)?", part) or re.fullmatch(
            rf"\(?\s*{_STR}\s*===?\s*{field}\s*\)?", part
        )
        if m is not None:
            groups = [g for g in m.groups() if g is not None]
            key = "client_id" if "client_id" in groups else "name"
            literal = groups[1] if groups[0] in ("client_id", "name") else groups[0]
            found = _client_id(key, literal, names)
            if found is None:
                return None
            ids.append(found)
            continue
        m = re.fullmatch(rf"\[\s*((?:{_STR}\s*,?\s*)+)\]\s*\.includes\(\s*{field}\s*\)", part)
        if m is None:
            ids = []
            break
        key = m.groups()[-1]
        for a, b in re.findall(_STR, m.group(1)):
            found = _client_id(key, a or b, names)
            if found is None:
                return None
            ids.append(found)
    if ids:
        return PortalScope(ids=tuple(PortalId(i) for i in sorted(set(ids))))
    # Every application but some: a conjunction of "!==" comparisons.
    excluded: list[str] = []
    for part in (c.strip() for c in cond.split("&&")):
        m = re.fullmatch(rf"\(?\s*{field}\s*!==?\s*{_STR}\s*\)?", part)
        if m is None:
            return None
        found = _client_id(m.group(1), m.group(2) if m.group(2) is not None else m.group(3), names)
        if found is None:
            return None
        excluded.append(found)
    return PortalScope(all=True, excluded_ids=tuple(PortalId(i) for i in sorted(set(excluded))))


def _client_id(key: str, literal: str, names: Mapping[str, str]) -> str | None:
    if key == "client_id":
        return literal
    return names.get(literal)


def read_action(code: str, client_names: Mapping[str, str]) -> ActionReading:
    """``client_names``: application name → client_id (for ``event.client.name`` tests)."""
    text = _COMMENTS.sub("", code)
    if not _MFA_API.search(text):
        return ActionReading("none")
    handler = _HANDLER.search(text)
    if handler is None:
        return ActionReading("unknown", reason="no onExecutePostLogin handler found in the code")
    event, api = handler.group(1), handler.group(2)
    found = _block(text, handler.end())
    if found is None:
        return ActionReading("unknown", reason="the handler's body could not be delimited")
    body, end = found
    if _MFA_API.search(text[end:]) or _MFA_API.search(text[: handler.start()]):
        return ActionReading("unknown", reason="the multifactor API is used outside the handler's body")
    body = " ".join(body.split())
    scope = PortalScope(all=True)
    if re.match(r"if\s*\(", body):
        split = _if_statement(body)
        if split is None:
            return ActionReading("unknown", reason="MFA is enabled under code the connector does not read statically")
        cond, inner = split
        if re.search(r"\b(if|else|return|for|while|switch)\b", inner):
            return ActionReading("unknown", reason="nested logic around api.multifactor.enable")
        portals = _client_condition(cond, event, client_names)
        if portals is None:
            return ActionReading(
                "unknown",
                reason="MFA is enabled under a condition that is not only on the application "
                "(its text is not copied: code may hold literals)",
            )
        scope, body = portals, inner
    stmts = _statements(body)
    calls = [_enable_call(s, api) for s in stmts]
    if not calls or any(c is None for c in calls):
        return ActionReading("unknown", reason="the handler does more than call api.multifactor.enable")
    provider, remember = next(c for c in calls if c is not None)
    if any(c != (provider, remember) for c in calls):
        return ActionReading("unknown", reason="several different api.multifactor.enable calls")
    if provider not in _PROVIDERS:
        why = (
            "provider 'none' switches MFA off for these logins"
            if provider == "none"
            else f"provider {provider[:30]!r}: its enrolments are not visible to the connector"
        )
        return ActionReading("unknown", reason=why)
    conditions = (
        (Condition(ConditionKind.DEVICE, "allowRememberBrowser: a remembered browser skips MFA"),) if remember else ()
    )
    return ActionReading("enforce", scope, _PROVIDERS[provider], conditions)


def action_policy(
    action_id: str, name: str, reading: ActionReading, requirement: Requirement = Requirement.MFA
) -> Policy:
    rule = PolicyRule(
        f"action:{action_id}",
        f"Post-login action {name}",
        Scope(include_all=True),
        reading.portals,
        requirement,
        reading.conditions,
        reading.accepted,
    )
    return Policy(
        PolicyId(f"action:{action_id}"), f"Post-login action {name}", PolicyState.ENFORCED, (rule,), ACTION_KIND
    )
