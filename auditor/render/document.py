"""The report document (HTML) shared by the PDF and HTML renderers.

jinja2 with autoescape and ``StrictUndefined``; templates load from the
``report_templates`` package. Every value printed goes through ``_finalize``, which
makes bidirectional-override and other control characters visible (a display name
cannot reorder the text around it), and user-supplied values in tables are clipped
(the full value is in the CSV).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import jinja2
from markupsafe import Markup

from auditor.engine.rules import frameworks as fw
from auditor.engine.rules.profiles import profile_table
from auditor.evidence.attachments import DeflatingSink, EvidenceFile, evidence_file
from auditor.evidence.verify_manifest import page_check_facts
from auditor.interfaces import ManagementResponse
from auditor.model import CoverageStatus, FrameworkRef, MethodKind, Sensitivity, Severity, Strength
from auditor.render import charts
from auditor.render.charts import Segment
from auditor.render.evidence_text import evidence_text
from auditor.render.i18n import Translator, rule_texts
from auditor.render.json_out import run_metadata
from auditor.render.reasons import issue_text, reason_text
from auditor.render.rows import findings_digest, write_coverage_rows, write_finding_rows
from auditor.render.statement import break_points, target_for
from auditor.render.view import (
    RULE_IDS,
    SEVERITY_ORDER,
    STATUS_ORDER,
    STRENGTH_ORDER,
    ReportView,
    RuleGroup,
    exception_state,
)

TEMPLATE = "report.html.j2"
MANIFEST_FORMAT = "mfa-auditor.report-manifest"
MANIFEST_NAME = "manifest.json"
FINDINGS_NAME = "findings.csv"
COVERAGE_NAME = "coverage-matrix.csv"
CONFIG_NAME = "config.yaml"
CLIP = 160
EXCLUSION_CAP = 120  # rows of the excluded-accounts annex; the snapshot attached lists them all

# Bidi embeddings/overrides/isolates and marks: shown as their code point, never obeyed.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible_controls(text: str) -> str:
    text = _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        text = "".join(
            f"[U+{ord(ch):04X}]" if unicodedata.category(ch) == "Cc" and ch not in "\n\t" else ch for ch in text
        )
    return text


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value  # our own SVG and markup
    if isinstance(value, str):
        return _visible_controls(value)
    return value


def _clip(value: str | None, limit: int = CLIP) -> str:
    if value is None:
        return ""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… (+{len(value) - limit})"


def _breakable(value: str | None, limit: int = CLIP) -> Markup:
    """An e-mail address or id that may break only after "@", ".", "-", "_" or "/": each
    piece escaped (and its control characters made visible), a ``<wbr>`` after each of
    those characters, and CSS forbids breaks anywhere else (``.ident``)."""
    text = _visible_controls(_clip(value, limit))
    return Markup("<wbr>").join(Markup.escape(piece) for piece, _ in break_points(text))


def _css_string(value: str) -> Markup:
    """A CSS string literal (for ``content:``) from a catalogue string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return Markup(f'"{escaped}"')


def _page_counter(t: Translator) -> Markup:
    """``content:`` value of the page-number box: the catalogue's "Page {page} of {pages}"
    with the placeholders turned into CSS counters."""
    parts = []
    for piece in re.split(r"(\{page\}|\{pages\})", t.get("footer.page", "Page {page} of {pages}")):
        if piece == "{page}":
            parts.append("counter(page)")
        elif piece == "{pages}":
            parts.append("counter(pages)")
        elif piece:
            parts.append(str(_css_string(piece)))
    return Markup(" ".join(parts))


@cache
def _environment() -> jinja2.Environment:
    root = files("report_templates")

    def load(name: str) -> str:
        return root.joinpath(name).read_text(encoding="utf-8")

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clip"] = _clip
    env.filters["css_string"] = _css_string
    env.filters["brk"] = _breakable
    return env


def stylesheet() -> str:
    return files("report_templates").joinpath("report.css").read_text(encoding="utf-8")


def _csv_file(view: ReportView, name: str, write: Callable[[ReportView, DeflatingSink], str], key: str) -> EvidenceFile:
    def make() -> EvidenceFile:
        sink = DeflatingSink()
        write(view, sink)
        return sink.close_as(name, "text/csv", "Data", key)

    return view.ctx.made.file(name, make)


