"""The extension points: the ``Connector`` and ``Renderer`` protocols, what they
exchange, and the errors they may raise. The core depends only on this module and
``auditor.model``; connectors and renderers are found through entry points
(``auditor.registry``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

from auditor.evidence.run_artefacts import ReportArtefacts, RunArtefacts
from auditor.model import AuditResult, Snapshot, SourceSnapshot

# --- errors ----------------------------------------------------------------------------


class AuditorError(Exception):
    """Base of every error the CLI turns into a clear message and an exit code."""


class SecretError(AuditorError):
    """A secret reference could not be resolved. Never carries the secret's value."""


class ConnectorError(AuditorError):
    """Base for connector failures; adapters translate vendor errors with ``raise … from``."""


class SettingsError(ConnectorError):
    """A connector's settings are wrong. ``key`` is the path inside ``settings``
    (e.g. ``tenant_id``); the config loader prefixes file and source position."""

    def __init__(self, key: str, expected: str, got: str | None = None) -> None:
        self.key = key
        self.expected = expected
        self.got = got
        detail = f"{key}: expected {expected}" + (f", got {got}" if got is not None else "")
        super().__init__(detail)


class AuthenticationError(ConnectorError):
    """Credentials were refused or a token could not be obtained."""


class SourceUnavailable(ConnectorError):
    """The source could not be read at all (as opposed to partially: that is a
    SourceSnapshot with ``complete=False``)."""


class InputDataError(ConnectorError):
    """Input the user supplied (an import file, a snapshot) is malformed. The message
    names the file, the line / record and the column / field, and what was expected."""


class RenderError(AuditorError):
    """A renderer could not produce its output."""


# --- secrets ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Secret:
    """A reference to a secret (``{env: VAR}`` or ``{file: path}``), resolved only when
    a connector needs the value. Its repr and str name the reference, never the value."""

    env: str | None = None
    file: Path | None = None

    def reveal(self) -> str:
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None or value == "":
                raise SecretError(f"environment variable {self.env} is not set (secret reference)")
            return value
        if self.file is not None:
            try:
                return self.file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SecretError(f"secret file {self.file} cannot be read: {exc.strerror}") from None
            except UnicodeDecodeError:
                # The position and bytes in the decoder's message would quote the secret.
                raise SecretError(f"secret file {self.file} is not UTF-8 text") from None
        raise SecretError("empty secret reference")

    @property
    def reference(self) -> str:
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"

    def __repr__(self) -> str:
        return f"Secret({self.reference})"

    __str__ = __repr__


# --- connectors ------------------------------------------------------------------------


class CollectProgress:
    """What a connector tells the operator while it reads (all optional to call; the
    default does nothing). ``kind`` names a listing ("users", "factors"); totals come
    from the vendor where its API gives one ($count, usage report, a count endpoint).
    Thread-safe implementations only: sources are collected concurrently."""

    def total(self, kind: str, count: int) -> None:
        """The vendor's own count for ``kind``: the bar's end."""

    def read(self, kind: str, count: int = 1) -> None:
        """``count`` more records of ``kind`` read."""

    def request(self, count: int = 1) -> None:
        """``count`` more HTTP requests made."""

    def waiting(self, seconds: float, reason: str) -> None:
        """About to wait ``seconds`` (e.g. "rate limit", "retry after 503")."""


NO_PROGRESS = CollectProgress()


@dataclass(frozen=True, slots=True)
class CollectContext:
    """What the pipeline hands a connector for one collection."""

    source: str  # the source's name in the config
    now: datetime
    period_start: date
    period_end: date
    collect_sign_ins: bool = False
    previous: SourceSnapshot | None = None  # for incremental collection
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("mfa_auditor.collect"))
    progress: CollectProgress = NO_PROGRESS


@dataclass(frozen=True, slots=True)
class PermissionCheck:
    """One line of ``mfa-audit validate``: a permission / scope and whether it is granted."""

    name: str
    purpose: str
    granted: bool | None  # None: could not be determined
    detail: str = ""
    # Needed only when the source's sign-in log is collected (collect_sign_ins): a missing
    # one is then a warning, not a failure of `validate`.
    only_for_sign_ins: bool = False


@runtime_checkable
class Connector(Protocol):
    """One source. Built by its factory from the source's ``settings`` mapping; read-only."""

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        """Read everything. Partial reads return ``complete=False`` with issues; only a
        source that cannot be read at all raises ``SourceUnavailable``."""
        ...

    def check_access(self) -> tuple[PermissionCheck, ...]:
        """For ``mfa-audit validate``: can we authenticate, and which permissions are granted."""
        ...


class ConnectorFactory(Protocol):
    """The object an entry point of group ``mfa_auditor.connectors`` names (usually the
    connector class). ``base_dir`` is the config file's folder, for relative paths.
    Raises ``SettingsError`` for bad settings."""

    def __call__(self, source: str, settings: Mapping[str, Any], base_dir: Path) -> Connector: ...


