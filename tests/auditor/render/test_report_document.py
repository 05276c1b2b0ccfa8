"""The report a regulator accepts (issue 18): the verdict on page one, the stated scope,
evidence per finding, management responses, sign-off, the external edition, French
parity, layout rules read back from the PDF's text, and the tagged structure.

The two PDFs (English, external edition; French, internal edition) are rendered once for
the module."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.config.load import ConfigError, parse_config
from auditor.engine.rules import frameworks as fw
from auditor.interfaces import ManagementResponse, ReportContext, ReportOptions, SignOff
from auditor.model import (
    CoverageStatus,
    Fact,
    FactRead,
    Finding,
    FrameworkRef,
    Sensitivity,
    Severity,
    Snapshot,
    SourceIssue,
    Strength,
)
from auditor.render import statement
from auditor.render.csv_out import CsvRenderer, spreadsheet_codec
from auditor.render.document import render_html
from auditor.render.evidence_text import evidence_text
from auditor.render.i18n import Translator, catalogue
from auditor.render.pdf import render_pdf
from auditor.render.rows import FINDING_COLUMNS, write_finding_rows
from auditor.render.view import ReportView
from tests.support.reports import CONFIG_TEXT, NOW

# --- fixtures ---------------------------------------------------------------------------


def _principal(ctx: ReportContext, rule_id: str) -> str:
    return next(f.principal for f in ctx.result.findings if f.rule_id == rule_id and f.principal)


def _options(ctx: ReportContext, **changes: Any) -> ReportContext:
    first = ctx.result.findings[0]
    options = replace(
        ctx.options,
        targets={"high": 1.0, "sensitive": 0.5},
        responses=(
            ManagementResponse(
                "RESP-1",
                owner="DSI",
                action="SECRET-ACTION replace the codes with an authenticator app",
                due=date(2027, 3, 31),
                status="in_progress",
                rule=first.rule_id,
                first_seen="2026-Q2",
                internal=True,
            ),
        ),
        signoff=(
            SignOff("prepared", "Claire Martin", "Internal auditor", date(2026, 11, 16)),
            SignOff("approved", "Anne Lefèvre", "Directrice générale", date(2026, 11, 20)),
        ),
        internal_exceptions=frozenset({"EXC-1"}),
        **changes,
    )
    return replace(ctx, options=options)


@pytest.fixture(scope="module")
def en_ctx(context_factory: Callable[..., ReportContext], snapshot: Snapshot) -> ReportContext:
    return _options(context_factory(snapshot, max_detail_rows=15), edition="external", mask_accounts=True)


@pytest.fixture(scope="module")
def fr_ctx(context_factory: Callable[..., ReportContext], snapshot: Snapshot) -> ReportContext:
    return _options(context_factory(snapshot, language="fr", max_detail_rows=15))


def _render(ctx: ReportContext, path: Path) -> Path:
    path.write_bytes(render_pdf(ctx))
    return path


@pytest.fixture(scope="module")
def en_pdf(en_ctx: ReportContext, tmp_path_factory: Any) -> Path:
    return _render(en_ctx, tmp_path_factory.mktemp("en") / "report.pdf")


@pytest.fixture(scope="module")
def fr_pdf(fr_ctx: ReportContext, tmp_path_factory: Any) -> Path:
    return _render(fr_ctx, tmp_path_factory.mktemp("fr") / "rapport.pdf")


def text_of(path: Path, *args: str) -> str:
    out = subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True).stdout
    return out.replace("\u200b", "")


def pages_of(path: Path) -> list[str]:
    return text_of(path, "-layout").split("\f")[:-1]


# --- configuration ----------------------------------------------------------------------

CONFIG_ADDITIONS = """
responses:
  - id: RESP-7
    rule: MFA-005
    portal: app-claims
    owner: DSI
    action: authenticator app for claims staff
    due: 2027-03-31
    status: in_progress
    first_seen: 2026-Q3
    internal: true
