"""Kept whole on purpose: the model is the contract every stage and every connector reads,
in one place; it holds types and derived properties only.

The normalised, immutable domain model.

Everything after the connectors works on these types only: no vendor name, page or
quirk crosses this line. Collections are tuples (ordered, hashable, cheap with
``slots``); free-form attributes are a mapping excluded from hashing. Unknown is a
first-class value throughout and is never counted as compliant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NewType

SNAPSHOT_SCHEMA_VERSION = 1

SourceName = NewType("SourceName", str)
AccountId = NewType("AccountId", str)
PortalId = NewType("PortalId", str)
PolicyId = NewType("PolicyId", str)
GroupId = NewType("GroupId", str)
RoleId = NewType("RoleId", str)


class Strength(StrEnum):
    """How hard a second factor is to defeat; ordered by ``rank``."""

    NONE = "none"
    WEAK = "weak"
    STRONG = "strong"
    PHISHING_RESISTANT = "phishing_resistant"

    @property
    def rank(self) -> int:
        return _STRENGTH_RANK[self]

    def at_least(self, other: Strength) -> bool:
        return self.rank >= other.rank


_STRENGTH_RANK = {
    Strength.NONE: 0,
    Strength.WEAK: 1,
    Strength.STRONG: 2,
    Strength.PHISHING_RESISTANT: 3,
}


class MethodKind(StrEnum):
    FIDO2_SECURITY_KEY = "fido2_security_key"
    PASSKEY = "passkey"
    WINDOWS_HELLO = "windows_hello"
    CERTIFICATE = "certificate"
    OKTA_FASTPASS = "okta_fastpass"  # phishing-resistant mode only; otherwise authenticator_passwordless
    PLATFORM_AUTHENTICATOR = "platform_authenticator"
    AUTHENTICATOR_PUSH = "authenticator_push"  # with number matching
    AUTHENTICATOR_PASSWORDLESS = "authenticator_passwordless"
    TOTP_SOFTWARE = "totp_software"
    HARDWARE_OTP = "hardware_otp"
    SMS = "sms"
    VOICE = "voice"
    EMAIL_OTP = "email_otp"
    # The source says "a second factor is enrolled" but not which: counted weak, and
    # the report's methodology says why.
    UNSPECIFIED_SECOND_FACTOR = "unspecified_second_factor"
    PASSWORD = "password"
    SECURITY_QUESTION = "security_question"
    TEMPORARY_ACCESS_PASS = "temporary_access_pass"
    # An e-mail address registered for self-service password reset (Entra members): it
    # recovers a password, it is no second factor at sign-in.
    RECOVERY_EMAIL = "recovery_email"
    UNKNOWN = "unknown"

    @property
    def strength(self) -> Strength:
        return METHOD_STRENGTH[self]


METHOD_STRENGTH: Mapping[MethodKind, Strength] = {
    MethodKind.FIDO2_SECURITY_KEY: Strength.PHISHING_RESISTANT,
    MethodKind.PASSKEY: Strength.PHISHING_RESISTANT,
    MethodKind.WINDOWS_HELLO: Strength.PHISHING_RESISTANT,
    MethodKind.CERTIFICATE: Strength.PHISHING_RESISTANT,
    MethodKind.OKTA_FASTPASS: Strength.PHISHING_RESISTANT,
    MethodKind.PLATFORM_AUTHENTICATOR: Strength.PHISHING_RESISTANT,
    MethodKind.AUTHENTICATOR_PUSH: Strength.STRONG,
    MethodKind.AUTHENTICATOR_PASSWORDLESS: Strength.STRONG,
    MethodKind.TOTP_SOFTWARE: Strength.STRONG,
    MethodKind.HARDWARE_OTP: Strength.STRONG,
    MethodKind.SMS: Strength.WEAK,
    MethodKind.VOICE: Strength.WEAK,
    MethodKind.EMAIL_OTP: Strength.WEAK,
    MethodKind.UNSPECIFIED_SECOND_FACTOR: Strength.WEAK,
    MethodKind.PASSWORD: Strength.NONE,
    MethodKind.SECURITY_QUESTION: Strength.NONE,
    MethodKind.TEMPORARY_ACCESS_PASS: Strength.NONE,
    MethodKind.RECOVERY_EMAIL: Strength.NONE,
    MethodKind.UNKNOWN: Strength.NONE,
}


class MethodStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Method:
    kind: MethodKind
    vendor_label: str
    status: MethodStatus = MethodStatus.ACTIVE
    registered_at: datetime | None = None

    @property
    def strength(self) -> Strength:
        return self.kind.strength


class AccountKind(StrEnum):
    HUMAN = "human"
    GUEST = "guest"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Account:
    source: SourceName
    id: AccountId
    principal: str
    display_name: str
    kind: AccountKind
    enabled: bool
    privileged: bool = False
    roles: tuple[RoleId, ...] = ()
    groups: tuple[GroupId, ...] = ()
    last_sign_in: datetime | None = None
    created: datetime | None = None
    methods: tuple[Method, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def strongest_method(self) -> Strength:
        """Strength of the strongest *active* method; NONE when there is none."""
        best = Strength.NONE
        for method in self.methods:
            if method.status is MethodStatus.ACTIVE and method.strength.rank > best.rank:
                best = method.strength
        return best


class Sensitivity(StrEnum):
    HIGH = "high"
    SENSITIVE = "sensitive"
    NORMAL = "normal"

    @property
    def is_sensitive(self) -> bool:
        return self is not Sensitivity.NORMAL


@dataclass(frozen=True, slots=True)
class Portal:
    """An application or service accounts sign in to.

    ``sensitivity`` and ``data_categories`` are empty as a connector emits them; the
    config's classification fills them in. ``sign_in_via`` names another source whose
    policies and methods protect the sign-in (federation).
    """

    source: SourceName
    id: PortalId
    name: str
    assignment_required: bool = True
    tags: tuple[str, ...] = ()
    sensitivity: Sensitivity | None = None
    data_categories: tuple[str, ...] = ()
    sign_in_via: SourceName | None = None


class AccessVia(StrEnum):
    DIRECT = "direct"
    GROUP = "group"
    ROLE = "role"
    EVERYONE = "everyone"


@dataclass(frozen=True, slots=True)
class Access:
    account_id: AccountId
    portal_id: PortalId
    via: AccessVia = AccessVia.DIRECT
    via_ref: str | None = None  # the group or role id when via is group / role


class PolicyState(StrEnum):
    ENFORCED = "enforced"
    REPORT_ONLY = "report_only"
    DISABLED = "disabled"


class Requirement(StrEnum):
    """What a policy rule demands at sign-in, ordered by ``rank`` (block is strictest)."""

    NONE = "none"
    MFA = "mfa"
    STRONG = "strong"
    PHISHING_RESISTANT = "phishing_resistant"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _REQUIREMENT_RANK[self]

    @property
    def strength(self) -> Strength:
        """The weakest method strength that satisfies this requirement (BLOCK: unreachable)."""
        return _REQUIREMENT_STRENGTH[self]


_REQUIREMENT_RANK = {
    Requirement.NONE: 0,
    Requirement.MFA: 1,
    Requirement.STRONG: 2,
    Requirement.PHISHING_RESISTANT: 3,
    Requirement.BLOCK: 4,
}
_REQUIREMENT_STRENGTH = {
    Requirement.NONE: Strength.NONE,
    Requirement.MFA: Strength.WEAK,
    Requirement.STRONG: Strength.STRONG,
    Requirement.PHISHING_RESISTANT: Strength.PHISHING_RESISTANT,
    Requirement.BLOCK: Strength.PHISHING_RESISTANT,
}


def requirement_for_strength(strength: Strength) -> Requirement:
    return {
        Strength.NONE: Requirement.NONE,
        Strength.WEAK: Requirement.MFA,
        Strength.STRONG: Requirement.STRONG,
        Strength.PHISHING_RESISTANT: Requirement.PHISHING_RESISTANT,
    }[strength]


@dataclass(frozen=True, slots=True)
class Scope:
    """Who a policy rule applies to: included minus excluded."""

    include_all: bool = False
    include_users: tuple[AccountId, ...] = ()
    include_groups: tuple[GroupId, ...] = ()
    include_roles: tuple[RoleId, ...] = ()
    include_guests: bool = False
    exclude_users: tuple[AccountId, ...] = ()
    exclude_groups: tuple[GroupId, ...] = ()
    exclude_roles: tuple[RoleId, ...] = ()
    exclude_guests: bool = False


@dataclass(frozen=True, slots=True)
class PortalScope:
    all: bool = False
    ids: tuple[PortalId, ...] = ()
    excluded_ids: tuple[PortalId, ...] = ()


class ConditionKind(StrEnum):
    NETWORK = "network"
    PLATFORM = "platform"
    RISK = "risk"
    CLIENT_APP = "client_app"
    DEVICE = "device"
    # An OR with a non-MFA control (e.g. mfa OR compliant device): can be met without MFA.
    ALTERNATIVE_CONTROL = "alternative_control"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition that leaves some sign-ins out. Connectors emit only real ones:
    "all locations, none excluded" is no condition and is not emitted."""

    kind: ConditionKind
    detail: str


