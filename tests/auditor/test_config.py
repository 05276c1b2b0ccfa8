"""The YAML config loader: valid configs become the frozen model; every bad one gives a
ConfigError naming file, line, key path and expectation, never a traceback or a secret."""

from __future__ import annotations

import hashlib
import re
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.config.load import ConfigError, load_config, parse_config, source_settings_error
from auditor.config.schema import AuditConfig
from auditor.interfaces import Secret, SettingsError
from auditor.model import AccountKind, Sensitivity, Strength

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "example-config.yaml"

MINIMAL = """\
organisation: {name: Mutuelle Exemple, contact: rssi@example.org}
sources:
  - name: entra
    type: entra
    settings:
      tenant_id: t-1
      client_secret: {env: ENTRA_SECRET}
"""


def parse(text: str, name: str = "audit.yaml") -> AuditConfig:
    return parse_config(textwrap.dedent(text), Path("/etc/mfa") / name, now=NOW)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text)
    message = str(info.value)
    assert "Traceback" not in message and "pydantic" not in message.lower()
    assert len(message.splitlines()) == len(info.value.problems)
    return message


# --- valid configs --------------------------------------------------------------------------


def test_minimal_config_takes_the_defaults() -> None:
    config = parse(MINIMAL)
    assert config.organisation == "Mutuelle Exemple" and config.contact == "rssi@example.org"
    # No period: the quarter of `now`.
    assert (config.period, config.period_start, config.period_end) == ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    (source,) = config.sources
    assert source.name == "entra" and source.type == "entra" and source.index == 0 and not source.collect_sign_ins
    assert source.settings["tenant_id"] == "t-1"
    assert source.settings["client_secret"] == Secret(env="ENTRA_SECRET")
    policy = config.evaluation.policy
    assert policy.required[Sensitivity.HIGH] is Strength.STRONG and policy.privileged is Strength.PHISHING_RESISTANT
    assert config.report.output_dir == Path("/etc/mfa/reports")
    assert config.store.path is None and config.text == MINIMAL
    assert config.digest == hashlib.sha256(MINIMAL.encode()).hexdigest()


def test_example_config_loads_in_full(tmp_path: Path) -> None:
    config = load_config(EXAMPLE, now=NOW)
    assert config.digest == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert config.period == "2026-Q4"
    assert [s.type for s in config.sources] == ["entra", "google_workspace", "okta", "file"]
    google = config.sources[1]
    # A {file: …} reference is relative to the config's folder.
    assert google.settings["credentials"] == Secret(file=EXAMPLE.parent / "secrets/google-service-account.json")
    assert config.sources[3].settings["portals"] == {"crm": "Legacy CRM", "crm-admin": "Legacy CRM administration"}
    ev = config.evaluation
    assert ev.portals[1].sign_in_via == "okta" and ev.portals[2].match.name_pattern == "Partner*"
    assert ev.policy.account_kinds == frozenset({AccountKind.HUMAN, AccountKind.GUEST})
    assert ev.policy.excluded_accounts == ("breakglass1@mutuelle-exemple.fr",)
    assert ev.identity_links[0].same_as == "jeanne.martin@partenaires.mutuelle-exemple.fr"
    (exc,) = ev.exceptions
    assert exc.expires == date(2027, 3, 31) and exc.rules == ("MFA-001",) and exc.portals == ("app-claims",)
    assert config.report.formats == ("pdf", "html", "json", "csv", "ocsf")
    assert config.report.options.pseudonym_key == Secret(env="MFA_AUDIT_PSEUDONYM_KEY")
    assert config.report.options.language == "en" and config.report.options.max_detail_rows == 200
    assert config.store.path == EXAMPLE.parent / "evidence.sqlite3" and config.store.retention_days == 400
    # The same text parsed from memory (a config embedded in a report) gives the same config.
    assert parse_config(EXAMPLE.read_text("utf-8"), EXAMPLE, now=NOW) == config


def test_period_gives_its_quarter_bounds() -> None:
    config = parse(MINIMAL + "period: 2027-Q1\n")
    assert (config.period_start, config.period_end) == (date(2027, 1, 1), date(2027, 3, 31))
    config = parse(MINIMAL + "period: 2024-Q3\n")
    assert (config.period_start, config.period_end) == (date(2024, 7, 1), date(2024, 9, 30))