"""


def _config(text: str) -> Any:
    return parse_config(text, Path("config.yaml"), now=NOW)


def test_the_report_keys_reach_the_options() -> None:
    text = CONFIG_TEXT.replace(
        "report:\n  language: en\n",
        "report:\n  language: fr\n  csv_delimiter: ';'\n  edition: external\n  mask_accounts: true\n"
        "  frameworks: [gdpr, nis2, cnil]\n"
        "  signoff:\n    prepared: {name: Claire Martin, title: Auditor, date: 2026-11-16}\n"
        "    approved: {name: Anne Lefèvre}\n",
    ).replace("  expires: '2027-03-31'\n", "  expires: '2027-03-31'\n  internal: true\n", 1)
    text = (
        text.replace("  account_kinds:", "  targets: {high: 100, sensitive: 95}\n  account_kinds:") + CONFIG_ADDITIONS
    )
    options = _config(text).report.options
    assert options.targets == {"high": 1.0, "sensitive": 0.95}
    assert options.csv_delimiter == ";" and options.edition == "external" and options.mask_accounts
    assert options.frameworks == ("gdpr", "nis2", "cnil")
    assert [(s.role, s.name) for s in options.signoff] == [("prepared", "Claire Martin"), ("approved", "Anne Lefèvre")]
    assert options.signoff[0].date == date(2026, 11, 16)
    (response,) = options.responses
    assert (response.rule, response.portal, response.status, response.first_seen, response.internal) == (
        "MFA-005",
        "app-claims",
        "in_progress",
        "2026-Q3",
        True,
    )
    assert options.internal_exceptions == frozenset({"EXC-1"})


@pytest.mark.parametrize(
    ("addition", "key", "words"),
    [
        (
            "responses:\n  - {id: R, rule: MFA-999, owner: x, action: y, due: 2027-01-01}\n",
            "responses[0].rule",
            "rule id",
        ),
        ("responses:\n  - {id: R, owner: x, action: y, due: 2027-01-01}\n", "responses[0]", "at least one of"),
        (
            "responses:\n  - {id: R, rule: MFA-001, owner: x, action: y, due: 2027-01-01, status: later}\n",
            "responses[0].status",
            "expected one of",
        ),
    ],
)
def test_a_bad_response_is_named_by_key(addition: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        _config(CONFIG_TEXT + addition)
    assert key in str(err.value) and words in str(err.value)


def test_a_target_above_100_percent_is_refused() -> None:
    text = CONFIG_TEXT.replace("  account_kinds:", "  targets: {high: 120}\n  account_kinds:")
    with pytest.raises(ConfigError) as err:
        _config(text)
    assert "policy.targets.high" in str(err.value)


# --- the verdict ---------------------------------------------------------------------------


@given(
    total=st.integers(1, 500),
    protected_share=st.floats(0, 1),
    unknown_share=st.floats(0, 1),
    target=st.sampled_from([0.5, 0.9, 0.95, 1.0]),
)
def test_a_portal_passes_only_when_nothing_unknown_could_change_it(
    total: int, protected_share: float, unknown_share: float, target: float
) -> None:
    protected = int(total * protected_share)
    unknown = min(total - protected, int(total * unknown_share))
    v = statement.PortalVerdict(
        "s/p", "p", "s", Sensitivity.HIGH, (), Strength.STRONG, total, protected, 0, unknown, target
    )
    best, worst = (protected + unknown) / total, protected / total
    if v.verdict == "pass":
        assert worst >= target - 1e-9 and unknown == 0
    elif v.verdict == "fail":
        assert best < target
    else:
        assert best >= target - 1e-9 and (worst < target or unknown > 0)


def test_verdicts_count_what_the_headline_counts(en_ctx: ReportContext) -> None:
    view = ReportView(en_ctx)
    verdicts = view.verdicts
    assert sum(v.total for v in verdicts) == view.metrics.sensitive_accesses
    assert sum(v.protected for v in verdicts) == view.metrics.sensitive_protected
    assert sum(v.unknown for v in verdicts) == view.metrics.sensitive_unknown
    # Most sensitive first.
    ranks = [{Sensitivity.HIGH: 0, Sensitivity.SENSITIVE: 1}[v.sensitivity] for v in verdicts]
    assert ranks == sorted(ranks)


def test_page_one_gives_the_verdict_and_one_set_of_numbers(en_ctx: ReportContext, en_pdf: Path) -> None:
    t = Translator("en")
    view = ReportView(en_ctx)
    one = " ".join(text_of(en_pdf, "-f", "1", "-l", "1").split())  # reading order: cells stay whole
    assert t("verdict.title") in one
    counts = view.status_counts
    covered = counts[CoverageStatus.PROTECTED] + counts[CoverageStatus.BLOCKED]
    assert covered == view.metrics.sensitive_protected
    assert (
        f"{t.number(counts[CoverageStatus.PROTECTED])} protected + {t.number(counts[CoverageStatus.BLOCKED])} "
        f"blocked = {t.number(covered)} of {t.number(view.metrics.sensitive_accesses)}"
    ) in one
    for v in view.verdicts:
        assert v.name in one
    assert {v.verdict for v in view.verdicts} >= {"pass", "fail"}  # the fixture's targets give both
    assert " pass" in one and " fail" in one
    assert t("verdict.limits") in one
    assert "State as at 15 November 2026" in one  # honest dates: collection time, not the quarter's end
    summary = " ".join(pages_of(en_pdf)[2].split())
    assert (
        f"Protected {t.number(counts[CoverageStatus.PROTECTED])} + blocked {t.number(counts[CoverageStatus.BLOCKED])}"
        f" = {t.number(covered)}"
    ) in summary


def test_the_cover_names_tool_and_rule_set_versions(en_ctx: ReportContext, en_pdf: Path) -> None:
    from auditor import __version__

    about = pages_of(en_pdf)[1]
    assert f"mfa-auditor {__version__}" in about
    assert en_ctx.result.rule_set_version in about
    assert "Contents" in about and re.search(r"Findings \.+ \d+", about)


# --- scope --------------------------------------------------------------------------------


def test_the_excluded_accounts_annex_agrees_with_the_reconciliation(en_ctx: ReportContext, en_pdf: Path) -> None:
    view = ReportView(en_ctx)
    by_reason: dict[str, int] = {}
    for r in view.reconciliation:
        for reason, n in r.out_of_scope.items():
            by_reason[reason] = by_reason.get(reason, 0) + n
    assert view.excluded_counts == by_reason and by_reason
    text = " ".join(text_of(en_pdf).split())
    assert "Annex: accounts left out of the evaluation" in text
    some = view.excluded[0].account.principal
    assert statement.mask_identifier(some) in text  # masked in the external edition


def test_the_classification_says_which_config_rule_matched(en_ctx: ReportContext) -> None:
    view = ReportView(en_ctx)
    claims = next(c for c in view.classifications if c.portal_id == "app-claims")
    assert claims.rule_index == 0 and "id=app-claims" in claims.match and claims.sensitivity is Sensitivity.HIGH
    assert any(c.rule_index is None and c.sensitivity is Sensitivity.NORMAL for c in view.classifications)


# --- findings: order, evidence, responses -----------------------------------------------------


def test_capped_tables_keep_the_most_severe_and_most_sensitive(en_ctx: ReportContext) -> None:
    view = ReportView(en_ctx)
    sensitivity = statement.sensitivity_by_portal(view.result)
    order = {Sensitivity.HIGH: 0, Sensitivity.SENSITIVE: 1, Sensitivity.NORMAL: 2}
    for g in view.rule_groups():
        everything = statement.display_order([f for f in view.result.findings if f.rule_id == g.rule_id], sensitivity)
        assert list(g.shown) == everything[: len(g.shown)]
        if g.more:
            worst_left = everything[len(g.shown)]
            last_shown = g.shown[-1]
            key = lambda f: (-f.severity.rank, order.get(sensitivity.get(f"{f.source}/{f.portal_id}"), 3))  # noqa: E731
            assert key(last_shown) <= key(worst_left)


def _finding(rule_id: str, **evidence: str) -> Finding:
    return Finding(rule_id, Severity.HIGH, "t", "entra", "a1", "a@b.fr", "app", "App", "m", evidence)


@pytest.mark.parametrize("language", ["en", "fr"])
@given(count=st.integers(1, 10_000))
def test_sign_in_counts_are_said_with_their_plural(language: str, count: int) -> None:
    t = Translator(language)
    text = evidence_text(
        t, _finding("MFA-011", sign_ins=str(count), first="2026-10-01T08:00:00+00:00", last="2026-10-03T08:00:00+00:00")
    )
    assert "(s)" not in text
    word = {
        "en": ("single-factor sign-in", "single-factor sign-ins"),
        "fr": ("connexion à un seul facteur", "connexions à un seul facteur"),
    }[language]
    assert text.startswith(f"{t.number(count)} {word[0] if count == 1 else word[1]} ")


def test_evidence_names_the_weak_method_and_the_requirement() -> None:
    f = _finding(
        "MFA-005", methods="sms (mobilePhone, active), email_otp (email, active)", enrolled="weak", required="strong"
    )
    assert evidence_text(Translator("en"), f) == "SMS, e-mail one-time code (weak); requires strong"
    assert evidence_text(Translator("fr"), f).endswith("exige robuste")


def test_evidence_names_the_expired_exception_and_its_portal() -> None:
    f = _finding("MFA-009", exception="EXC-9", portals="app-claims", expires="2026-09-30")
    assert evidence_text(Translator("en"), f) == "exception EXC-9 for app-claims, expired 30 September 2026"


def test_responses_answer_the_findings_they_select() -> None:
    a = _finding("MFA-005")
    b = replace(a, portal_id="other", portal_name="Other")
    register = statement.Responses(
        (
            ManagementResponse("R1", "o", "x", date(2027, 1, 1), "open", rule="MFA-005", portal="app"),
            ManagementResponse("R2", "o", "x", date(2027, 1, 1), "open", account="A@B.FR"),
        )
    )
    assert register.for_finding(a).id == "R1"  # type: ignore[union-attr]
    assert register.for_finding(b).id == "R2"  # type: ignore[union-attr]  # the account, case-insensitive
    assert register.for_finding(replace(b, principal="c@d.fr")) is None
    seen = statement.FirstSeen("2026-Q4", "2026-Q3", frozenset({statement.finding_key(a)}))
    assert seen.of(a, None) == "2026-Q3" and seen.of(b, None) == "2026-Q4"
    assert seen.of(b, ManagementResponse("R", "o", "x", date(2027, 1, 1), "open", rule="x", first_seen="2026-Q1")) == (
        "2026-Q1"
    )


# --- the external edition -------------------------------------------------------------------


@given(st.from_regex(r"[a-z0-9._-]{1,30}@[a-z0-9.-]{1,20}\.[a-z]{2,4}", fullmatch=True))
def test_masked_addresses_keep_the_domain_and_hide_the_name(address: str) -> None:
    masked = statement.mask_identifier(address)
    local, _, domain = address.partition("@")
    assert masked.endswith("@" + domain) and "•••" in masked
    if len(local) > 3:
        assert local not in masked.partition("@")[0]


def test_the_external_edition_leaves_out_internal_texts_and_masks_accounts(
    en_ctx: ReportContext, en_pdf: Path, fr_pdf: Path
) -> None:
    text = " ".join(text_of(en_pdf).split())
    assert "SECRET-ACTION" not in text and "withheld in the external edition" in text
    assert "Shared terminal" not in text  # EXC-1's reason is internal
    principal = _principal(en_ctx, en_ctx.result.findings[0].rule_id)
    assert principal not in text and statement.mask_identifier(principal) in text
    internal = " ".join(text_of(fr_pdf).split())  # the French fixture is the internal edition
    assert "SECRET-ACTION" in internal and "Shared terminal" in internal


def test_the_sign_off_block_closes_the_summary(en_pdf: Path) -> None:
    pages = pages_of(en_pdf)
    at = next(i for i, p in enumerate(pages) if "Sign-off" in p and "Prepared by" in p)
    page = " ".join(pages[at].split())
    assert "Claire Martin" in page and "16 November 2026" in page and "Anne Lefèvre" in page
    assert "not given in the configuration" in page  # reviewed by: missing, and said so
    assert "Executive summary" in pages[at]  # the running header: still the summary


# --- references -----------------------------------------------------------------------------


def test_references_are_current_sorted_and_translated() -> None:
    refs = fw.select()
    orders = [fw.framework(c.framework).order for c in refs]
    assert orders == sorted(orders)
    text = " ".join(f"{c.ref.framework} {c.ref.reference}" for c in fw.CITATIONS)
    assert "PCI DSS v4.0.1" in text and "PCI DSS v4.0 " not in text + " "
    assert "CIS Controls v8.1" in text and "NIST SP 800-63B-4" in text
    for needed in (
        "2024/2690",
        "2024/1774",
        "2025-019",
        "Art. 9(4)(d)",
        "Art. 21(2)(j)",
        "Annex A 5.18",
        "5.3",
        "8.5.1",
    ):
        assert needed in text + " ".join(c.where_en for c in fw.CITATIONS), needed
    for c in fw.CITATIONS:
        assert c.where_fr and c.says_fr and c.says_fr != c.says_en
    assert "art. 32, paragraphe 1, point b)" in {c.where_fr for c in fw.CITATIONS}
    from auditor.engine.rules import RULES

    assert {r.id for r in RULES} <= set(fw.RULE_CITATIONS)


def test_report_frameworks_selects_what_is_cited() -> None:
    chosen = fw.for_rule("MFA-001", (), ["gdpr", "cnil"])
    assert chosen and {c.framework for c in chosen if isinstance(c, fw.Citation)} == {"gdpr", "cnil"}
    unknown = FrameworkRef("Local policy", "§4")
    assert unknown in fw.for_rule("MFA-001", (unknown,), ["gdpr"])  # kept as it is


# --- French parity ---------------------------------------------------------------------------


def _english_interface_phrases() -> set[str]:
    """Phrases of two words or more that the English catalogue and the engine's rule texts
    say, and the French catalogue does not."""
    en, fr = catalogue("en"), catalogue("fr")
    french = " ".join(fr.values())
    phrases: set[str] = set()
    texts = [v for k, v in en.items() if v != fr.get(k) and not k.startswith("csv.")]
    from auditor.engine.rules import RULES

    texts += [r.title for r in RULES] + [r.remediation for r in RULES] + [r.rationale for r in RULES]
    for text in texts:
        for piece in re.split(r"\{[^}]*\}|[:;()]", text):
            piece = " ".join(piece.split()).strip(" ,.")
            if len(piece.split()) >= 2 and piece not in french:
                phrases.add(piece)
    return phrases


def test_no_english_interface_string_in_the_french_pdf(fr_ctx: ReportContext, fr_pdf: Path) -> None:
    text = " ".join(text_of(fr_pdf).split())
    # Data is shown as it is (portal names, the register's texts): only interface strings count.
    data = {p.name for s in fr_ctx.snapshot.sources for p in s.portals}
    found = sorted(p for p in _english_interface_phrases() if p in text and not any(p in d for d in data))
    assert found == []
    assert "T4 2026" in text and "Réponses de la direction" in text and "Mesure corrective" in text
    assert "hameçonnage" in text
    # French typography (pdftotext writes no-break spaces as spaces: read the document).
    html = render_html(ReportView(fr_ctx), [], for_pdf=True)
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    assert re.search(r"\d\u00a0%", body) and "\u00a0:" in body
    assert not re.search(r"\w :", re.sub(r"<[^>]+>", "", body))  # never a breakable space before ":"


def _structure(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with pikepdf.open(path) as pdf:
        stack = [pdf.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Dictionary) and "/S" in node:
                counts[str(node.S)] = counts.get(str(node.S), 0) + 1
            kids = node.get("/K") if isinstance(node, pikepdf.Dictionary) else None
            if isinstance(kids, pikepdf.Array):
                stack.extend(k for k in kids if isinstance(k, pikepdf.Dictionary))
            elif isinstance(kids, pikepdf.Dictionary):
                stack.append(kids)
    return counts


def test_both_editions_have_the_same_sections_and_tables(
    en_ctx: ReportContext, fr_ctx: ReportContext, en_pdf: Path, fr_pdf: Path
) -> None:
    en, fr = _structure(en_pdf), _structure(fr_pdf)
    for tag in ("/H1", "/H2", "/Figure"):
        assert en.get(tag) == fr.get(tag), tag
    assert en.get("/H1", 0) >= 10
    # Tables: in the documents (the PDF's structure splits a table at each page break, and
    # the two languages break pages at different rows).
    same_edition = replace(fr_ctx, options=replace(fr_ctx.options, edition=en_ctx.options.edition))
    documents = [render_html(ReportView(c), [], for_pdf=True) for c in (en_ctx, same_edition)]
    for tag in ("<table", "<h1", "<h2", "<h3", "<figure", "<section"):
        counts = [d.count(tag) for d in documents]
        assert counts[0] == counts[1] and counts[0] > 0, tag


# --- accessibility ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_pdf_is_tagged_for_accessibility(language: str, en_pdf: Path, fr_pdf: Path) -> None:
    path = en_pdf if language == "en" else fr_pdf
    with pikepdf.open(path) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root and bool(root.MarkInfo.Marked)
        assert str(root.Lang) == language
        assert bool(root.ViewerPreferences.DisplayDocTitle)
        meta = pdf.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("3", "A")
        assert meta["pdfuaid:part"] == "1"
        figures, ths = [], 0
        stack = [root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if not isinstance(node, pikepdf.Dictionary):
                continue
            kind = str(node.get("/S", ""))
            if kind == "/Figure":
                figures.append(str(node.get("/Alt", "")))
            ths += kind == "/TH"
            kids = node.get("/K")
            if isinstance(kids, pikepdf.Array):
                stack.extend(kids)
            elif isinstance(kids, pikepdf.Dictionary):
                stack.append(kids)
    assert figures and all(alt.strip() for alt in figures)  # every chart has alternative text
    assert ths > 50


# --- layout read back from the text ------------------------------------------------------------


def _broken_inside(text: str, identifier: str) -> Iterator[str]:
    """The places where ``identifier`` was cut across lines, as the character before the cut."""
    pattern = r"\s*".join(re.escape(ch) for ch in identifier)
    for m in re.finditer(pattern, text):
        found = m.group()
        for i, ch in enumerate(found[:-1]):
            if found[i + 1] == "\n" and not ch.isspace():
                yield ch


@pytest.mark.parametrize("language", ["en", "fr"])
def test_addresses_break_only_after_at_dot_or_hyphen(
    language: str, en_ctx: ReportContext, fr_ctx: ReportContext, en_pdf: Path, fr_pdf: Path
) -> None:
    ctx, path = (en_ctx, en_pdf) if language == "en" else (fr_ctx, fr_pdf)
    view = ReportView(ctx)
    text = text_of(path)
    checked = 0
    for g in view.rule_groups():
        for f in g.shown:
            shown = view.account_text(f.principal or "")
            if not shown:
                continue
            for before in _broken_inside(text, shown):
                assert before in "@.-_", (shown, before)
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_near_empty_page(language: str, en_pdf: Path, fr_pdf: Path) -> None:
    pages = pages_of(en_pdf if language == "en" else fr_pdf)
    for number, page in enumerate(pages, 1):
        body = [line for line in page.splitlines()[1:-1] if line.strip()]  # without header and footer
        assert len(body) >= 6, f"page {number} holds {len(body)} lines"


def test_chart_text_is_never_under_7_pt(en_ctx: ReportContext) -> None:
    """Each chart is drawn at 1 unit = 1 pt and only ever scaled down to fit its box: its
    smallest text times that scale stays at 7 pt or more."""
    html = render_html(ReportView(en_ctx), [], for_pdf=True)
    content_pt = (210 - 32) / 25.4 * 72
    charts = re.findall(r'<figure class="chart([^"]*)">\s*(<svg.*?</svg>)', html, re.S)
    assert len(charts) >= 5
    for classes, svg in charts:
        width = float(re.search(r'width="([\d.]+)pt"', svg).group(1))  # type: ignore[union-attr]
        units = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))  # type: ignore[union-attr]
        smallest = min(float(x) for x in re.findall(r'font-size="([\d.]+)"', svg)) * width / units
        box = content_pt * (0.48 if "small-chart" in classes else 1.0)
        if "wide" not in classes and "small-chart" not in classes:
            box = content_pt / 2 - 12  # two charts side by side
        scale = min(1.0, box / width)
        assert smallest * scale >= 7, (classes, width, smallest)


def test_chart_labels_wrap_instead_of_being_cut() -> None:
    from auditor.render.charts import wrap_label

    name = "Google Workspace (Medical advisers and claims supervisors)"
    lines = wrap_label(name)
    assert " ".join(lines) == name and all(len(line) <= 30 for line in lines)
    assert wrap_label("Intranet") == ["Intranet"]


# --- CSV for spreadsheets ----------------------------------------------------------------------


def test_the_french_csv_has_french_headers_a_bom_and_the_delimiter(fr_ctx: ReportContext) -> None:
    ctx = replace(fr_ctx, options=replace(fr_ctx.options, csv_delimiter=";"))
    out = io.BytesIO()
    CsvRenderer().render(ctx, out)
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["règle", "gravité", "intitulé"]
    canonical = io.BytesIO()
    write_finding_rows(ReportView(ctx), canonical)
    expected = list(csv.reader(io.StringIO(canonical.getvalue().decode("utf-8"))))
    assert rows[1:] == expected[1:] and expected[0] == list(FINDING_COLUMNS)


def test_english_with_commas_keeps_the_canonical_bytes(en_ctx: ReportContext) -> None:
    assert spreadsheet_codec(replace(en_ctx, options=ReportOptions())) is None


_PLAIN = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs"),
        blacklist_characters="\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
    max_size=20,
)


@given(st.lists(_PLAIN, min_size=2, max_size=6), st.sampled_from([";", "\t", ","]))
def test_any_text_survives_the_delimiter(values: list[str], delimiter: str) -> None:
    from auditor.render.rows import Codec

    codec = Codec(delimiter)
    line = codec.fields(values)
    (row,) = list(csv.reader(io.StringIO(line), delimiter=delimiter))
    cleaned = [
        row_value[1:] if row_value[:1] == "'" and v[:1] in "=+-@\t\r" else row_value
        for row_value, v in zip(row, values, strict=True)
    ]
    assert cleaned == values


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_header_word_is_cut(
    language: str, en_ctx: ReportContext, fr_ctx: ReportContext, en_pdf: Path, fr_pdf: Path
) -> None:
    """Every word of every table header reads whole in the PDF: a header squeezed into a
    narrow column would come out cut ("Responsabl e") or clipped."""
    ctx, path = (en_ctx, en_pdf) if language == "en" else (fr_ctx, fr_pdf)
    html = render_html(ReportView(ctx), [], for_pdf=True)
    heads = re.findall(r"<thead>(.*?)</thead>", html, re.S)
    words = {w for h in heads for w in re.findall(r"\w{5,}", re.sub(r"<[^>]+>", " ", h))}
    text = " ".join(text_of(path).split())
    missing = sorted(w for w in words if not re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text))
    assert missing == []


def test_every_rule_reads_the_same_in_french(fr_ctx: ReportContext) -> None:
    from auditor.engine.rules import RULES
    from auditor.render.i18n import rule_texts

    for r in RULES:
        french = rule_texts("fr")[r.id]
        assert french.get("rationale") and french.get("remediation"), r.id
        assert len(french["rationale"]) >= 0.6 * len(r.rationale), r.id  # the whole sentence, not a summary


def _overflowing_cells(ctx: ReportContext) -> list[str]:
    """Table cells whose text runs past their right edge, from WeasyPrint's own layout: a
    header or an identifier that does not fit its column is clipped or overlaps its
    neighbour, even when the extracted text reads whole."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    from auditor.render.pdf import package_fetcher

    html = render_html(ReportView(ctx), [], for_pdf=True).replace("<wbr>", "\u200b")
    document = HTML(string=html, url_fetcher=package_fetcher()).render()
    out = []
    for page in document.pages:
        for cell in page._page_box.descendants():
            if not isinstance(cell, boxes.TableCellBox):
                continue
            right = cell.content_box_x() + cell.width + 0.5
            out.extend(
                box.text
                for box in cell.descendants()
                if isinstance(box, boxes.TextBox) and box.position_x + box.width > right
            )
    return out


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_table_text_runs_past_its_cell(language: str, en_ctx: ReportContext, fr_ctx: ReportContext) -> None:
    assert _overflowing_cells(en_ctx if language == "en" else fr_ctx) == []