@dataclass(frozen=True, slots=True)
class PolicyRule:
    id: str
    name: str
    scope: Scope
    portals: PortalScope
    requirement: Requirement
    conditions: tuple[Condition, ...] = ()
    # The method kinds the rule's requirement accepts as the second step (e.g. the kinds an
    # Entra authentication strength's combinations allow). Empty: every kind whose
    # strength reaches ``requirement.strength``.
    accepted_methods: tuple[MethodKind, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """An MFA-enforcement policy. Rules are first-match in order (a Conditional
    Access policy is a single rule); across policies every applicable one applies and
    the strictest wins."""

    id: PolicyId
    name: str
    state: PolicyState
    rules: tuple[PolicyRule, ...]
    vendor_kind: str = ""  # e.g. "conditional_access", "okta_access_policy": evidence only


class SignInFactor(StrEnum):
    SINGLE = "single"
    MULTI = "multi"


@dataclass(frozen=True, slots=True)
class SignIn:
    account_id: AccountId
    portal_id: PortalId
    time: datetime
    factor: SignInFactor
    client_app: str = ""


class Fact(StrEnum):
    """A kind of fact a source may or may not have read. Rules declare the facts they
    need (``Rule.requires``); a rule is not evaluated on a source that did not read them."""

    ACCOUNTS = "accounts"
    METHODS = "methods"  # registered second factors per account
    POLICIES = "policies"  # MFA-enforcement policies
    METHODS_POLICY = "methods_policy"  # which methods the tenant allows, per account
    ROLES = "roles"  # privileged role assignments
    ACCESS = "access"  # app assignments
    SIGN_IN_TIMES = "sign_in_times"  # last sign-in per account
    SIGN_IN_LOG = "sign_in_log"  # sign-in events of the period
    LEGACY_AUTH = "legacy_auth"  # whether legacy protocols are blocked


@dataclass(frozen=True, slots=True)
class FactRead:
    """Whether a source read one kind of fact; ``reason`` says why not (e.g. the
    permission that was missing)."""

    fact: Fact
    read: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MethodAllowance:
    """The tenant's own switch for one method kind (Entra's Authentication methods
    policy, Okta's authenticator availability, Google's allowed 2SV methods): a method
    registered by an account is usable only when an enabled allowance of its kind
    targets that account (``scope``). A kind with no allowance listed is judged allowed
    only when the source did not read the methods policy (``Fact.METHODS_POLICY``)."""

    kind: MethodKind
    enabled: bool
    scope: Scope
    vendor_label: str = ""


# Code suffix of an issue saying that the configuration narrowed what a source read (e.g.
# ``entra.scope_limited``): not incomplete, but an auditor must see it on page one.
SCOPE_LIMITED = "scope_limited"


@dataclass(frozen=True, slots=True)
class SourceIssue:
    """Something a connector could not read or had to interpret. ``incomplete`` issues
    make the source incomplete (coverage on it becomes unknown)."""

    code: str
    message: str
    record: str | None = None
    incomplete: bool = False

    @property
    def limits_scope(self) -> bool:
        return self.code.rpartition(".")[2] == SCOPE_LIMITED


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """An account the source listed but whose record could not be turned into the model."""

    record: str
    reason: str


@dataclass(frozen=True, slots=True)
class PageDigest:
    endpoint: str
    sha256: str
    records: int


@dataclass(frozen=True, slots=True)
class SourceSnapshot:
    source: SourceName
    connector: str
    collected_at: datetime
    complete: bool
    accounts: tuple[Account, ...] = ()
    portals: tuple[Portal, ...] = ()
    access: tuple[Access, ...] = ()
    policies: tuple[Policy, ...] = ()
    sign_ins: tuple[SignIn, ...] = ()
    issues: tuple[SourceIssue, ...] = ()
    unreadable: tuple[UnreadableRecord, ...] = ()
    expected_counts: Mapping[str, int] = field(default_factory=dict, hash=False)
    raw_digests: tuple[PageDigest, ...] = ()
    # Tenant-level facts: None means not applicable or not read.
    legacy_auth_blocked: bool | None = None
    sign_ins_collected: bool = False
    # Which facts the source read (and why not). Empty in snapshots written before it
    # existed: the engine then derives it from the flags above.
    facts: tuple[FactRead, ...] = ()
    method_policy: tuple[MethodAllowance, ...] = ()

    def fact_read(self, fact: Fact) -> FactRead | None:
        """The source's statement about ``fact``; None when it made none."""
        for f in self.facts:
            if f.fact is fact:
                return f
        return None

    @property
    def received_counts(self) -> dict[str, int]:
        return {
            "accounts": len(self.accounts) + len(self.unreadable),
            "portals": len(self.portals),
            "access": len(self.access),
            "policies": len(self.policies),
            "sign_ins": len(self.sign_ins),
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    period: str
    period_start: date
    period_end: date
    config_digest: str
    sources: tuple[SourceSnapshot, ...]
    schema_version: int = SNAPSHOT_SCHEMA_VERSION

    @property
    def complete(self) -> bool:
        return all(s.complete for s in self.sources)

    def source(self, name: str) -> SourceSnapshot:
        for s in self.sources:
            if s.source == name:
                return s
        raise KeyError(name)


# --- results of evaluation -------------------------------------------------------------


class CoverageStatus(StrEnum):
    PROTECTED = "protected"
    NOT_ENROLLED = "not_enrolled"
    NOT_ENFORCED = "not_enforced"
    REPORT_ONLY = "report_only"
    CONDITIONAL = "conditional"
    WEAK = "weak"
    BLOCKED = "blocked"
    EXCEPTED = "excepted"
    UNKNOWN = "unknown"

    @property
    def is_protected(self) -> bool:
        """Protected for the headline figure. Unknown and excepted never count."""
        return self in (CoverageStatus.PROTECTED, CoverageStatus.BLOCKED)


@dataclass(frozen=True, slots=True)
class Coverage:
    """The verdict for one access of one account to one portal."""

    source: SourceName
    account_id: AccountId
    portal_source: SourceName
    portal_id: PortalId
    status: CoverageStatus
    sensitivity: Sensitivity
    enrolled: Strength
    enforced: Requirement
    required: Strength
    conditional: bool
    reason: str
    # Where enforcement and methods were judged (differs from ``source`` under federation).
    enforcement_source: SourceName
    policies: tuple[PolicyId, ...] = ()
    excluded_by: tuple[PolicyId, ...] = ()
    exception_id: str | None = None
    # What the engine judged beyond the status (issue #14); one value shared by every row of
    # the same verdict, so a million rows carry one pointer each, not three fields. None in
    # results written before it existed.
    judgement: Judgement | None = None

    @property
    def effective(self) -> Strength | None:
        return self.judgement.effective if self.judgement is not None else None

    @property
    def enrolment_dependent(self) -> tuple[PolicyId, ...]:
        return self.judgement.enrolment_dependent if self.judgement is not None else ()

    @property
    def stricter_report_only(self) -> tuple[PolicyId, ...]:
        return self.judgement.stricter_report_only if self.judgement is not None else ()


@dataclass(frozen=True, slots=True)
class Judgement:
    """The parts of a coverage verdict beyond its status."""

    # The weakest method that gets past the enforcing requirement (usable methods, or the
    # registration gate when none is usable); None where no second factor is enforced.
    effective: Strength | None = None
    # Protected only because the accounts hold no weaker method these enforcing policies
    # accept: empty when the requirement alone reaches ``required``.
    enrolment_dependent: tuple[PolicyId, ...] = ()
    # Report-only or disabled policies that would demand more than what is enforced.
    stricter_report_only: tuple[PolicyId, ...] = ()


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"critical": 4, "high": 3, "medium": 2, "low": 1}[self.value]


@dataclass(frozen=True, slots=True)
class FrameworkRef:
    framework: str  # e.g. "GDPR"
    reference: str  # e.g. "Art. 32(1)(b)"


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    severity: Severity
    title: str
    source: SourceName
    account_id: AccountId | None
    principal: str | None
    portal_id: PortalId | None
    portal_name: str | None
    message: str
    evidence: Mapping[str, str] = field(default_factory=dict, hash=False)
    remediation: str = ""
    references: tuple[FrameworkRef, ...] = ()
    # ``message`` is English; a report in another language says it again from these:
    # the catalogue id ("MFA-001.not_enrolled") and the values its text inserts, as
    # (name, value) pairs (a tuple, so the finding stays hashable and frozen). Empty in
    # results written before they existed: the report then shows ``message``.
    message_key: str = ""
    message_params: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity of a finding across runs (for diffs)."""
        return (self.rule_id, self.source, self.account_id or "", self.portal_id or "")


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """accounts read = evaluated + out of scope (by reason) + unreadable (by error)."""

    source: SourceName
    read: int
    evaluated: int
    out_of_scope: Mapping[str, int] = field(default_factory=dict, hash=False)
    unreadable: Mapping[str, int] = field(default_factory=dict, hash=False)

    @property
    def balanced(self) -> bool:
        return self.read == self.evaluated + sum(self.out_of_scope.values()) + sum(self.unreadable.values())


@dataclass(frozen=True, slots=True)
class ExceptionEntry:
    """An entry of the exceptions register, as the config states it."""

    id: str
    account: str  # principal (case-folded when matched)
    portals: tuple[str, ...]  # portal ids or names; empty means every portal
    reason: str
    approved_by: str
    expires: date
    rules: tuple[str, ...] = ()  # rule ids it covers; empty means every rule


@dataclass(frozen=True, slots=True)
class ExceptionStatus:
    entry: ExceptionEntry
    expired: bool
    used: int  # number of coverage rows it excepted


@dataclass(frozen=True, slots=True)
class Metrics:
    accounts_read: int
    accounts_in_scope: int
    sensitive_portals: int
    sensitive_accesses: int
    sensitive_protected: int
    sensitive_unknown: int
    findings_by_severity: Mapping[Severity, int] = field(default_factory=dict, hash=False)
    status_counts: Mapping[CoverageStatus, int] = field(default_factory=dict, hash=False)

    @property
    def protected_ratio(self) -> float | None:
        """Share of sensitive accesses protected; None when there is none to judge."""
        if self.sensitive_accesses == 0:
            return None
        return self.sensitive_protected / self.sensitive_accesses


@dataclass(frozen=True, slots=True)
class NotEvaluated:
    """A rule not run on a source because a fact it needs was not read there."""

    rule_id: str
    source: SourceName
    facts: tuple[Fact, ...]
    reason: str  # "last sign-in times were not read (permission AuditLog.Read.All missing)"
    detail: str = ""  # the source's own words on why ("permission AuditLog.Read.All missing"), for translations

    @property
    def message(self) -> str:
        return f"{self.rule_id} not evaluated on {self.source}: {self.reason}"


@dataclass(frozen=True, slots=True)
class AuditResult:
    run_id: str
    rule_set_version: str
    evaluated_at: datetime
    period: str
    complete: bool
    coverage: tuple[Coverage, ...]
    findings: tuple[Finding, ...]
    reconciliation: tuple[Reconciliation, ...]
    exceptions: tuple[ExceptionStatus, ...]
    metrics: Metrics
    # Rules not run on a source for lack of a fact (page one lists them); empty in
    # results written before it existed.
    not_evaluated: tuple[NotEvaluated, ...] = ()
    # The method-strength profile in force ("default", "cnil", "nist-800-63b-4").
    profile: str = "default"