def findings_file(view: ReportView) -> EvidenceFile:
    return _csv_file(view, FINDINGS_NAME, write_finding_rows, "attachment.findings")


def coverage_file(view: ReportView) -> EvidenceFile:
    return _csv_file(view, COVERAGE_NAME, write_coverage_rows, "attachment.coverage")


def evidence_files(view: ReportView) -> list[EvidenceFile]:
    """The files the PDF carries (and whose digests every report prints), manifest last."""
    ctx = view.ctx
    files_ = [
        findings_file(view),
        coverage_file(view),
        ctx.artefacts.snapshot_file,
        evidence_file(
            [ctx.config_text.encode("utf-8")], CONFIG_NAME, "application/yaml", "Source", "attachment.config"
        ),
    ]
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        **run_metadata(view),
        "findings_count": len(view.result.findings),
        **page_check_facts(ctx),  # what `mfa-audit verify` needs to re-render the pages
        "attachments": {a.name: {"sha256": a.sha256, "size": a.size, "relationship": a.relationship} for a in files_},
    }
    data = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2).encode("utf-8")
    files_.append(evidence_file([data], MANIFEST_NAME, "application/json", "Supplement", "attachment.manifest"))
    return files_


# The per-portal bars start with what their label counts (protected, then blocked), so the
# share written at the end of a bar is the length of its first two segments.
_COUNTED = (CoverageStatus.PROTECTED, CoverageStatus.BLOCKED)
BAR_ORDER = (*_COUNTED, *(s for s in STATUS_ORDER if s not in _COUNTED))


def _status_segments(t: Translator, counts: Mapping[CoverageStatus, int]) -> list[Segment]:
    return [Segment(t(f"status.{s.value}"), counts.get(s, 0), charts.STATUS_STYLE[s]) for s in BAR_ORDER]


def _charts(view: ReportView, t: Translator) -> dict[str, Any]:
    def protected_donut(name: str, label: str, total: int, protected: int, unknown: int) -> Markup:
        ratio = None if total == 0 else protected / total
        others = total - protected - unknown

        def legend(key: str, n: int) -> str:
            return t("chart.legend", label=t(key), value=t.number(n))

        segments = [
            Segment(legend("status.protected", protected), protected, charts.STATUS_STYLE[CoverageStatus.PROTECTED]),
            Segment(legend("chart.not_protected", others), others, charts.NOT_PROTECTED),
            Segment(legend("status.unknown", unknown), unknown, charts.UNKNOWN),
        ]
        return charts.donut(
            name,
            f"{label}{t('common.colon')} {t.percent(ratio)}",
            segments,
            t.percent(ratio),
            caption=label,
            empty_label=t("common.not_applicable"),
        )

    m = view.metrics
    per_source = []
    for i, s in enumerate(view.by_source):
        unknown = s.by_status.get(CoverageStatus.UNKNOWN, 0)
        per_source.append(protected_donut(f"src{i}", s.label, s.total, s.protected, unknown))
    portal_rows = [(p.name, _status_segments(t, p.summary.by_status)) for p in view.by_portal]

    def ratio_text(segments: Sequence[Segment]) -> str:
        total = sum(s.value for s in segments)
        protected = sum(s.value for s, st in zip(segments, BAR_ORDER, strict=True) if st.is_protected)
        return t.percent(None if total == 0 else protected / total)

    strengths = view.enrolled_strengths
    trend = None
    if len(view.trend) >= 2:  # one point is no trend
        trend = charts.trend_columns(
            "trend",
            t("history.trend"),
            [
                charts.TrendBar(t.period(p.period), p.protected_ratio, t.percent(p.protected_ratio), p.complete)
                for p in view.trend
            ],
            lambda tick: t.percent(tick, 0),
            (t("chart.trend_complete"), t("chart.trend_incomplete")),
        )
    return {
        "trend": trend,
        # The summary's two charts at 4/5 of their size, so the sign-off fits on its page;
        # their smallest text (9 units) stays above 7 pt.
        "overall": charts.scaled(
            protected_donut(
                "overall", t("chart.overall"), m.sensitive_accesses, m.sensitive_protected, m.sensitive_unknown
            ),
            0.8,
        ),
        "per_source": per_source,
        "portals": charts.stacked_bars(
            "portals",
            t("section.coverage_portal"),
            portal_rows,
            _status_segments(t, view.status_counts),
            ratio_text,
        )
        if portal_rows
        else None,
        "strengths": charts.hbars(
            "strengths",
            t("section.methods"),
            [Segment(t(f"strength.{s.value}"), strengths.get(s, 0), charts.STRENGTH_STYLE[s]) for s in STRENGTH_ORDER],
            lambda n: f"{t.number(n)} {t('chart.accounts')}",
        ),
        "severity": charts.scaled(
            charts.hbars(
                "severity",
                t("summary.findings"),
                [
                    Segment(t(f"severity.{s.value}"), view.findings_by_severity.get(s, 0), charts.SEVERITY_STYLE[s])
                    for s in SEVERITY_ORDER
                ],
                t.number,
                label_w=60,
                bar_w=130,
            ),
            0.8,
        ),
    }


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    title: str
    description: str
    references: tuple[FrameworkRef, ...]


