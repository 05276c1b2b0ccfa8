"""Kept whole on purpose: the pure, table-driven mapping of Conditional Access; its tables
are most of the lines and are tested as one.

Conditional Access, authentication strengths, security defaults and per-user MFA
mapped to the model's ``Policy`` (pure functions; table-tested).

The judgement calls, as ARCHITECTURE.md states them:
- a condition is emitted only when it leaves some sign-ins out (all locations with
  none excluded, all platforms, both modern client kinds: no condition);
- client app types that name only legacy protocols leave every modern sign-in
  untouched: such a policy is mapped with requirement ``none`` (legacy protocols are
  judged on their own, through ``legacy_auth_blocked``);
- an authentication strength demands what its weakest accepted combination gives
  (a "multifactor" strength that accepts SMS demands only ``mfa``);
- ``mfa`` OR a non-MFA control (compliant device, approved app, terms of use…) can
  be met without MFA: requirement ``mfa`` with an ``alternative_control`` condition;
- a policy that targets only user actions or authentication contexts protects no
  portal: its rule has an empty portal scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.model import (
    AccountId,
    Condition,
    ConditionKind,
    GroupId,
    MethodKind,
    Policy,
    PolicyId,
    PolicyRule,
    PolicyState,
    PortalId,
    PortalScope,
    Requirement,
    RoleId,
    Scope,
    SourceIssue,
    Strength,
    requirement_for_strength,
)
from connectors.entra import app_groups, codes
from connectors.entra.parse import AppInfo

VENDOR_KIND = "conditional_access"

_STATES = {
    "enabled": PolicyState.ENFORCED,
    "enabledForReportingButNotEnforced": PolicyState.REPORT_ONLY,
    "disabled": PolicyState.DISABLED,
}

# Authentication method modes (``allowedCombinations`` items split on ","), every member
# of Graph's ``authenticationMethodModes`` (v1.0 and beta). Each mode is rated twice:
# what it is *alone* (a combination of that one mode), and what it adds as the *second*
# factor next to a password or a federated first factor. SMS, voice and e-mail codes,
# OATH codes, an Authenticator push and a single-factor certificate are one factor
# alone (SMS sign-in, e-mail code sign-in) and a second factor after a password.
# Modes that are multifactor on their own (Windows Hello, FIDO2, a multifactor
# certificate, passwordless phone sign-in, a temporary access pass, a federated MFA
# claim) rate the same either way.
FIRST_FACTOR_MODES = frozenset({"password", "federatedSingleFactor", "qrCodePin"})
SECOND_FACTOR_MODES: Mapping[str, Strength] = {
    "sms": Strength.WEAK,
    "voice": Strength.WEAK,
    "email": Strength.WEAK,
    "hardwareOath": Strength.STRONG,
    "softwareOath": Strength.STRONG,
    "microsoftAuthenticatorPush": Strength.STRONG,
    # A certificate next to a password: two factors. Not phishing-resistant as Microsoft
    # rates it (its built-in phishing-resistant strength lists only the multifactor mode).
    "x509CertificateSingleFactor": Strength.STRONG,
}
MULTIFACTOR_MODES: Mapping[str, Strength] = {
    # Federated MFA: the other IdP says "MFA done" but not how.
    "federatedMultiFactor": Strength.WEAK,
    # A temporary access pass satisfies MFA in Entra; it is a code, so no better than weak.
    "temporaryAccessPassOneTime": Strength.WEAK,
    "temporaryAccessPassMultiUse": Strength.WEAK,
    "deviceBasedPush": Strength.STRONG,  # passwordless phone sign-in
    "fido2": Strength.PHISHING_RESISTANT,
    "windowsHelloForBusiness": Strength.PHISHING_RESISTANT,
    "x509CertificateMultiFactor": Strength.PHISHING_RESISTANT,
}
# Every mode this connector knows, with what it is alone (kept for the docs' table).
STRENGTH_FACTORS: Mapping[str, Strength] = {
    **dict.fromkeys(FIRST_FACTOR_MODES, Strength.NONE),
    **dict.fromkeys(SECOND_FACTOR_MODES, Strength.NONE),
    **MULTIFACTOR_MODES,
}
# The registered-method kinds a mode lets a user present at the second step. First
# factors and the federated modes name no method registered in Entra.
MODE_KINDS: Mapping[str, tuple[MethodKind, ...]] = {
    "sms": (MethodKind.SMS,),
    "voice": (MethodKind.VOICE,),
    "email": (MethodKind.EMAIL_OTP,),
    "hardwareOath": (MethodKind.HARDWARE_OTP,),
    "softwareOath": (MethodKind.TOTP_SOFTWARE,),
    "microsoftAuthenticatorPush": (MethodKind.AUTHENTICATOR_PUSH,),
    "x509CertificateSingleFactor": (MethodKind.CERTIFICATE,),
    "x509CertificateMultiFactor": (MethodKind.CERTIFICATE,),
    "temporaryAccessPassOneTime": (MethodKind.TEMPORARY_ACCESS_PASS,),
    "temporaryAccessPassMultiUse": (MethodKind.TEMPORARY_ACCESS_PASS,),
    "deviceBasedPush": (MethodKind.AUTHENTICATOR_PASSWORDLESS,),
    # Entra stores passkeys (device-bound or synced) as FIDO2 credentials.
    "fido2": (MethodKind.FIDO2_SECURITY_KEY, MethodKind.PASSKEY),
    "windowsHelloForBusiness": (MethodKind.WINDOWS_HELLO,),
}
# ``requirementsSatisfied`` of a strength: "mfa" grants the MFA claim, "none" does not.
REQUIREMENTS_SATISFIED = frozenset({"mfa", "none"})

# Azure Resource Manager as security defaults name it: "any user accessing the Azure
# portal, the Microsoft Entra admin center, Azure PowerShell or Azure CLI must complete
# MFA" (learn.microsoft.com/entra/fundamentals/security-defaults).
AZURE_MANAGEMENT_APP_IDS = frozenset(
    {
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",  # Windows Azure Service Management API
        "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",  # Azure portal
        "1950a258-227b-4e31-a9cf-717495945fc2",  # Microsoft Azure PowerShell
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",  # Microsoft Azure CLI
    }
)

# Roles security defaults require MFA of at every sign-in (role template ids): the list
# of learn.microsoft.com/entra/fundamentals/security-defaults, "Require administrators to
# do multifactor authentication" (17 roles).
SECURITY_DEFAULTS_ROLES: tuple[RoleId, ...] = tuple(
    RoleId(r)
    for r in (
        "62e90394-69f5-4237-9190-012177145e10",  # Global Administrator
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",  # Application Administrator
        "c4e39bd9-1100-46d3-8c65-fb160da0071f",  # Authentication Administrator
        "b0f54661-2d74-4c50-afa3-1ec803f12efe",  # Billing Administrator
        "158c047a-c907-4556-b7ef-446551a6b5f7",  # Cloud Application Administrator
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",  # Conditional Access Administrator
        "29232cdf-9323-42fd-ade2-1d097af3e4de",  # Exchange Administrator
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",  # Helpdesk Administrator
        "966707d0-3269-4727-9be2-8c3a10f19b9d",  # Password Administrator
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",  # Privileged Authentication Administrator
        "e8611ab8-c189-46e8-94e1-60213ab1f814",  # Privileged Role Administrator
        "194ae4cb-b126-40b2-bd5b-6091b380977d",  # Security Administrator
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",  # SharePoint Administrator
        "fe930be7-5e62-47db-91af-98c3a49a38b1",  # User Administrator
        "69091246-20e8-4a56-aa4d-066075b2a7a8",  # Teams Administrator
        "0526716b-113d-4c15-b2c8-68e3c22b9f80",  # Authentication Policy Administrator
        "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e",  # Identity Governance Administrator
    )
)

_MODERN_CLIENTS = frozenset({"browser", "mobileAppsAndDesktopClients"})
_LEGACY_CLIENTS = frozenset({"exchangeActiveSync", "other"})
_ALL_RISK = frozenset({"none", "low", "medium", "high"})
# ``guestOrExternalUserTypes`` (conditionalAccessGuestsOrExternalUsers). Accounts of
# userType Guest are internal guests or B2B collaboration guests; B2B collaboration
# members are accounts of userType Member; direct-connect users, service providers and
# other external users have no account in the tenant.
GUEST_ACCOUNT_TYPES = frozenset({"internalGuest", "b2bCollaborationGuest"})
GUEST_OR_EXTERNAL_TYPES = frozenset(
    {
        *GUEST_ACCOUNT_TYPES,
        "b2bCollaborationMember",
        "b2bDirectConnectUser",
        "otherExternalUser",
        "serviceProvider",
    }
)
_USER_KEYWORDS = frozenset({"All", "None", "GuestsOrExternalUsers"})
# ``builtInControls`` and ``clientAppTypes`` as Graph documents them.
BUILT_IN_CONTROLS = frozenset(
    {
        "block",
        "mfa",
        "compliantDevice",
        "domainJoinedDevice",
        "approvedApplication",
        "compliantApplication",
        "passwordChange",
    }
)
CLIENT_APP_TYPES = frozenset(
    {"all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "easSupported", "other"}
)
_NOT_ALTERNATIVES = frozenset({"mfa", "block", "passwordChange"})


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Tenant facts a policy refers to by id."""

    portal_by_app: Mapping[str, PortalId] = field(default_factory=dict)
    location_names: Mapping[str, str] = field(default_factory=dict)
    strengths: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # id → allowedCombinations
    strength_requirements: Mapping[str, str] = field(default_factory=dict)  # id → requirementsSatisfied
    apps: Mapping[str, AppInfo] = field(default_factory=dict)  # appId → the service principal read
    # B2B collaboration members: accounts of userType Member invited from another tenant
    # (``#EXT#`` in the UPN), which a policy may include or exclude by type.
    external_members: tuple[AccountId, ...] = ()