def test_partial_required_keeps_the_other_defaults_and_quoted_dates_work() -> None:
    config = parse(
        MINIMAL
        + "policy: {required: {normal: weak}}\n"
        + "exceptions:\n  - {id: E1, account: a@x, reason: r, approved_by: b, expires: '2027-01-31'}\n"
    )
    required = config.evaluation.policy.required
    assert required[Sensitivity.NORMAL] is Strength.WEAK and required[Sensitivity.HIGH] is Strength.STRONG
    assert config.evaluation.exceptions[0].expires == date(2027, 1, 31)


def test_secret_repr_never_shows_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRA_SECRET", "s3cr3t-value")
    config = parse(MINIMAL)
    assert "s3cr3t-value" not in repr(config)
    assert config.sources[0].settings["client_secret"].reveal() == "s3cr3t-value"


# --- bad configs: each names the file, the key path and what was expected ---------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml: config file not found"):
        load_config(tmp_path / "nowhere.yaml", now=NOW)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"empty\.yaml: the file is empty: expected a mapping"):
        load_config(path, now=NOW)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("organisation: {name: Société}\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.yaml: not UTF-8 text"):
        load_config(path, now=NOW)


def test_top_level_must_be_a_mapping() -> None:
    assert (
        error_of("- entra\n- okta\n")
        == "/etc/mfa/audit.yaml: the top level must be a mapping (organisation, sources…), got a list"
    )


def test_yaml_syntax_error_names_line_and_column() -> None:
    message = error_of(MINIMAL + "portals: [unclosed\n")
    assert message.startswith("/etc/mfa/audit.yaml:9:1: YAML syntax:"), message


def test_unknown_top_level_key_suggests_the_close_one() -> None:
    message = error_of(MINIMAL + "exeptions: []\n")
    assert message == "/etc/mfa/audit.yaml:8: exeptions: unknown key; did you mean 'exceptions'?"


def test_unknown_nested_key_suggests_or_lists() -> None:
    message = error_of(MINIMAL + "portals:\n  - match: {nmae: CRM}\n    sensitivity: high\n")
    assert "audit.yaml:9: portals[0].match.nmae: unknown key; did you mean 'name'?" in message
    message = error_of(MINIMAL + "report: {colour: blue}\n")
    assert "report.colour: unknown key (allowed: csv_delimiter, edition, file_mode, formats, frameworks," in message


def test_missing_organisation_and_sources() -> None:
    message = error_of("period: 2026-Q4\n")
    assert "audit.yaml:1: organisation: required key is missing" in message
    assert "audit.yaml:1: sources: required key is missing" in message
    assert "sources: expected a list of at least 1 item(s), got a list" in error_of(
        "organisation: {name: X}\nsources: []\n"
    )


def test_bad_period() -> None:
    message = error_of(MINIMAL + "period: Q4 2026\n")
    assert message == "/etc/mfa/audit.yaml:8: period: expected a quarter such as 2026-Q4, got 'Q4 2026'"
    assert "period: expected a quarter such as 2026-Q4" in error_of(MINIMAL + "period: 2026-Q5\n")


def test_bad_enum_values_list_the_allowed_ones() -> None:
    message = error_of(MINIMAL + "portals:\n  - match: {id: crm}\n    sensitivity: critical\n")
    assert "portals[0].sensitivity: expected one of 'high', 'sensitive' or 'normal', got 'critical'" in message
    message = error_of(MINIMAL + "policy: {required: {high: medium}, account_kinds: [robot]}\n")
    assert "policy.required.high: expected one of 'none', 'weak', 'strong' or 'phishing_resistant', got 'medium'" in (
        message
    )
    assert "policy.account_kinds[0]: expected one of 'human', 'guest' or 'service', got 'robot'" in message