def rule_infos(view: ReportView, t: Translator) -> list[RuleInfo]:
    """The rules for the methodology: the engine's catalogue (titles and descriptions
    translated where the report catalogue has them), plus any rule a finding names."""
    known: dict[str, RuleInfo] = {}
    catalogue: tuple[Any, ...] = ()
    try:
        from auditor.engine.rules.catalogue import CATALOGUE

        catalogue = CATALOGUE
    except ImportError:  # the engine is optional for rendering a stored result
        pass
    for rule in catalogue:
        known[rule.id] = RuleInfo(
            rule.id,
            t.get(f"rule.{rule.id}", rule.title),
            # The same sentence in every language: the engine's rationale, or its translation.
            rule.rationale
            if t.language == "en"
            else rule_texts(t.language).get(rule.id, {}).get("rationale")
            or t.get(f"rule_desc.{rule.id}", rule.rationale),
            tuple(rule.references),
        )
    # The report's catalogue of texts covers every rule the engine ships: a rule whose
    # French text is missing would put English into the French edition.
    for f in view.result.findings:
        if f.rule_id not in known:
            known[f.rule_id] = RuleInfo(
                f.rule_id,
                t.get(f"rule.{f.rule_id}", f.title),
                t.get(f"rule_desc.{f.rule_id}", ""),
                view.rule_references.get(f.rule_id, ()),
            )
    for rule_id in RULE_IDS:
        if rule_id not in known:
            known[rule_id] = RuleInfo(rule_id, t(f"rule.{rule_id}"), t(f"rule_desc.{rule_id}"), ())
    return [known[k] for k in sorted(known)]


def _points(t: Translator, before: float | None, after: float | None) -> str:
    """A change of the protected share in percentage points, signed."""
    if before is None or after is None:
        return t("common.not_applicable")
    value = (after - before) * 100
    sign = "+" if value > 0.05 else "−" if value < -0.05 else "±"
    return t("history.points", value=sign + t.number(abs(value), 1))


def _ref_text(t: Translator, ref: fw.Citation | FrameworkRef) -> str:
    return fw.short(ref.ref if isinstance(ref, fw.Citation) else ref, t.language)


def _reconciliation(view: ReportView) -> dict[str, int]:
    """The figures of the sentence that reconciles statuses with rule counts: unprotected
    sensitive accesses, the row findings MFA-001 … MFA-005 made of them, the rest (held by
    privileged accounts, reported once per account by MFA-006) and MFA-006's count."""
    unprotected = {
        CoverageStatus.NOT_ENROLLED,
        CoverageStatus.NOT_ENFORCED,
        CoverageStatus.REPORT_ONLY,
        CoverageStatus.CONDITIONAL,
        CoverageStatus.WEAK,
    }
    total = sum(n for s, n in view.status_counts.items() if s in unprotected)
    by_rule = view.findings_by_rule
    rows = sum(by_rule.get(f"MFA-00{n}", 0) for n in range(1, 6))
    return {"unprotected": total, "rows": rows, "rest": total - rows, "privileged": by_rule.get("MFA-006", 0)}


def _biggest_changes(view: ReportView, threshold: float = 0.05) -> list[Any]:
    """Portals whose protected share moved by at least ``threshold`` since the last report,
    largest moves first (at most five)."""
    sl = view.since_last
    if sl is None:
        return []
    moved = [c for c in sl.portals if c.delta is not None and abs(c.delta) >= threshold]
    return sorted(moved, key=lambda c: (-abs(c.delta or 0), c.label))[:5]


