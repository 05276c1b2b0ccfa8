"""The validated configuration as the rest of the code sees it: frozen dataclasses.

``auditor.config.load`` parses and validates YAML (pydantic lives there) and produces these;
the engine, pipeline and renderers depend only on this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from auditor.interfaces import ReportOptions
from auditor.model import AccountKind, ExceptionEntry, MethodKind, Sensitivity, Strength


class MethodProfile(StrEnum):
    """Which method kinds count as a second factor, and at which strength
    (``auditor.engine.rules.profiles`` gives each profile's table and the text it follows)."""

    DEFAULT = "default"
    CNIL = "cnil"
    NIST_800_63B_4 = "nist-800-63b-4"


@dataclass(frozen=True, slots=True)
class EmergencyAccessEntry:
    """An entry of the emergency-access (break-glass) register: an account kept outside
    the MFA policies on purpose, judged by its own rule and never advised to be disabled."""

    account: str  # principal (case-folded when matched; identity links apply)
    justification: str
    owner: str
    last_review: date
    review_every_days: int = 90


@dataclass(frozen=True, slots=True)
class SourceConfig:
    name: str
    type: str  # entry-point name of the connector
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)  # secrets as auditor.interfaces.Secret
    collect_sign_ins: bool = False
    index: int = 0  # position in the file, for messages: sources[index]


@dataclass(frozen=True, slots=True)
class PortalMatch:
    """Every given criterion must hold. ``name_pattern`` is a case-insensitive glob;
    ``tag`` matches one of the portal's tags (e.g. ``ou:/Finance``)."""

    source: str | None = None
    id: str | None = None
    name: str | None = None
    name_pattern: str | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class PortalClass:
    """A classification rule; the first matching rule classifies a portal."""

    match: PortalMatch
    sensitivity: Sensitivity
    data_categories: tuple[str, ...] = ()
    sign_in_via: str | None = None  # source name of the upstream IdP (federation)


@dataclass(frozen=True, slots=True)
class EvaluationPolicy:
    required: Mapping[Sensitivity, Strength] = field(
        default_factory=lambda: {
            Sensitivity.HIGH: Strength.STRONG,
            Sensitivity.SENSITIVE: Strength.WEAK,
            Sensitivity.NORMAL: Strength.NONE,
        },
        hash=False,
    )
    privileged: Strength = Strength.PHISHING_RESISTANT
    dormant_after_days: int = 90
    account_kinds: frozenset[AccountKind] = frozenset({AccountKind.HUMAN, AccountKind.GUEST})
    include_disabled: bool = False
    excluded_accounts: tuple[str, ...] = ()  # principals, case-insensitive
    default_sensitivity: Sensitivity = Sensitivity.NORMAL
    profile: MethodProfile = MethodProfile.DEFAULT
    # Per-kind overrides of the profile's strengths (``policy.method_strengths``).
    method_strengths: Mapping[MethodKind, Strength] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class IdentityLink:
    """Declares two principals to be the same person across sources."""

    principal: str
    same_as: str


@dataclass(frozen=True, slots=True)
class EvaluationConfig:
    """What the coverage engine and rules need from the config."""

    portals: tuple[PortalClass, ...] = ()
    policy: EvaluationPolicy = field(default_factory=EvaluationPolicy)
    identity_links: tuple[IdentityLink, ...] = ()
    exceptions: tuple[ExceptionEntry, ...] = ()
    emergency_access: tuple[EmergencyAccessEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportConfig:
    formats: tuple[str, ...] = ("pdf", "json", "csv")
    output_dir: Path = Path("reports")
    options: ReportOptions = field(default_factory=ReportOptions)


@dataclass(frozen=True, slots=True)
class StoreConfig:
    path: Path | None = None  # None: the user's data directory
    retention_days: int | None = None  # account-level data of older runs is purged


@dataclass(frozen=True, slots=True)
class AuditConfig:
    path: Path
    digest: str  # SHA-256 of the file's bytes
    text: str  # the file as written (secrets are references only, never values)
    organisation: str
    contact: str
    period: str  # e.g. 2026-Q4
    period_start: date
    period_end: date
    sources: tuple[SourceConfig, ...]
    evaluation: EvaluationConfig
    report: ReportConfig
    store: StoreConfig