def test_wrong_scalar_types() -> None:
    message = error_of(MINIMAL + "policy: {dormant_after_days: '90', include_disabled: maybe}\n")
    assert "policy.dormant_after_days: expected a whole number, got '90'" in message
    assert "policy.include_disabled: expected true or false, got 'maybe'" in message
    assert "policy.dormant_after_days: expected a whole number of at least 1, got 0" in error_of(
        MINIMAL + "policy: {dormant_after_days: 0}\n"
    )
    assert "organisation.name: expected text, got 42" in error_of(MINIMAL.replace("Mutuelle Exemple", "42"))


def test_duplicate_source_names_and_unknown_connector() -> None:
    message = error_of(MINIMAL + "  - {name: entra, type: entr}\n")
    assert "sources[1].name: duplicate source name 'entra' (first at index 0)" in message
    assert "sources[1].type: expected an installed connector, got 'entr'; did you mean 'entra'?" in message
    # The installed connectors, sorted (built-ins listed; more may come before "entra").
    assert re.search(r"\(installed: ([a-z0-9_]+, )*entra, file, google_workspace, ([a-z0-9_]+, )*okta\)", message)


def test_bad_source_name() -> None:
    message = error_of(MINIMAL.replace("name: entra", "name: 'my entra'"))
    assert "audit.yaml:3: sources[0].name: expected a name of letters, digits" in message


def test_portal_references_and_empty_match() -> None:
    message = error_of(
        MINIMAL + "portals:\n  - match: {}\n    sensitivity: high\n"
        "  - match: {source: entar}\n    sensitivity: high\n    sign_in_via: okta\n"
    )
    assert "audit.yaml:9: portals[0].match: expected at least one of source, id, name, name_pattern, tag" in message
    assert (
        "portals[1].match.source: expected the name of a declared source (entra), got 'entar'; did you mean 'entra'?"
        in (message)
    )
    assert (
        "audit.yaml:13: portals[1].sign_in_via: expected the name of a declared source (entra), got 'okta'" in message
    )


def test_exceptions_register_problems() -> None:
    message = error_of(
        MINIMAL
        + "exceptions:\n"
        + "  - {id: E1, account: a@x, expires: 2027-01-31}\n"
        + "  - {id: E1, account: b@x, reason: r, approved_by: b, expires: 2027-02-30, rules: [MFA-01]}\n"
        + "  - {id: E2, account: c@x, reason: r, approved_by: b, expires: 1735689600}\n"
    )
    assert "audit.yaml:9: exceptions[0].reason: required key is missing" in message
    assert "exceptions[0].approved_by: required key is missing" in message
    assert "exceptions[1].expires: expected a real calendar date YYYY-MM-DD, got '2027-02-30'" in message
    assert "exceptions[2].expires: expected a date YYYY-MM-DD, got 1735689600" in message


def test_duplicate_exception_ids_and_unknown_rule() -> None:
    message = error_of(
        MINIMAL
        + "exceptions:\n"
        + "  - {id: E1, account: a@x, reason: r, approved_by: b, expires: 2027-01-31}\n"
        + "  - {id: E1, account: b@x, reason: r, approved_by: b, expires: 2027-01-31, rules: [MFA-001x]}\n"
    )
    assert "exceptions[1].id: duplicate exception id 'E1' (first at index 0)" in message
    assert "exceptions[1].rules[0]: expected a rule id (MFA-001, MFA-002" in message
    assert "got 'MFA-001x'; did you mean 'MFA-001'?" in message


def test_report_problems() -> None:
    message = error_of(MINIMAL + "report: {language: de, max_detail_rows: -1}\n")
    assert "report.language: expected one of 'en' or 'fr', got 'de'" in message
    assert "report.max_detail_rows: expected a whole number of at least 1, got -1" in message
    message = error_of(MINIMAL + "report: {formats: [pdf, docx], pseudonymise: true}\n")
    assert "report.formats[1]: expected one of csv, html, json, ocsf, pdf, got 'docx'" in message
    assert "report.pseudonym_key: required when pseudonymise is true: secrets must be given as {env: VAR}" in message