def _contents(view: ReportView) -> list[tuple[str, str]]:
    """(anchor, catalogue key) of every chapter, in order: the contents page."""
    entries = [("verdict", "section.verdict"), ("summary", "section.summary")]
    if view.has_history:
        entries.append(("history", "section.history"))
    entries += [
        ("scope", "section.scope"),
        ("coverage", "section.coverage"),
        ("findings", "section.findings"),
        ("responses", "section.responses"),
        ("exceptions", "section.exceptions"),
        ("completeness", "section.completeness"),
        ("methodology", "section.methodology"),
        ("integrity", "section.integrity"),
        ("annex-excluded", "section.annex_excluded"),
    ]
    return entries


def _group_responses(view: ReportView, group: RuleGroup) -> list[tuple[ManagementResponse, int]]:
    """The responses that answer findings of a rule, with how many of its findings each answers."""
    counts = view.responses_by_rule.get(group.rule_id, {})
    by_id = {r.id: r for r in view.responses.register}
    return [(by_id[k], counts[k]) for k in sorted(counts)]


def render_html(view: ReportView, attachments: Sequence[EvidenceFile], *, for_pdf: bool) -> str:
    ctx = view.ctx
    t = Translator(ctx.options.language)
    rules = rule_infos(view, t)
    titles = {r.id: r.title for r in rules}
    selected = ctx.options.frameworks
    from auditor import __version__

    # engine (#14): the method table of the profile in force.
    profile = profile_table(view.result.profile)
    methods_by_strength = {s: [k for k in MethodKind if profile[k] is s] for s in Strength}
    issues_of = {s.source: s.issues for s in view.sources}
    template = _environment().get_template(TEMPLATE)
    return template.render(
        t=t,
        ctx=ctx,
        view=view,
        result=view.result,
        metrics=view.metrics,
        meta={
            "title": ctx.options.title if ctx.options.title != "MFA coverage audit" else t("report.title"),
            "findings_digest": findings_digest(view.result.findings),
            "page_counter": _page_counter(t),
            "all_balanced": all(r.balanced for r in view.reconciliation),
        },
        css=Markup(stylesheet()),
        for_pdf=for_pdf,
        charts=_charts(view, t),
        groups=view.rule_groups(titles),
        rule_titles=titles,
        rules=rules,
        descriptions={r.id: r.description for r in rules},
        citations=fw.select(selected),
        framework_name=lambda key: fw.framework(key).name_fr if t.language == "fr" else fw.framework(key).name_en,
        rule_refs=lambda rule_id, given: [_ref_text(t, r) for r in fw.for_rule(rule_id, given, selected)],
        evidence=lambda f: evidence_text(t, f, view.snapshot),
        reconciled=_reconciliation(view),
        changes=_biggest_changes(view),
        tool_version=__version__,
        account=view.account_text,
        statuses=STATUS_ORDER,
        severities=SEVERITY_ORDER,
        strengths=STRENGTH_ORDER,
        methods_by_strength=methods_by_strength,
        exception_state=exception_state,
        attachments=attachments,
        findings_file=FINDINGS_NAME,
        Severity=Severity,
        points=lambda before, after: _points(t, before, after),
        exclusion_cap=EXCLUSION_CAP,
        blocked_status=CoverageStatus.BLOCKED,
        # The status table in two columns, in the bars' order (what counts as protected
        # first); the last cell holds the total.
        status_pairs=list(zip(BAR_ORDER[0::2], [*BAR_ORDER[1::2], None], strict=True)),
        toc=_contents(view),
        signoff={s.role: s for s in ctx.options.signoff},
        response_for=view.responses.for_finding,
        group_responses=lambda g: _group_responses(view, g),
        first_seen=view.first_seen.of,
        target=lambda name: target_for(ctx.options, Sensitivity(name)),
        # What sources did not read, and why, in the report's language (auditor.render.reasons).
        issue_text=lambda issue: issue_text(t, issue),
        reason=lambda source, why: reason_text(t, why, issues_of.get(source, ())),
        source_reasons=lambda s: [issue_text(t, i) for i in s.issues if i.incomplete] or [t("banner.no_reason")],
        scope_limits=[(s.source, issue_text(t, i)) for s in view.sources for i in s.issues if i.limits_scope],
    )