# --- what sources did not read, in French ------------------------------------------------------


def _unread_snapshot(incomplete_snapshot: Snapshot) -> Snapshot:
    """The incomplete sample (okta rate-limited) with facts Entra, Google and Okta did not
    read, in their connectors' own words: a refused phase (the reason repeats the issue),
    constant reasons, one with data inserted, and one the catalogue does not know."""
    from connectors.google_workspace.facts import LEGACY_AUTH_REASON as GOOGLE_LEGACY
    from connectors.okta.facts import METHODS_POLICY_REASON as OKTA_METHODS_POLICY

    refused = "GET /directoryRoles failed: HTTP 403 Authorization_RequestDenied"
    facts = {
        "entra": (
            (FactRead(Fact.ROLES, False, refused),),
            (SourceIssue("entra.roles_unread", refused, incomplete=True),),
        ),
        "google": ((FactRead(Fact.LEGACY_AUTH, False, GOOGLE_LEGACY),), ()),
        "okta": (
            (
                FactRead(Fact.METHODS_POLICY, False, OKTA_METHODS_POLICY),
                FactRead(Fact.SIGN_IN_LOG, False, "read:logs refused: insufficient_scope"),
            ),
            (),
        ),
    }
    sources = []
    for s in incomplete_snapshot.sources:
        read, issues = facts.get(s.source, ((), ()))
        given = {f.fact for f in read}
        everything = tuple(FactRead(f, True) for f in Fact if f not in given) + read
        sources.append(replace(s, facts=everything, issues=s.issues + issues, complete=s.complete and not issues))
    return replace(incomplete_snapshot, sources=tuple(sources))