# --- renderers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManagementResponse:
    """An entry of the config's ``responses`` register: management's answer to findings.

    The selector (``rule``, ``account``, ``portal``; each optional, all given must match)
    picks the findings it answers; ``first_seen`` is the period the findings were first
    reported, carried from quarter to quarter with the entry."""

    id: str
    owner: str
    action: str
    due: date
    status: str  # open / in_progress / done / risk_accepted
    rule: str | None = None
    account: str | None = None  # principal, case-insensitive
    portal: str | None = None  # portal id or name
    first_seen: str | None = None  # e.g. 2026-Q3
    internal: bool = False  # the action text stays out of the external edition


@dataclass(frozen=True, slots=True)
class SignOff:
    """One line of the sign-off block: who prepared, reviewed or approved the report."""

    role: str  # prepared / reviewed / approved
    name: str
    title: str = ""
    date: date | None = None


@dataclass(frozen=True, slots=True)
class ReportOptions:
    title: str = "MFA coverage audit"
    language: str = "en"  # en / fr
    pseudonymise: bool = False
    pseudonym_key: Secret | None = None
    max_detail_rows: int = 200  # per rule in the PDF; full data goes to the CSV
    # Optional PAdES signature of the PDF: the RSA key (a secret reference) and its certificate.
    signing_key: Secret | None = None
    signing_certificate: Path | None = None
    signing_timestamp_url: str | None = None  # an RFC 3161 time-stamping authority
    # Who may read the report files: 0600 (the user) unless report.file_mode says otherwise.
    file_mode: int = 0o600
    # What the report states and who answers for it (issue 18). ``targets``: the protected
    # share each sensitivity must reach (``policy.targets``; a missing one is 100 %).
    targets: Mapping[str, float] = field(default_factory=dict, hash=False)
    responses: tuple[ManagementResponse, ...] = ()
    signoff: tuple[SignOff, ...] = ()
    frameworks: tuple[str, ...] = ()  # keys of auditor.engine.rules.frameworks; empty: all
    csv_delimiter: str = ","
    # The external edition (for a regulator or an auditor) leaves out texts marked internal
    # (exceptions' reasons, responses' actions) and, with ``mask_accounts``, shows account
    # identifiers masked (j•••@example.org) short of full pseudonymisation.
    edition: str = "internal"  # internal / external
    mask_accounts: bool = False
    internal_exceptions: frozenset[str] = frozenset()  # ids of exceptions whose reason is internal


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Everything a renderer may show. Renderers never collect or evaluate."""

    organisation: str
    contact: str
    result: AuditResult
    snapshot: Snapshot
    options: ReportOptions
    generated_at: datetime
    config_digest: str
    config_text: str = ""  # the effective config, secrets shown only as references
    # Portal names and account principals, resolved once for all renderers.
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The run's snapshot file, encoded at most once (the run id, the store and the report
    # share it); required, so no stage falls back on hidden state.
    artefacts: RunArtefacts = field(kw_only=True, compare=False, repr=False)
    # What this context's renderers make once and share (evidence files, pseudonymised
    # edition): fresh for every context, ``dataclasses.replace`` included.
    made: ReportArtefacts = field(init=False, default_factory=ReportArtefacts, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.artefacts.snapshot is not self.snapshot:
            raise ValueError("ReportContext: the artefacts belong to another snapshot")


@runtime_checkable
class Renderer(Protocol):
    """An entry point of group ``mfa_auditor.renderers`` names a class with a
    no-argument constructor implementing this.

    A renderer may also declare, as class attributes, what else it can do; the pipeline
    reads them (``renderer_signable``, ``renderer_extra_outputs``) and never asks which
    format it is:

    - ``signable = True``: its output may be signed in place (PAdES) when the report
      options carry a signing key;
    - ``extra_outputs``: a tuple of ``ExtraOutput``, further files written beside the
      report (the coverage matrix beside the findings CSV).

    Both are optional, so a renderer written before they existed still loads."""

    extension: str  # file extension without the dot, e.g. "pdf"
    media_type: str

    def render(self, ctx: ReportContext, out: BinaryIO) -> None: ...


@dataclass(frozen=True, slots=True)
class ExtraOutput:
    """A further file a renderer writes beside its report: ``<stem><suffix>``."""

    suffix: str  # e.g. "-coverage.csv"
    write: Callable[[ReportContext, BinaryIO], None]


def renderer_signable(renderer: Renderer) -> bool:
    """Whether the renderer declares its output signable (``signable = True``)."""
    return getattr(renderer, "signable", False) is True


def renderer_extra_outputs(renderer: Renderer) -> tuple[ExtraOutput, ...]:
    """The further files the renderer declares (``extra_outputs``); none when it declares none.
    A declaration of the wrong type is a plugin bug, reported by name rather than half-honoured."""
    declared = getattr(renderer, "extra_outputs", ())
    if not isinstance(declared, tuple) or not all(isinstance(item, ExtraOutput) for item in declared):
        raise TypeError(f"{type(renderer).__name__}.extra_outputs must be a tuple of ExtraOutput")
    return declared


ProgressCallback = Callable[[str], None]
