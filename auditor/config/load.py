"""Kept whole on purpose: reading, validating and cross-checking share the node tree that
gives every message its file and line (the regrouping puts it in ``auditor/config/load/``
beside the config model).

Loading and validating the YAML config: the only place pydantic lives.

The YAML is read once into a node tree (for line numbers and duplicate keys) and plain
data, validated by pydantic models, then checked across sections (unique names,
references between sections, installed connectors and renderers) and turned into the
frozen dataclasses of ``auditor.config.schema``. Every problem found is collected and
reported together as a ``ConfigError``: file, line, key path such as
``sources[2].settings.tenant_id``, what was expected and what was found. A secret's
value is never part of a message.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from auditor.config.schema import (
    AuditConfig,
    EmergencyAccessEntry,
    EvaluationConfig,
    EvaluationPolicy,
    IdentityLink,
    MethodProfile,
    PortalClass,
    PortalMatch,
    ReportConfig,
    SourceConfig,
    StoreConfig,
)
from auditor.config.secrets import SECRET_FORM, ReferenceProblem, parse_reference
from auditor.interfaces import AuditorError, ReportOptions, Secret, SettingsError
from auditor.model import AccountKind, ExceptionEntry, MethodKind, Sensitivity, Strength
from auditor.registry import CONNECTOR_GROUP, RENDERER_GROUP, Registry

Loc = tuple[str | int, ...]

# --- the error ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the config. ``key`` is a path such as ``sources[2].settings.tenant_id``
    (empty for the file as a whole); ``message`` says what was expected and what was found."""

    file: Path
    key: str
    message: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(AuditorError):
    """The config cannot be used. ``str()`` is the message for humans, one problem per line."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def key_path(loc: Iterable[str | int]) -> str:
    """``('sources', 2, 'settings', 'tenant_id')`` → ``sources[2].settings.tenant_id``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


# --- the schema (input side) ---------------------------------------------------------------