@dataclass(frozen=True, slots=True)
class MappedPolicy:
    policy: Policy
    issues: tuple[SourceIssue, ...] = ()
    named_groups: tuple[GroupId, ...] = ()


def _strs(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def combination_strength(combination: str) -> Strength | None:
    """What one allowed combination guarantees; None if a mode is unknown.

    A multifactor mode is worth its own rating. Otherwise the combination is two factors
    only when a first factor (password, federated single factor) stands next to a
    second-factor mode, and is then as strong as its strongest second factor; a
    second-factor mode alone (``sms``, ``email``…) is a single-factor sign-in."""
    modes = [m.strip() for m in combination.split(",") if m.strip()]
    if not modes or any(
        m not in FIRST_FACTOR_MODES and m not in SECOND_FACTOR_MODES and m not in MULTIFACTOR_MODES for m in modes
    ):
        return None
    best = Strength.NONE
    for m in modes:
        if m in MULTIFACTOR_MODES and MULTIFACTOR_MODES[m].rank > best.rank:
            best = MULTIFACTOR_MODES[m]
    has_first = any(m in FIRST_FACTOR_MODES for m in modes)
    seconds = [SECOND_FACTOR_MODES[m] for m in modes if m in SECOND_FACTOR_MODES]
    if has_first and seconds:
        second = max(seconds, key=lambda x: x.rank)
        if second.rank > best.rank:
            best = second
    return best


def strength_demand(
    combinations: Sequence[str], requirements_satisfied: str = "mfa"
) -> tuple[Requirement, tuple[str, ...]]:
    """The requirement an authentication strength demands (its weakest combination),
    and what we could not judge (counted as no second factor). A strength whose
    ``requirementsSatisfied`` is not "mfa" grants no MFA claim and demands nothing."""
    if not combinations:
        return Requirement.NONE, ()
    unknown = []
    if requirements_satisfied not in REQUIREMENTS_SATISFIED:
        unknown.append(f"requirementsSatisfied={requirements_satisfied}")
    weakest = Strength.PHISHING_RESISTANT
    for combo in combinations:
        s = combination_strength(combo)
        if s is None:
            unknown.append(combo)
            s = Strength.NONE  # unknown is never compliant
        if s.rank < weakest.rank:
            weakest = s
    if requirements_satisfied != "mfa":
        weakest = Strength.NONE
    return requirement_for_strength(weakest), tuple(unknown)


def accepted_kinds(combinations: Sequence[str]) -> tuple[MethodKind, ...]:
    """The method kinds a user may present as the second step of a strength: those of
    the combinations that are two factors (a single-factor combination adds none)."""
    out: dict[MethodKind, None] = {}
    for combo in combinations:
        s = combination_strength(combo)
        if s is None or s is Strength.NONE:
            continue
        for mode in combo.split(","):
            out.update(dict.fromkeys(MODE_KINDS.get(mode.strip(), ())))
    return tuple(out)


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _location_conditions(locations: Any, ctx: MappingContext) -> list[Condition]:
    if not isinstance(locations, dict):
        return []

    def name(loc: str) -> str:
        if loc == "AllTrusted":
            return "all trusted locations"
        return ctx.location_names.get(loc, loc)

    out = []
    include = _strs(locations.get("includeLocations"))
    exclude = _strs(locations.get("excludeLocations"))
    if include and "All" not in include:
        out.append(Condition(ConditionKind.NETWORK, f"includes location {_quoted(name(x) for x in include)}"))
    if exclude:
        out.append(Condition(ConditionKind.NETWORK, f"excludes location {_quoted(name(x) for x in exclude)}"))
    return out


def _platform_conditions(platforms: Any) -> list[Condition]:
    if not isinstance(platforms, dict):
        return []
    out = []
    include = _strs(platforms.get("includePlatforms"))
    exclude = _strs(platforms.get("excludePlatforms"))
    if include and "all" not in include:
        out.append(Condition(ConditionKind.PLATFORM, f"only platforms {', '.join(include)}"))
    if exclude:
        out.append(Condition(ConditionKind.PLATFORM, f"excludes platforms {', '.join(exclude)}"))
    return out


def _risk_conditions(conditions: Mapping[str, Any]) -> list[Condition]:
    out = []
    for key, label in (
        ("signInRiskLevels", "sign-in risk"),
        ("userRiskLevels", "user risk"),
        ("insiderRiskLevels", "insider risk"),
    ):
        levels = _strs(conditions.get(key)) if key != "insiderRiskLevels" else _strs_or_one(conditions.get(key))
        if levels and not _ALL_RISK.issubset(levels):
            out.append(Condition(ConditionKind.RISK, f"{label} {', '.join(levels)}"))
    return out


def _strs_or_one(value: object) -> list[str]:
    if isinstance(value, str) and value:
        return [v.strip() for v in value.split(",")]
    return _strs(value)


def _guest_types(value: Any, which: str, issues: list[SourceIssue], pid: str) -> tuple[frozenset[str], bool]:
    """The ``guestOrExternalUserTypes`` of an include or exclude (a comma-separated flags
    value, or a list), and whether a type is one this connector does not know."""
    if not isinstance(value, dict):
        return frozenset(), False
    types = frozenset(_strs_or_one(value.get("guestOrExternalUserTypes"))) - {"none", ""}
    unknown = sorted(types - GUEST_OR_EXTERNAL_TYPES)
    if unknown:
        outcome = "not counted as covering anyone" if which == "includes" else "every guest counted as excluded"
        issues.append(
            SourceIssue(
                codes.CA_UNKNOWN_VALUE,
                f"policy {pid} {which} guest or external user types {', '.join(unknown)} this connector does not "
                f"know; {outcome}",
                pid,
            )
        )
    return types, bool(unknown)


def _scope(users: Any, issues: list[SourceIssue], pid: str, ctx: MappingContext) -> Scope:
    users = users if isinstance(users, dict) else {}
    include = _strs(users.get("includeUsers"))
    exclude = _strs(users.get("excludeUsers"))
    include_guests = "GuestsOrExternalUsers" in include
    exclude_guests = "GuestsOrExternalUsers" in exclude
    include_ids = [AccountId(u) for u in include if u not in _USER_KEYWORDS]
    exclude_ids = [AccountId(u) for u in exclude if u not in _USER_KEYWORDS]
    # The keyword means every guest and external user: invited members too.
    if include_guests:
        include_ids.extend(ctx.external_members)
    if exclude_guests:
        exclude_ids.extend(ctx.external_members)
    guests_in = users.get("includeGuestsOrExternalUsers")
    types_in, _ = _guest_types(guests_in, "includes", issues, pid)
    if types_in:
        tenants = guests_in.get("externalTenants") if isinstance(guests_in, dict) else None
        enumerated = isinstance(tenants, dict) and tenants.get("membershipKind") == "enumerated"
        if enumerated:
            # Guests' home tenants are not read: claiming coverage would over-claim.
            issues.append(
                SourceIssue(
                    codes.CA_GUEST_TENANTS,
                    f"policy {pid} includes guests of specific tenants only; treated as not covering guests",
                    pid,
                )
            )
        else:
            if types_in >= GUEST_ACCOUNT_TYPES:
                include_guests = True
            elif one := sorted(types_in & GUEST_ACCOUNT_TYPES):
                # Guest accounts (userType Guest) are of either subtype; which one each is, is
                # not read: one subtype alone is not counted as covering any guest.
                issues.append(
                    SourceIssue(
                        codes.CA_GUEST_TYPES,
                        f"policy {pid} includes only the guest type {', '.join(one)}; "
                        "which guests are internal and which are B2B collaboration guests is not read: "
                        "treated as not covering guests",
                        pid,
                    )
                )
            if "b2bCollaborationMember" in types_in:
                include_ids.extend(ctx.external_members)
    guests_out = users.get("excludeGuestsOrExternalUsers")
    types_out, unknown_out = _guest_types(guests_out, "excludes", issues, pid)
    if types_out & GUEST_ACCOUNT_TYPES or unknown_out:
        exclude_guests = True  # any guest type excluded: never over-claim coverage
    if "b2bCollaborationMember" in types_out or unknown_out:
        # External members are accounts of userType Member: excluded by their ids.
        exclude_ids.extend(ctx.external_members)
    return Scope(
        include_all="All" in include,
        include_users=tuple(dict.fromkeys(include_ids)),
        include_groups=tuple(GroupId(g) for g in _strs(users.get("includeGroups"))),
        include_roles=tuple(RoleId(r) for r in _strs(users.get("includeRoles"))),
        include_guests=include_guests,
        exclude_users=tuple(dict.fromkeys(exclude_ids)),
        exclude_groups=tuple(GroupId(g) for g in _strs(users.get("excludeGroups"))),
        exclude_roles=tuple(RoleId(r) for r in _strs(users.get("excludeRoles"))),
        exclude_guests=exclude_guests,
    )


# What a keyword, or an app id that stands for a group, takes in.
_APP_GROUPS: Mapping[str, tuple[str, app_groups.AppGroup]] = {
    "Office365": ("Office365", app_groups.OFFICE365),
    "MicrosoftAdminPortals": ("MicrosoftAdminPortals", app_groups.ADMIN_PORTALS),
    app_groups.SERVICE_MANAGEMENT_APP_ID: ("Windows Azure Service Management API", app_groups.SERVICE_MANAGEMENT),
}


def _apps(
    values: list[str], ctx: MappingContext, pid: str, issues: list[SourceIssue], *, excluding: bool
) -> list[PortalId]:
    out: list[PortalId] = []
    for v in values:
        if v in _APP_GROUPS:
            name, spec = _APP_GROUPS[v]
            group = app_groups.membership(spec, ctx.apps, ctx.portal_by_app)
            if v in ctx.portal_by_app:
                out.append(ctx.portal_by_app[v])  # the app itself, where it is a portal
            out.extend(group.members)
            if excluding:
                # Never covered: an app that may be in the excluded group is left out.
                out.extend(group.undecided)
            issues.extend(
                SourceIssue(
                    codes.APP_GROUP_UNDECIDED,
                    f"policy {pid} {'excludes' if excluding else 'includes'} {name}; whether portal "
                    f"{portal} belongs to that group cannot be decided from Microsoft's list: "
                    "not counted as covered by this policy",
                    f"{pid}/{portal}",
                )
                for portal in group.undecided
            )
        elif v not in ("All", "None"):
            # An app the tenant lists as a portal maps to it; any other id is kept as is
            # (evidence), and matches no portal.
            out.append(ctx.portal_by_app.get(v, PortalId(v)))
    return list(dict.fromkeys(out))


def _portal_scope(
    apps: Any, ctx: MappingContext, pid: str, issues: list[SourceIssue]
) -> tuple[PortalScope, list[Condition]]:
    apps = apps if isinstance(apps, dict) else {}
    include = _strs(apps.get("includeApplications"))
    exclude = _strs(apps.get("excludeApplications"))
    conditions = []
    flt = apps.get("applicationFilter")
    if isinstance(flt, dict) and flt.get("rule"):
        conditions.append(Condition(ConditionKind.OTHER, f"application filter ({flt.get('mode')}): {flt['rule']}"))
    # Only user actions / authentication contexts: step-up for an action, no portal.
    scope = PortalScope(
        all="All" in include,
        ids=tuple(_apps(include, ctx, pid, issues, excluding=False)),
        excluded_ids=tuple(_apps(exclude, ctx, pid, issues, excluding=True)),
    )
    return scope, conditions


def _requirement(
    grant: Any, ctx: MappingContext, pid: str, issues: list[SourceIssue]
) -> tuple[Requirement, list[Condition], tuple[MethodKind, ...]]:
    if not isinstance(grant, dict):
        return Requirement.NONE, [], ()
    controls = _strs(grant.get("builtInControls"))
    unknown_controls = [c for c in controls if c not in BUILT_IN_CONTROLS]
    if unknown_controls:
        issues.append(
            SourceIssue(
                codes.CA_UNKNOWN_VALUE,
                f"policy {pid}: grant controls {', '.join(unknown_controls)} this connector does not know; "
                "never counted as a second factor (with OR, MFA can be skipped through them)",
                pid,
            )
        )
    if "block" in controls:
        return Requirement.BLOCK, [], ()
    requirement = Requirement.NONE
    accepted: tuple[MethodKind, ...] = ()
    strength = grant.get("authenticationStrength")
    if isinstance(strength, dict):
        sid = str(strength.get("id"))
        combos = _strs(strength.get("allowedCombinations")) or list(ctx.strengths.get(sid, ()))
        satisfied = strength.get("requirementsSatisfied")
        if not isinstance(satisfied, str):
            # Built-in and custom strengths state it; a reference without it takes the tenant's.
            satisfied = ctx.strength_requirements.get(sid, "mfa")
        if not combos:
            issues.append(
                SourceIssue(
                    codes.CA_STRENGTH_UNKNOWN,
                    f"policy {pid}: authentication strength {strength.get('id')} could not be read; "
                    "counted as demanding no second factor",
                    pid,
                )
            )
        requirement, unknown = strength_demand(combos, satisfied)
        accepted = accepted_kinds(combos) if requirement is not Requirement.NONE else ()
        if unknown:
            issues.append(
                SourceIssue(
                    codes.CA_STRENGTH_COMBINATION,
                    f"policy {pid}: unknown authentication combinations {', '.join(unknown)} "
                    "counted as no second factor",
                    pid,
                )
            )
    elif "mfa" in controls:
        requirement = Requirement.MFA
    conditions = []
    if requirement is not Requirement.NONE and str(grant.get("operator", "OR")).upper() == "OR":
        others = [c for c in controls if c not in _NOT_ALTERNATIVES]
        others += [f"custom control {c}" for c in _strs(grant.get("customAuthenticationFactors"))]
        if _strs(grant.get("termsOfUse")):
            others.append("terms of use")
        if others:
            conditions.append(
                Condition(ConditionKind.ALTERNATIVE_CONTROL, f"can be met by {', '.join(others)} instead of MFA")
            )
    return requirement, conditions, accepted


def _grant_text(grant: Any) -> str:
    if not isinstance(grant, dict):
        return "no grant control"
    controls = _strs(grant.get("builtInControls"))
    if isinstance(grant.get("authenticationStrength"), dict):
        controls.append("authentication strength")
    return f" {str(grant.get('operator', 'OR')).upper()} ".join(controls) or "no grant control"


def map_ca_policy(raw: Mapping[str, Any], ctx: MappingContext) -> MappedPolicy:
    """One ``/identity/conditionalAccess/policies`` item → a single-rule Policy."""
    pid = str(raw.get("id") or "")
    name = str(raw.get("displayName") or pid)
    issues: list[SourceIssue] = []
    state = _STATES.get(str(raw.get("state")))
    if state is None:
        message = f"policy {pid} has state {raw.get('state')!r}; counted as disabled"
        issues.append(SourceIssue(codes.CA_STATE, message, pid))
        state = PolicyState.DISABLED
    conditions = raw.get("conditions") if isinstance(raw.get("conditions"), dict) else {}
    assert isinstance(conditions, dict)
    scope = _scope(conditions.get("users"), issues, pid, ctx)
    portals, app_conditions = _portal_scope(conditions.get("applications"), ctx, pid, issues)
    grant = raw.get("grantControls")
    requirement, grant_conditions, accepted = _requirement(grant, ctx, pid, issues)
    conds: list[Condition] = []
    conds += _location_conditions(conditions.get("locations"), ctx)
    conds += _platform_conditions(conditions.get("platforms"))
    conds += _risk_conditions(conditions)
    clients = set(_strs(conditions.get("clientAppTypes")))
    if clients - CLIENT_APP_TYPES:
        issues.append(
            SourceIssue(
                codes.CA_UNKNOWN_VALUE,
                f"policy {pid}: client app types {', '.join(sorted(clients - CLIENT_APP_TYPES))} this connector "
                "does not know; the policy is judged only by the documented client types it names",
                pid,
            )
        )
    if clients and "all" not in clients and not _MODERN_CLIENTS.issubset(clients):
        if not clients & _MODERN_CLIENTS:
            # Legacy protocols only: no modern sign-in is touched. Judged by legacy_auth_blocked.
            detail = f"legacy clients only ({', '.join(sorted(clients))}): {_grant_text(grant)}"
            conds.append(Condition(ConditionKind.CLIENT_APP, detail))
            requirement, grant_conditions, accepted = Requirement.NONE, [], ()
        else:
            conds.append(Condition(ConditionKind.CLIENT_APP, f"client apps {', '.join(sorted(clients))} only"))
    devices = conditions.get("devices")
    if isinstance(devices, dict) and isinstance(devices.get("deviceFilter"), dict):
        flt = devices["deviceFilter"]
        conds.append(Condition(ConditionKind.DEVICE, f"device filter ({flt.get('mode')}): {flt.get('rule')}"))
    flows = conditions.get("authenticationFlows")
    if isinstance(flows, dict) and flows.get("transferMethods"):
        conds.append(Condition(ConditionKind.OTHER, f"authentication flows {flows['transferMethods']}"))
    conds += app_conditions + grant_conditions
    rule = PolicyRule(pid, name, scope, portals, requirement, tuple(conds), accepted)
    named = tuple(dict.fromkeys(scope.include_groups + scope.exclude_groups))
    return MappedPolicy(Policy(PolicyId(pid), name, state, (rule,), VENDOR_KIND), tuple(issues), named)


def blocks_legacy_auth(raw: Mapping[str, Any]) -> bool:
    """An enforced policy that blocks legacy client types for all users on all apps,
    with nothing that narrows it: no excluded application, no risk level, no device
    filter, no authentication-flow, location or platform condition, no workload
    identities. Exclusions of users or groups (break-glass accounts, as Microsoft's
    template does) are allowed. Anything narrower is evidence, not clearance."""
    if raw.get("state") != "enabled":
        return False
    grant = raw.get("grantControls")
    if not isinstance(grant, dict) or "block" not in _strs(grant.get("builtInControls")):
        return False
    conditions = raw.get("conditions") if isinstance(raw.get("conditions"), dict) else {}
    assert isinstance(conditions, dict)
    clients = set(_strs(conditions.get("clientAppTypes")))
    if not ("all" in clients or _LEGACY_CLIENTS.issubset(clients)):
        return False
    users = conditions.get("users") if isinstance(conditions.get("users"), dict) else {}
    apps = conditions.get("applications") if isinstance(conditions.get("applications"), dict) else {}
    assert isinstance(users, dict) and isinstance(apps, dict)
    # A location or platform condition would leave legacy sign-ins from elsewhere open.
    if _location_conditions(conditions.get("locations"), MappingContext()) or _platform_conditions(
        conditions.get("platforms")
    ):
        return False
    for key in ("signInRiskLevels", "userRiskLevels", "servicePrincipalRiskLevels", "insiderRiskLevels"):
        if _strs_or_one(conditions.get(key)):
            return False  # blocks only at some risk: the other sign-ins stay open
    devices = conditions.get("devices")
    if isinstance(devices, dict) and (devices.get("deviceFilter") or _strs(devices.get("excludeDevices"))):
        return False
    flows = conditions.get("authenticationFlows")
    if isinstance(flows, dict) and flows.get("transferMethods"):
        return False  # device-code or transfer flows: not legacy clients
    if conditions.get("clientApplications"):
        return False  # workload identities, not users
    if _strs(apps.get("excludeApplications")) or apps.get("applicationFilter"):
        return False
    return "All" in _strs(users.get("includeUsers")) and "All" in _strs(apps.get("includeApplications"))


# What security defaults let users do MFA with: "the Microsoft Authenticator app using
# notifications" (its codes too) "or any third party application using OATH TOTP".
SECURITY_DEFAULTS_METHODS = (MethodKind.AUTHENTICATOR_PUSH, MethodKind.TOTP_SOFTWARE)


def security_defaults_policy(portal_by_app: Mapping[str, PortalId] | None = None) -> Policy:
    """Security defaults: MFA at every sign-in for the 17 admin roles Microsoft lists;
    MFA for every user on Azure Resource Manager (the Azure portal, Entra admin centre,
    Azure PowerShell, Azure CLI) among the tenant's portals; for everyone else only
    "when necessary" (Microsoft's risk judgement): conditional."""
    everyone = PortalScope(all=True)
    arm = tuple(p for app, p in (portal_by_app or {}).items() if app in AZURE_MANAGEMENT_APP_IDS)
    rules = [
        PolicyRule(
            "security-defaults-admins",
            "Security defaults: administrators",
            Scope(include_roles=SECURITY_DEFAULTS_ROLES),
            everyone,
            Requirement.MFA,
            accepted_methods=SECURITY_DEFAULTS_METHODS,
        )
    ]
    if arm:
        rules.append(
            PolicyRule(
                "security-defaults-azure-management",
                "Security defaults: Azure management, every user",
                Scope(include_all=True),
                PortalScope(ids=tuple(dict.fromkeys(arm))),
                Requirement.MFA,
                accepted_methods=SECURITY_DEFAULTS_METHODS,
            )
        )
    rules.append(
        PolicyRule(
            "security-defaults-users",
            "Security defaults: users",
            Scope(include_all=True),
            everyone,
            Requirement.MFA,
            (Condition(ConditionKind.RISK, "security defaults ask other users for MFA only when deemed necessary"),),
            SECURITY_DEFAULTS_METHODS,
        )
    )
    return Policy(
        PolicyId("security-defaults"),
        "Security defaults",
        PolicyState.ENFORCED,
        tuple(rules),
        "entra_security_defaults",
    )


PER_USER_REQUIRED = frozenset({"enabled", "enforced"})
PER_USER_STATES = frozenset({"disabled", *PER_USER_REQUIRED})


def unknown_per_user_states(states: Mapping[str, str]) -> dict[str, int]:
    """``perUserMfaState`` values other than disabled / enabled / enforced, with counts:
    such an account is not counted as required to do MFA."""
    out: dict[str, int] = {}
    for state in states.values():
        if state not in PER_USER_STATES:
            out[state] = out.get(state, 0) + 1
    return out


def per_user_mfa_policy(states: Mapping[str, str]) -> Policy | None:
    """Legacy per-user MFA: users whose state is enabled or enforced must do MFA on every app."""
    users = tuple(AccountId(uid) for uid, state in states.items() if state in PER_USER_REQUIRED)
    if not users:
        return None
    return Policy(
        PolicyId("per-user-mfa"),
        "Per-user MFA (legacy)",
        PolicyState.ENFORCED,
        (
            PolicyRule(
                "per-user-mfa",
                "Per-user MFA enabled or enforced",
                Scope(include_users=users),
                PortalScope(all=True),
                Requirement.MFA,
            ),
        ),
        "entra_per_user_mfa",
    )