def test_duplicate_keys_and_non_text_keys() -> None:
    message = error_of(MINIMAL + "period: 2026-Q4\nperiod: 2026-Q3\nyes: 1\n")
    assert "audit.yaml:9: period: duplicate key (first given on line 8)" in message
    assert "audit.yaml:10: keys must be text, got 'yes' (quote it)" in message


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ("client_secret: hunter2-PLAIN", "sources[0].settings.client_secret"),
        ("oauth: {client_id: c, private_key: hunter2-PLAIN}", "sources[0].settings.oauth.private_key"),
        ("api_token: 123456789", "sources[0].settings.api_token"),
        ("nested: [{password: hunter2-PLAIN}]", "sources[0].settings.nested[0].password"),
    ],
)
def test_plain_secrets_are_refused_and_never_echoed(settings: str, key: str) -> None:
    text = f"organisation: {{name: X}}\nsources:\n  - name: s\n    type: okta\n    settings: {{{settings}}}\n"
    with pytest.raises(ConfigError) as info:
        parse(text)
    message = str(info.value)
    assert f"{key}: secrets must be given as {{env: VAR}} or {{file: path}}" in message
    for shown in (message, repr(info.value), repr(info.value.problems)):
        assert "hunter2" not in shown and "123456789" not in shown


def test_bad_secret_references() -> None:
    text = MINIMAL.replace("{env: ENTRA_SECRET}", "{env: 1-not-a-name}") + "report: {pseudonym_key: sesame-PLAIN}\n"
    message = error_of(text)
    assert (
        "sources[0].settings.client_secret.env: expected the name of an environment variable, got '1-not-a-name'"
        in (message)
    )
    assert "report.pseudonym_key: secrets must be given as {env: VAR} or {file: path}, got a string" in message
    assert "sesame" not in message
    message = error_of(MINIMAL.replace("{env: ENTRA_SECRET}", "{env: A, file: b}"))
    assert (
        "sources[0].settings.client_secret: secrets must be given as {env: VAR} or {file: path}: exactly one" in message
    )


def test_every_problem_is_reported_at_once() -> None:
    message = error_of(
        "organisation: {name: X}\nsources:\n  - {name: a, type: entra, colour: red}\n  - {type: okta}\n"
        "policy: {privileged: strongest}\n"
    )
    assert len(message.splitlines()) == 3
    assert "sources[0].colour: unknown key" in message
    assert "sources[1].name: required key is missing" in message
    assert "policy.privileged: expected one of" in message


def test_source_settings_error_names_file_line_and_key() -> None:
    config = parse(MINIMAL)
    error = source_settings_error(config, config.sources[0], SettingsError("tenant_id", "a GUID", "'t-1'"))
    assert str(error) == (
        "/etc/mfa/audit.yaml:6: sources[0].settings.tenant_id: expected a GUID, got 't-1' "
        "(connector 'entra' of source 'entra')"
    )
    error = source_settings_error(config, config.sources[0], SettingsError("certificate.private_key", "a file path"))
    assert "sources[0].settings.certificate.private_key: expected a file path (connector" in str(error)


# --- never anything but an AuditConfig or a ConfigError --------------------------------------------

_WORDS = st.sampled_from(
    [
        "organisation", "name", "contact", "period", "sources", "type", "settings", "collect_sign_ins",
        "portals", "match", "sensitivity", "sign_in_via", "policy", "required", "high", "report", "formats",
        "exceptions", "id", "expires", "env", "file", "token", "entra", "okta", "2026-Q4", "pdf", "store",
    ]
)  # fmt: skip
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True), _WORDS, st.text(max_size=8),
    st.dates(),
)  # fmt: skip
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_WORDS, inner, max_size=5)),
    max_leaves=25,
)
_VALID_SHAPED = st.fixed_dictionaries(
    {"organisation": st.fixed_dictionaries({"name": _WORDS}), "sources": st.lists(
        st.fixed_dictionaries({"name": _WORDS, "type": st.sampled_from(["entra", "okta", "file", "x"])},
                              optional={"settings": st.dictionaries(_WORDS, _DOCS, max_size=3)}),
        max_size=3)},
    optional={"period": _WORDS, "portals": _DOCS, "policy": _DOCS, "report": _DOCS, "exceptions": _DOCS},
)  # fmt: skip


def _outcome(text: str) -> None:
    try:
        config = parse_config(text, Path("fuzz.yaml"), now=NOW)
    except ConfigError as exc:
        assert str(exc) and all(p.file == Path("fuzz.yaml") for p in exc.problems)
    else:
        assert isinstance(config, AuditConfig)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_DOCS, _VALID_SHAPED))