@pytest.fixture(scope="module")
def unread_fr(
    context_factory: Callable[..., ReportContext], incomplete_snapshot: Snapshot, tmp_path_factory: Any
) -> tuple[ReportContext, Path]:
    ctx = context_factory(_unread_snapshot(incomplete_snapshot), language="fr", max_detail_rows=5)
    return ctx, _render(ctx, tmp_path_factory.mktemp("unread") / "rapport.pdf")


def _connector_words(ctx: ReportContext) -> set[str]:
    """The English the connectors wrote: fact reasons and issue messages, cut where data is inserted."""
    texts = [f.reason for s in ctx.snapshot.sources for f in s.facts if f.reason]
    texts += [i.message for s in ctx.snapshot.sources for i in s.issues]
    pieces = set()
    for text in texts:
        for piece in re.split(r"[:;()]|HTTP \d+|/\S+", text):
            piece = " ".join(piece.split()).strip(" ,.")
            if len(piece.split()) >= 3:
                pieces.add(piece)
    return pieces


@pytest.mark.slow  # a whole PDF
def test_no_english_from_the_not_read_boxes_in_the_french_pdf(unread_fr: tuple[ReportContext, Path]) -> None:
    ctx, path = unread_fr
    text = " ".join(text_of(path).split())
    assert ctx.result.not_evaluated, "the sample must leave rules not evaluated"
    found = sorted(p for p in _connector_words(ctx) | _english_interface_phrases() if p in text)
    assert found == []
    # What replaced them: the code-based sentences, each naming its code, and the reasons.
    assert "attributions de rôles : non lus (entra.roles_unread)" in text  # pdftotext: no-break spaces as spaces
    assert "120 comptes non lus" in text  # okta.rate_limited, its figures kept
    assert "applications moins sécurisées" in text and "read:logs refusé" in text  # Google's, Auth0's reasons