_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_PERIOD = re.compile(r"(\d{4})-Q([1-4])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _source_name(value: object) -> object:
    if isinstance(value, str) and not _SOURCE_NAME.fullmatch(value):
        raise PydanticCustomError(
            "config", "expected a name of letters, digits, '-', '_' or '.' (at most 64 characters)"
        )
    return value


def _period(value: object) -> object:
    if isinstance(value, str) and not _PERIOD.fullmatch(value.strip()):
        raise PydanticCustomError("config", "expected a quarter such as 2026-Q4")
    return value.strip() if isinstance(value, str) else value


def _iso_date(value: object) -> object:
    # YAML turns an unquoted 2027-03-31 into a date already; a quoted one stays text.
    # Anything else (a timestamp number, a date-time) is refused rather than guessed.
    if isinstance(value, datetime):
        raise PydanticCustomError("config", "expected a date YYYY-MM-DD (without a time)")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise PydanticCustomError("config", "expected a real calendar date YYYY-MM-DD") from None
    raise PydanticCustomError("config", "expected a date YYYY-MM-DD")


_FILE_MODE = re.compile(r"0?[0-7]{3}")


def _file_mode(value: object) -> object:
    # Quoted: YAML reads an unquoted 0640 as the number 416 and 640 as six hundred forty.
    if not isinstance(value, str) or not _FILE_MODE.fullmatch(value.strip()):
        raise PydanticCustomError("config", "expected a quoted octal file mode such as '0600' or '0640'")
    mode = int(value.strip(), 8)
    if mode & 0o111 or mode & 0o600 != 0o600 or mode & 0o022:
        raise PydanticCustomError(
            "config", "expected a file mode the owner can read and write, no one else can write, none execute"
        )
    return mode


Text = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]
FileMode = Annotated[int, BeforeValidator(_file_mode)]
SourceNameText = Annotated[Text, BeforeValidator(_source_name)]
PeriodText = Annotated[StrictStr, BeforeValidator(_period)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
PositiveInt = Annotated[StrictInt, Field(ge=1, le=100_000_000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganisationIn(_In):
    name: Text
    contact: StrictStr = ""


class SourceIn(_In):
    name: SourceNameText
    type: Text
    settings: dict[StrictStr, Any] | None = None
    collect_sign_ins: StrictBool = False


class PortalMatchIn(_In):
    source: SourceNameText | None = None
    id: Text | None = None
    name: Text | None = None
    name_pattern: Text | None = None
    tag: Text | None = None


class PortalIn(_In):
    match: PortalMatchIn
    sensitivity: Sensitivity
    data_categories: list[Text] | None = None
    sign_in_via: SourceNameText | None = None


class RequiredIn(_In):
    high: Strength | None = None
    sensitive: Strength | None = None
    normal: Strength | None = None


Percent = Annotated[float, Field(ge=0, le=100, strict=False)]


class TargetsIn(_In):
    """The protected share (per cent) each sensitivity must reach for a portal to pass."""

    high: Percent | None = None
    sensitive: Percent | None = None
    normal: Percent | None = None


class PolicyIn(_In):
    required: RequiredIn | None = None
    privileged: Strength | None = None
    dormant_after_days: Annotated[StrictInt, Field(ge=1, le=36500)] | None = None
    account_kinds: Annotated[list[AccountKind], Field(min_length=1)] | None = None
    include_disabled: StrictBool | None = None
    excluded_accounts: list[Text] | None = None
    default_sensitivity: Sensitivity | None = None
    profile: MethodProfile | None = None  # default | cnil | nist-800-63b-4
    method_strengths: dict[MethodKind, Strength] | None = None  # per-kind overrides of the profile
    targets: TargetsIn | None = None


class EmergencyAccessIn(_In):
    """An entry of the emergency-access (break-glass) register."""

    account: Text
    justification: Text
    owner: Text
    last_review: IsoDate
    review_every_days: Annotated[StrictInt, Field(ge=1, le=3660)] | None = None


class LinkIn(_In):
    principal: Text
    same_as: Text


class IdentityIn(_In):
    links: list[LinkIn] | None = None


class ExceptionIn(_In):
    id: Text
    account: Text
    portals: list[Text] | None = None
    rules: list[Text] | None = None
    reason: Text
    approved_by: Text
    expires: IsoDate
    internal: StrictBool = False  # the reason stays out of the external edition


class ResponseIn(_In):
    id: Text
    rule: Text | None = None
    account: Text | None = None
    portal: Text | None = None
    owner: Text
    action: Text
    due: IsoDate
    status: Literal["open", "in_progress", "done", "risk_accepted"] = "open"
    first_seen: PeriodText | None = None
    internal: StrictBool = False


class SignerIn(_In):
    name: Text
    title: StrictStr = ""
    date: IsoDate | None = None


class SignOffIn(_In):
    prepared: SignerIn | None = None
    reviewed: SignerIn | None = None
    approved: SignerIn | None = None


class SigningIn(_In):
    key: Any  # a secret reference (the private key PEM): checked by hand so its value is never echoed
    certificate: Text
    timestamp_url: Annotated[StrictStr, Field(pattern=r"^https?://\S+$")] | None = None


FrameworkKey = Literal["anssi", "cis", "cnil", "dora", "gdpr", "iso27001", "nis2", "nist", "pci", "pgssi-s"]


class ReportIn(_In):
    title: Text | None = None
    language: Literal["en", "fr"] | None = None
    formats: Annotated[list[Text], Field(min_length=1)] | None = None
    output_dir: Text | None = None
    pseudonymise: StrictBool | None = None
    pseudonym_key: Any = None  # a secret reference: checked by hand so its value is never echoed
    max_detail_rows: PositiveInt | None = None
    signing: SigningIn | None = None
    file_mode: FileMode | None = None  # report files: 0600 unless given (auditor.report_files)
    signoff: SignOffIn | None = None
    frameworks: list[FrameworkKey] | None = None
    csv_delimiter: Literal[",", ";", "\t"] | None = None
    edition: Literal["internal", "external"] | None = None
    mask_accounts: StrictBool | None = None


class StoreIn(_In):
    path: Text | None = None
    retention_days: PositiveInt | None = None


class ConfigIn(_In):
    organisation: OrganisationIn
    period: PeriodText | None = None
    sources: Annotated[list[SourceIn], Field(min_length=1)]
    portals: list[PortalIn] | None = None
    policy: PolicyIn | None = None
    identity: IdentityIn | None = None
    exceptions: list[ExceptionIn] | None = None
    emergency_access: list[EmergencyAccessIn] | None = None
    responses: list[ResponseIn] | None = None
    report: ReportIn | None = None
    store: StoreIn | None = None


# --- reading the YAML ------------------------------------------------------------------------


@dataclass(slots=True)
class _Problems:
    file: Path
    root: yaml.Node | None = None
    items: list[ConfigProblem] | None = None

    def add(self, loc: Loc, message: str, *, node: yaml.Node | None = None) -> None:
        mark = node.start_mark if node is not None else _locate(self.root, loc)
        line = mark.line + 1 if mark is not None else None
        if self.items is None:
            self.items = []
        self.items.append(ConfigProblem(self.file, key_path(loc), message, line))

    def __bool__(self) -> bool:
        return bool(self.items)

    def error(self) -> ConfigError:
        return ConfigError(self.items or [])


def _locate(root: yaml.Node | None, loc: Loc) -> yaml.Mark | None:
    """The deepest position of ``loc`` found in the node tree: the key's line when the key
    exists, else its parent's (a missing key is reported where it should have been)."""
    if root is None:
        return None
    node = root
    mark = root.start_mark
    for part in loc:
        if isinstance(part, int) and isinstance(node, yaml.SequenceNode) and 0 <= part < len(node.value):
            node = node.value[part]
            mark = node.start_mark
        elif isinstance(part, str) and isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    node, mark = value, key.start_mark
                    break
            else:
                return mark
        else:
            return mark
    return mark


_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_MAX_DEPTH = 64


def _check_keys(node: yaml.Node, loc: Loc, problems: _Problems, seen: set[int]) -> None:
    """Duplicate keys (PyYAML silently keeps the last) and keys that are not text
    (``yes:`` is a boolean in YAML 1.1). Connector settings are the connector's business
    below their first level."""
    if id(node) in seen or len(loc) > _MAX_DEPTH:
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_keys(item, (*loc, i), problems, seen)
    elif isinstance(node, yaml.MappingNode):
        in_settings = len(loc) >= 3 and loc[0] == "sources" and loc[2] == "settings"
        first: dict[str, yaml.Node] = {}
        for key, value in node.value:
            if key.tag == _MERGE_TAG:
                continue
            if not isinstance(key, yaml.ScalarNode) or key.tag != _STR_TAG:
                if not in_settings or len(loc) == 3:
                    shown = key.value if isinstance(key, yaml.ScalarNode) else "a structure"
                    problems.add(loc, f"keys must be text, got {shown!r} (quote it)", node=key)
                continue
            if key.value in first:
                line = first[key.value].start_mark.line + 1
                problems.add((*loc, key.value), f"duplicate key (first given on line {line})", node=key)
            else:
                first[key.value] = key
            _check_keys(value, (*loc, key.value), problems, seen)


_MAX_EXPANDED_NODES = 200_000


def _check_expansion(root: yaml.Node, problems: _Problems) -> None:
    """Refuse aliases that expand past ``_MAX_EXPANDED_NODES`` (a "billion laughs" of a
    few KB): PyYAML builds them as shared objects, but everything that walks the result
    afterwards (validation, settings, digests) would visit every expansion. The count is
    memoised per node, so this check itself is linear in the composed nodes."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if not done and id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if not done:
            sizes[id(node)] = -1  # in progress: a node reached again through itself is a cycle
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(max(sizes.get(id(c), 1), 1) for c in children)
        sizes[id(node)] = min(total, _MAX_EXPANDED_NODES + 1)
    if sizes.get(id(root), 0) > _MAX_EXPANDED_NODES:
        problems.items = [
            ConfigProblem(
                problems.file, "", f"aliases expand to more than {_MAX_EXPANDED_NODES:,} values (an alias bomb?)"
            )
        ]
        raise problems.error()


def yaml_data(text: str, path: Path) -> Any:
    """The YAML of a config as plain data, with the loader's checks (duplicate keys,
    alias expansion); raises ``ConfigError`` naming ``path``."""
    return _read_yaml(text, _Problems(path))


class _Loader(yaml.SafeLoader):
    """Safe loading, except that an impossible date (2027-02-30) stays text, so the
    schema can name its key and line instead of PyYAML failing without a position."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> object:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[arg-type]
        except ValueError:
            return self.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _read_yaml(text: str, problems: _Problems) -> Any:
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        problems.root = node
        if node is None:
            return None
        _check_keys(node, (), problems, set())
        _check_expansion(node, problems)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "not valid YAML"
        if mark is not None:
            problems.items = [ConfigProblem(problems.file, "", f"YAML syntax: {what}", mark.line + 1, mark.column + 1)]
        else:
            problems.items = [ConfigProblem(problems.file, "", f"YAML syntax: {what}")]
    except yaml.YAMLError as exc:
        problems.items = [ConfigProblem(problems.file, "", f"not valid YAML: {exc}")]
    except (ValueError, OverflowError) as exc:
        # PyYAML lets a few bad scalars through as plain ValueErrors (2026-13-45, !!int x).
        problems.items = [ConfigProblem(problems.file, "", f"not valid YAML: a value cannot be read ({exc})")]
    except RecursionError:
        problems.items = [ConfigProblem(problems.file, "", "not valid YAML: nested too deeply")]
    finally:
        if loader is not None:
            loader.dispose()
    raise problems.error()


# --- pydantic errors → problems ------------------------------------------------------------


def _describe(value: Any) -> str:
    """What was found, briefly. Only ever called on values that are not secrets."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _strip(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(loc: Loc) -> type[BaseModel] | None:
    tp: Any = ConfigIn
    for part in loc:
        tp = _strip(tp)
        if isinstance(part, int):
            if get_origin(tp) is not list:
                return None
            tp = get_args(tp)[0]
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            tp = tp.model_fields[part].annotation
        else:
            return None
    tp = _strip(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


_EXPECTED: dict[str, str] = {
    "string_type": "text",
    "string_too_short": "non-empty text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _problem_from_pydantic(err: Mapping[str, Any], problems: _Problems) -> None:
    loc: Loc = tuple(p for p in err["loc"] if p != "[key]")
    kind = err["type"]
    ctx = err.get("ctx") or {}
    found = err.get("input")
    if kind == "missing":
        problems.add(loc, "required key is missing")
        return
    if kind == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model is not None else []
        hint = did_you_mean(key, allowed)
        listing = f" (allowed: {', '.join(allowed)})" if allowed and not hint else ""
        problems.add(loc, f"unknown key{hint}{listing}")
        return
    if kind == "config":
        problems.add(loc, f"{err['msg']}, got {_describe(found)}")
        return
    if kind in ("enum", "literal_error"):
        expected = f"one of {ctx.get('expected', '')}"
    elif kind in ("greater_than_equal", "less_than_equal"):
        low = ctx.get("ge")
        expected = f"a whole number of at least {low}" if low is not None else f"a whole number up to {ctx.get('le')}"
    elif kind == "too_short":
        expected = f"a list of at least {ctx.get('min_length', 1)} item(s)"
    elif kind == "recursion_loop":
        problems.add(loc, "a structure that refers to itself")
        return
    else:
        expected = _EXPECTED.get(kind, str(err["msg"]).lower())
    problems.add(loc, f"expected {expected}, got {_describe(found)}")


# --- secrets ----------------------------------------------------------------------------------

_SECRET_WORDS = frozenset({"secret", "password", "passwd", "passphrase", "token", "key", "credential", "credentials"})
_SECRET_NAMES = frozenset({"private_key", "api_token", "client_secret", "api_key", "pat"})


def is_secret_key(key: str) -> bool:
    """Whether a settings key names a secret: ``client_secret``, ``api_token``, ``key``…
    (the last word decides, so ``token_uri`` or ``key_id`` do not count)."""
    lowered = key.lower()
    words = [w for w in re.split(r"[_\-.\s]+", lowered) if w]
    return lowered in _SECRET_NAMES or (bool(words) and words[-1] in _SECRET_WORDS)


def _secret_ref(value: Mapping[Any, Any], loc: Loc, base_dir: Path, problems: _Problems) -> Secret | None:
    """``{env: VAR}`` or ``{file: path}`` → Secret (``auditor.config.secrets`` parses every
    reference); anything else near it is a problem."""
    try:
        return parse_reference(value, base_dir)
    except ReferenceProblem as problem:
        problems.add((*loc, problem.part) if problem.part else loc, problem.message)
        return None


def _settings(value: Any, loc: Loc, base_dir: Path, problems: _Problems, depth: int = 0) -> Any:
    """Connector settings with secret references turned into ``Secret``; a plain value
    under a key that names a secret is a problem (and is not echoed)."""
    if depth > _MAX_DEPTH:
        problems.add(loc, "nested too deeply")
        return None
    if isinstance(value, (Mapping, list)):
        # An aliased node is one object reached many times: converted once.
        memo = _settings_memo.get()
        if memo is None:
            token = _settings_memo.set({})
            try:
                return _settings(value, loc, base_dir, problems, depth)
            finally:
                _settings_memo.reset(token)
        if id(value) in memo:
            if memo[id(value)] is _IN_PROGRESS:
                problems.add(loc, "a structure that contains itself")
                return None
            return memo[id(value)]
        memo[id(value)] = _IN_PROGRESS
        converted = _settings_uncached(value, loc, base_dir, problems, depth)
        memo[id(value)] = converted
        return converted
    return value


_IN_PROGRESS = object()
_settings_memo: ContextVar[dict[int, Any] | None] = ContextVar("_settings_memo", default=None)


def _settings_uncached(value: Any, loc: Loc, base_dir: Path, problems: _Problems, depth: int) -> Any:
    if isinstance(value, Mapping):
        keys = set(value)
        if keys and keys <= {"env", "file"} and depth > 0:
            return _secret_ref(value, loc, base_dir, problems)
        out: dict[Any, Any] = {}
        for key, item in value.items():
            child = (*loc, str(key))
            if isinstance(key, str) and is_secret_key(key) and item is not None and not isinstance(item, Mapping):
                problems.add(child, f"{SECRET_FORM}, got {'a string' if isinstance(item, str) else 'a plain value'}")
                continue
            out[key] = _settings(item, child, base_dir, problems, depth + 1)
        return out
    if isinstance(value, list):
        return [_settings(item, (*loc, i), base_dir, problems, depth + 1) for i, item in enumerate(value)]
    return value


# --- the whole thing ------------------------------------------------------------------------------


def current_quarter(now: datetime) -> tuple[str, date, date]:
    q = (now.month - 1) // 3
    start = date(now.year, 3 * q + 1, 1)
    end = date(now.year + 1, 1, 1) if q == 3 else date(now.year, 3 * q + 4, 1)
    return f"{now.year}-Q{q + 1}", start, end - timedelta(days=1)


def quarter_bounds(period: str) -> tuple[date, date]:
    match = _PERIOD.fullmatch(period)
    if match is None:
        raise ValueError(f"not a quarter: {period!r}")
    year, q = int(match.group(1)), int(match.group(2))
    _, start, end = current_quarter(datetime(year, 3 * q, 1))
    return start, end


def load_config(path: Path, *, now: datetime, registry: Registry | None = None) -> AuditConfig:
    """Read and validate the config file at ``path``. Raises ``ConfigError``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(path, "", "config file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([ConfigProblem(path, "", "is a folder, expected a YAML file")]) from None
    except OSError as exc:
        raise ConfigError([ConfigProblem(path, "", f"cannot be read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem(path, "", f"not UTF-8 text (byte {exc.start})")]) from None
    return _parse(text, path, now, hashlib.sha256(raw).hexdigest(), registry)


def parse_config(text: str, path: Path, *, now: datetime, registry: Registry | None = None) -> AuditConfig:
    """Validate config text (e.g. the config embedded in a report); ``path`` names it in
    messages and anchors relative paths. Raises ``ConfigError``."""
    return _parse(text, path, now, hashlib.sha256(text.encode("utf-8")).hexdigest(), registry)


def _parse(text: str, path: Path, now: datetime, digest: str, registry: Registry | None) -> AuditConfig:
    problems = _Problems(path)
    data = _read_yaml(text, problems)
    if data is None:
        raise ConfigError(
            [ConfigProblem(path, "", "the file is empty: expected a mapping with organisation, sources…")]
        )
    if not isinstance(data, dict):
        raise ConfigError(
            [
                ConfigProblem(
                    path, "", f"the top level must be a mapping (organisation, sources…), got {_describe(data)}"
                )
            ]
        )
    # Every relative path in the file is resolved here, once, against the config's own
    # folder made absolute: later users (store, reports, secrets) never join it again, so
    # the working directory a command runs from changes nothing.
    base_dir = path.parent.absolute()
    settings = _raw_settings(data, base_dir, problems)
    pseudonym_key = _raw_pseudonym_key(data, base_dir, problems)
    signing_key = _raw_signing_key(data, base_dir, problems)
    try:
        parsed = ConfigIn.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            _problem_from_pydantic(err, problems)
        raise problems.error() from None
    except RecursionError:
        problems.add((), "a structure nested too deeply or referring to itself")
        raise problems.error() from None
    _cross_checks(parsed, problems, registry or Registry())
    raw_report = data.get("report")
    key_given = isinstance(raw_report, dict) and raw_report.get("pseudonym_key") is not None
    if parsed.report is not None and parsed.report.pseudonymise and not key_given:
        problems.add(("report", "pseudonym_key"), f"required when pseudonymise is true: {SECRET_FORM}")
    if problems:
        raise problems.error()
    return _build(parsed, path, text, digest, now, settings, pseudonym_key, signing_key)


def _raw_signing_key(data: Mapping[str, Any], base_dir: Path, problems: _Problems) -> Secret | None:
    report = data.get("report")
    signing = report.get("signing") if isinstance(report, dict) else None
    value = signing.get("key") if isinstance(signing, dict) else None
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _secret_ref(value, ("report", "signing", "key"), base_dir, problems)
    problems.add(
        ("report", "signing", "key"), f"{SECRET_FORM}, got {'a string' if isinstance(value, str) else 'a value'}"
    )
    return None


def _raw_settings(data: Mapping[str, Any], base_dir: Path, problems: _Problems) -> list[Mapping[str, Any]]:
    sources = data.get("sources")
    out: list[Mapping[str, Any]] = []
    if not isinstance(sources, list):
        return out
    for i, source in enumerate(sources):
        raw = source.get("settings") if isinstance(source, dict) else None
        converted = _settings(raw, ("sources", i, "settings"), base_dir, problems) if isinstance(raw, dict) else {}
        out.append(converted)
    return out


def _raw_pseudonym_key(data: Mapping[str, Any], base_dir: Path, problems: _Problems) -> Secret | None:
    report = data.get("report")
    value = report.get("pseudonym_key") if isinstance(report, dict) else None
    if value is None:
        return None
    if isinstance(value, Mapping):
        return _secret_ref(value, ("report", "pseudonym_key"), base_dir, problems)
    problems.add(
        ("report", "pseudonym_key"), f"{SECRET_FORM}, got {'a string' if isinstance(value, str) else 'a value'}"
    )
    return None


def _installed(registry: Registry, group: str) -> list[str]:
    return registry.names(group)


def _unique(
    items: Sequence[Any], key: Callable[[Any], str], loc: Callable[[int], Loc], what: str, problems: _Problems
) -> None:
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        value = key(item)
        if value in first:
            problems.add(loc(i), f"duplicate {what} {value!r} (first at index {first[value]})")
        else:
            first[value] = i


def _cross_checks(cfg: ConfigIn, problems: _Problems, registry: Registry) -> None:
    _unique(cfg.sources, lambda s: s.name, lambda i: ("sources", i, "name"), "source name", problems)
    declared = [s.name for s in cfg.sources]
    connectors = _installed(registry, CONNECTOR_GROUP)
    for i, source in enumerate(cfg.sources):
        if source.type not in connectors:
            problems.add(
                ("sources", i, "type"),
                f"expected an installed connector, got {source.type!r}{did_you_mean(source.type, connectors)}"
                f" (installed: {', '.join(connectors) or 'none'})",
            )
    for i, portal in enumerate(cfg.portals or ()):
        match = portal.match
        if not any((match.source, match.id, match.name, match.name_pattern, match.tag)):
            problems.add(("portals", i, "match"), "expected at least one of source, id, name, name_pattern, tag")
        for field_loc, name in ((("match", "source"), match.source), (("sign_in_via",), portal.sign_in_via)):
            if name is not None and name not in declared:
                problems.add(
                    ("portals", i, *field_loc),
                    f"expected the name of a declared source ({', '.join(declared)}), got {name!r}"
                    + did_you_mean(name, declared),
                )
    exceptions = cfg.exceptions or []
    _unique(exceptions, lambda e: e.id, lambda i: ("exceptions", i, "id"), "exception id", problems)
    _unique(cfg.responses or [], lambda r: r.id, lambda i: ("responses", i, "id"), "response id", problems)
    rule_ids = _rule_ids()
    for i, response in enumerate(cfg.responses or ()):
        if response.rule is not None and response.rule not in rule_ids:
            problems.add(
                ("responses", i, "rule"),
                f"expected a rule id ({', '.join(sorted(rule_ids))}), got {response.rule!r}"
                + did_you_mean(response.rule, rule_ids),
            )
        if response.rule is None and response.account is None and response.portal is None:
            problems.add(("responses", i), "expected at least one of rule, account, portal (which findings it answers)")
    for i, entry in enumerate(exceptions):
        for j, rule_id in enumerate(entry.rules or ()):
            if rule_id not in rule_ids:
                problems.add(
                    ("exceptions", i, "rules", j),
                    f"expected a rule id ({', '.join(sorted(rule_ids))}), got {rule_id!r}"
                    + did_you_mean(rule_id, rule_ids),
                )
    if cfg.report is not None and cfg.report.formats is not None:
        renderers = _installed(registry, RENDERER_GROUP)
        for i, fmt in enumerate(cfg.report.formats):
            if fmt not in renderers:
                problems.add(
                    ("report", "formats", i),
                    f"expected one of {', '.join(renderers)}, got {fmt!r}{did_you_mean(fmt, renderers)}",
                )


def _rule_ids() -> frozenset[str]:
    # Imported here: the catalogue is large and only exceptions with ``rules`` need it.
    from auditor.engine.rules import RULES

    return frozenset(r.id for r in RULES)


def _relative(base_dir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _build(
    cfg: ConfigIn,
    path: Path,
    text: str,
    digest: str,
    now: datetime,
    settings: list[Mapping[str, Any]],
    pseudonym_key: Secret | None,
    signing_key: Secret | None = None,
) -> AuditConfig:
    base_dir = path.parent.absolute()
    if cfg.period is not None:
        period = cfg.period
        start, end = quarter_bounds(period)
    else:
        period, start, end = current_quarter(now)
    defaults = EvaluationPolicy()
    pol = cfg.policy or PolicyIn()
    req = pol.required or RequiredIn()
    given = {Sensitivity.HIGH: req.high, Sensitivity.SENSITIVE: req.sensitive, Sensitivity.NORMAL: req.normal}
    required = {**defaults.required, **{k: v for k, v in given.items() if v is not None}}
    policy = EvaluationPolicy(
        required=required,
        privileged=pol.privileged if pol.privileged is not None else defaults.privileged,
        dormant_after_days=pol.dormant_after_days
        if pol.dormant_after_days is not None
        else defaults.dormant_after_days,
        account_kinds=frozenset(pol.account_kinds) if pol.account_kinds is not None else defaults.account_kinds,
        include_disabled=pol.include_disabled if pol.include_disabled is not None else defaults.include_disabled,
        excluded_accounts=tuple(pol.excluded_accounts or ()),
        default_sensitivity=pol.default_sensitivity or defaults.default_sensitivity,
        profile=pol.profile or defaults.profile,
        method_strengths=dict(pol.method_strengths or {}),
    )
    emergency = _emergency_access(cfg.emergency_access or ())
    portals = tuple(
        PortalClass(
            match=PortalMatch(p.match.source, p.match.id, p.match.name, p.match.name_pattern, p.match.tag),
            sensitivity=p.sensitivity,
            data_categories=tuple(p.data_categories or ()),
            sign_in_via=p.sign_in_via,
        )
        for p in cfg.portals or ()
    )
    exceptions = tuple(
        ExceptionEntry(
            id=e.id,
            account=e.account,
            portals=tuple(e.portals or ()),
            reason=e.reason,
            approved_by=e.approved_by,
            expires=e.expires,
            rules=tuple(e.rules or ()),
        )
        for e in cfg.exceptions or ()
    )
    links = tuple(IdentityLink(link.principal, link.same_as) for link in (cfg.identity and cfg.identity.links) or ())
    rep = cfg.report
    opt_defaults, rep_defaults = ReportOptions(), ReportConfig()
    options = ReportOptions(
        title=rep.title if rep and rep.title else opt_defaults.title,
        language=rep.language if rep and rep.language else opt_defaults.language,
        pseudonymise=bool(rep and rep.pseudonymise),
        pseudonym_key=pseudonym_key,
        max_detail_rows=rep.max_detail_rows if rep and rep.max_detail_rows else opt_defaults.max_detail_rows,
        signing_key=signing_key,
        signing_certificate=(_relative(base_dir, rep.signing.certificate) if rep and rep.signing is not None else None),
        signing_timestamp_url=rep.signing.timestamp_url if rep and rep.signing is not None else None,
        file_mode=rep.file_mode if rep and rep.file_mode is not None else opt_defaults.file_mode,
        **_document_options(cfg),
    )
    formats = tuple(dict.fromkeys(rep.formats)) if rep and rep.formats else rep_defaults.formats
    report = ReportConfig(
        formats=formats,
        output_dir=_relative(base_dir, rep.output_dir if rep and rep.output_dir else str(rep_defaults.output_dir)),
        options=options,
    )
    store = StoreConfig(
        path=_relative(base_dir, cfg.store.path) if cfg.store and cfg.store.path else None,
        retention_days=cfg.store.retention_days if cfg.store else None,
    )
    sources = tuple(
        SourceConfig(name=s.name, type=s.type, settings=settings[i], collect_sign_ins=s.collect_sign_ins, index=i)
        for i, s in enumerate(cfg.sources)
    )
    return AuditConfig(
        path=path,
        digest=digest,
        text=text,
        organisation=cfg.organisation.name,
        contact=cfg.organisation.contact.strip(),
        period=period,
        period_start=start,
        period_end=end,
        sources=sources,
        evaluation=EvaluationConfig(
            portals=portals, policy=policy, identity_links=links, exceptions=exceptions, emergency_access=emergency
        ),
        report=report,
        store=store,
    )


def source_settings_error(config: AuditConfig, source: SourceConfig, err: SettingsError) -> ConfigError:
    """A connector refused its settings: the same error, named by file, line and key path."""
    loc: Loc = ("sources", source.index, "settings", *(p for p in err.key.split(".") if p))
    message = f"expected {err.expected}" + (f", got {err.got}" if err.got is not None else "")
    root: yaml.Node | None = None
    try:
        root = yaml.compose(config.text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, ValueError, RecursionError):
        root = None  # the text parsed once already; a line number is a nicety
    problems = _Problems(config.path, root)
    problems.add(loc, f"{message} (connector {source.type!r} of source {source.name!r})")
    return problems.error()


def _emergency_access(entries: Iterable[EmergencyAccessIn]) -> tuple[EmergencyAccessEntry, ...]:
    """The emergency-access register as the engine sees it (issue #14)."""
    default_days = EmergencyAccessEntry("", "", "", date.min).review_every_days
    return tuple(
        EmergencyAccessEntry(
            account=e.account,
            justification=e.justification,
            owner=e.owner,
            last_review=e.last_review,
            review_every_days=e.review_every_days or default_days,
        )
        for e in entries
    )


def _document_options(cfg: ConfigIn) -> dict[str, Any]:
    """The report keys of issue 18: targets, the responses register, sign-off, frameworks,
    the CSV delimiter, the edition and what it leaves out."""
    from auditor.interfaces import ManagementResponse, SignOff

    rep = cfg.report
    given = cfg.policy.targets if cfg.policy is not None else None
    targets = {
        s.value: getattr(given, s.value) / 100
        for s in Sensitivity
        if given is not None and getattr(given, s.value) is not None
    }
    responses = tuple(
        ManagementResponse(
            id=r.id,
            owner=r.owner,
            action=r.action,
            due=r.due,
            status=r.status,
            rule=r.rule,
            account=r.account,
            portal=r.portal,
            first_seen=r.first_seen,
            internal=r.internal,
        )
        for r in cfg.responses or ()
    )
    signoff: list[SignOff] = []
    if rep is not None and rep.signoff is not None:
        for role in ("prepared", "reviewed", "approved"):
            signer = getattr(rep.signoff, role)
            if signer is not None:
                signoff.append(SignOff(role, signer.name, signer.title.strip(), signer.date))
    return {
        "targets": targets,
        "responses": responses,
        "signoff": tuple(signoff),
        "frameworks": tuple(dict.fromkeys(rep.frameworks)) if rep and rep.frameworks else (),
        "csv_delimiter": rep.csv_delimiter if rep and rep.csv_delimiter else ",",
        "edition": rep.edition if rep and rep.edition else "internal",
        "mask_accounts": bool(rep and rep.mask_accounts),
        "internal_exceptions": frozenset(e.id for e in cfg.exceptions or () if e.internal),
    }