def test_any_yaml_document_gives_a_config_or_a_config_error(doc: object) -> None:
    _outcome(yaml.safe_dump(doc, allow_unicode=True))


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{},&*!|>'\"#\n 12.Q\t%@?")), max_size=60))
def test_any_text_gives_a_config_or_a_config_error(text: str) -> None:
    _outcome(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [*x]\n",  # a list containing itself
        "organisation: {name: X}\nsources: &s [{name: a, type: entra, settings: {k: *s}}]\n",
        "e: 2026-13-45\n",  # PyYAML raises a plain ValueError here
        "x: !!int abc\n",
        "x: !!python/object:os.system {}\n",
        "[" * 2000,
        "--- a\n--- b\n",
        "\x00",
    ],
)
def test_hostile_yaml_gives_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_config(text, Path("hostile.yaml"), now=NOW)


# --- method-strength profiles and the emergency-access register (issue #14) -----------------


def test_profile_and_method_strength_overrides_are_read() -> None:
    from auditor.config.schema import MethodProfile
    from auditor.model import MethodKind

    config = parse(MINIMAL + "policy:\n  profile: cnil\n  method_strengths: {sms: none, totp_software: weak}\n")
    policy = config.evaluation.policy
    assert policy.profile is MethodProfile.CNIL
    assert dict(policy.method_strengths) == {MethodKind.SMS: Strength.NONE, MethodKind.TOTP_SOFTWARE: Strength.WEAK}
    assert parse(MINIMAL).evaluation.policy.profile is MethodProfile.DEFAULT


def test_bad_profile_and_method_kind_are_named() -> None:
    message = error_of(MINIMAL + "policy: {profile: anssi}\n")
    assert "policy.profile: expected one of 'default', 'cnil' or 'nist-800-63b-4', got 'anssi'" in message
    message = error_of(MINIMAL + "policy: {method_strengths: {pigeon: weak}}\n")
    assert "policy.method_strengths" in message and "pigeon" in message


def test_emergency_access_register_is_read_with_its_default_review_interval() -> None:
    config = parse(
        MINIMAL
        + "emergency_access:\n"
        + "  - {account: bg1@example.org, justification: tenant lock-out, owner: CISO, last_review: 2026-10-01}\n"
        + "  - {account: bg2@example.org, justification: x, owner: y, last_review: 2026-09-01, review_every_days: 30}\n"
    )
    first, second = config.evaluation.emergency_access
    assert (first.account, first.owner, first.last_review, first.review_every_days) == (
        "bg1@example.org",
        "CISO",
        date(2026, 10, 1),
        90,
    )
    assert second.review_every_days == 30


def test_emergency_access_entry_missing_its_owner_is_named() -> None:
    message = error_of(
        MINIMAL + "emergency_access:\n  - {account: bg1@example.org, justification: j, last_review: 2026-10-01}\n"
    )
    assert "emergency_access[0].owner" in message


def test_profile_tables_follow_their_texts() -> None:
    from auditor.config.schema import EvaluationPolicy, MethodProfile
    from auditor.engine.rules.profiles import describe, profile_table, strength_table
    from auditor.model import MethodKind

    assert profile_table("default")[MethodKind.EMAIL_OTP] is Strength.WEAK
    assert profile_table("cnil")[MethodKind.EMAIL_OTP] is Strength.NONE  # 2SV, not MFA
    nist = profile_table("nist-800-63b-4")
    assert (nist[MethodKind.EMAIL_OTP], nist[MethodKind.SMS]) == (Strength.NONE, Strength.WEAK)
    assert profile_table("unheard-of") == profile_table("default")  # an older or foreign result
    policy = EvaluationPolicy(profile=MethodProfile.CNIL, method_strengths={MethodKind.SMS: Strength.NONE})
    assert strength_table(policy)[MethodKind.SMS] is Strength.NONE
    assert describe(policy).startswith("cnil: CNIL, délibération n° 2025-019 du 20 mars 2025")
    assert describe(policy).endswith("overrides: sms=none")