def test_not_read_reasons_are_translated_by_code_and_english_only_when_unknown() -> None:
    from auditor.render.reasons import issue_text, reason_text

    fr, en = Translator("fr"), Translator("en")
    known = SourceIssue("keycloak.flows_unreadable", "GET /authentication/flows: 500")
    assert issue_text(fr, known) == "flux d'authentification\u00a0: lecture impossible (keycloak.flows_unreadable)"
    unknown = SourceIssue("okta.something_new", "a sentence the catalogue does not know")
    assert issue_text(fr, unknown) == unknown.message
    assert issue_text(en, known) == known.message and reason_text(en, "the sign-in log was not read") == (
        "the sign-in log was not read"
    )
    # A reason that repeats an issue's message is the issue; several reasons each translated.
    assert reason_text(fr, known.message, (known,)) == issue_text(fr, known)
    joined = "sign-ins not collected (collect_sign_ins is off); Cognito keeps no last-sign-in time on the user"
    assert reason_text(fr, joined) == (
        "connexions non collectées (collect_sign_ins est désactivé)"
        + fr("common.sep")
        + "Cognito ne conserve pas la date de dernière connexion de l'utilisateur"
    )
    assert reason_text(fr, "not a known reason") == "not a known reason"


def _connector_reason_literals() -> set[str]:
    """Every fixed reason the connectors give a fact they did not read, found in their
    source: the third argument of ``FactRead(...)`` or of a ``.fact(...)`` recorder, and the
    module constants those name. Texts built with data (f-strings) are left out."""
    import ast

    root = Path(__file__).resolve().parents[3] / "connectors"
    found: set[str] = set()
    for path in root.rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            t.id: node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 3:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name not in ("FactRead", "fact"):
                continue
            formatted = {id(c) for j in ast.walk(node.args[2]) if isinstance(j, ast.JoinedStr) for c in ast.walk(j)}
            for part in ast.walk(node.args[2]):
                value = constants.get(part.id) if isinstance(part, ast.Name) else part
                if isinstance(value, ast.Constant) and isinstance(value.value, str) and id(value) not in formatted:
                    text = value.value.removeprefix("; ")  # a part added to another reason
                    if text:
                        found.add(text)
    return found


def test_every_fixed_reason_a_connector_gives_has_a_french_text() -> None:
    """A connector's fixed reason without a French text would print English in the French
    edition: each one is in the catalogue."""
    from auditor.render.reasons import reason_text

    reasons = _connector_reason_literals()
    assert len(reasons) >= 20  # the scan finds them (Okta's, Google's, Keycloak's, Cognito's, ...)
    fr = Translator("fr")
    assert sorted(r for r in reasons if reason_text(fr, r) == r) == []
