"""``verify --layout``: the pages laid out again, compared page by page; and the report
context rebuilt from the evidence, which both page checks use.

The report is rendered again, by this tool's own renderer, from the evidence the file
carries (the snapshot re-evaluated with the attached config, at the recorded time and
run id, with the presentation and history the manifest records), and the text of each
page is compared with the text of the same page in the file. Beyond what the default
check (``auditor.evidence.verify_text``, no layout) proves, this proves the pagination:
the same text on the same pages. It costs a full layout (tens of seconds for a long
report), which is why it is opt-in.

Text is compared run by run (one run per text object, in drawing order), decoded
through each font's ToUnicode map the same way on both sides. A report made by another
tool or renderer version may lay out differently: a difference then says so, naming
both versions, rather than calling it tampering.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from auditor.evidence.verify_manifest import Manifest, generator
from auditor.evidence.verify_result import Check

MAX_REPORTED_PAGES = 5
_CLIP = 80


def rebuild_context(config: Any, result: Any, snapshot: Any, manifest: Manifest, history: dict[str, Any]) -> Any:
    """The report context the renderer was given, rebuilt from the evidence: the same
    function as a run uses (``pipeline.report_context``), so both stay in step."""
    from auditor import pipeline
    from auditor.render.pseudonym import MARKER

    options = replace(
        config.report.options,
        signing_key=None,
        signing_certificate=None,
        signing_timestamp_url=None,
        language=manifest.language,  # what the report was rendered with, whatever its config says
    )
    if manifest.title is not None and manifest.max_detail_rows is not None:
        options = replace(options, title=manifest.title, max_detail_rows=manifest.max_detail_rows)
    config = replace(config, report=replace(config.report, options=options))
    extra = dict(history)
    if manifest.pseudonymised:
        # The attached evidence is pseudonymised already: nothing is replaced twice,
        # and no key is needed.
        extra[MARKER] = True
    ctx = pipeline.report_context(config, result, snapshot, generated_at=manifest.generated_at, extra=extra)
    if manifest.pseudonymised:
        # The digest was taken of the config before pseudonymisation: it cannot be
        # recomputed from the attached (pseudonymised) text, only carried over.
        ctx = replace(ctx, config_digest=manifest.config_sha256)
    return ctx


def render_pages(ctx: Any) -> bytes:
    """The report the evidence gives, by the renderer a run uses. WeasyPrint's warnings
    (about the stylesheet) are the renderer's business, not the verifier's output."""
    import logging

    from auditor.render.pdf import render_pdf

    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return render_pdf(ctx)
    finally:
        logger.setLevel(level)


def compare_pages(found: Sequence[Sequence[str]], expected: Sequence[Sequence[str]], manifest: Manifest) -> list[Check]:
    """One check per page that differs (at most a few, then a count), or one passing check."""
    checks: list[Check] = []
    note = version_note(manifest)
    if len(found) != len(expected):
        checks.append(
            Check(
                "pages",
                False,
                f"the file has {len(found)} pages, the evidence renders to {len(expected)}{note}",
            )
        )
    differing = 0
    for number, (page, want) in enumerate(zip(found, expected, strict=False), start=1):
        if list(page) == list(want):
            continue
        differing += 1
        if differing <= MAX_REPORTED_PAGES:
            checks.append(Check(f"page {number}", False, _first_difference(page, want) + note))
    if differing > MAX_REPORTED_PAGES:
        checks.append(Check("pages", False, f"{differing - MAX_REPORTED_PAGES} more pages differ from the evidence"))
    if not checks:
        checks.append(Check("pages", True, f"all {len(found)} pages print what the evidence gives"))
    return checks


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


def _first_difference(page: Sequence[str], want: Sequence[str]) -> str:
    matcher = difflib.SequenceMatcher(a=list(want), b=list(page), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace":
            printed, given = "".join(page[j1:j2]), "".join(want[i1:i2])
            a, b = _narrow(printed, given)
            return f"prints {a!r} where the evidence gives {b!r}"
        if tag == "delete":
            return f"lacks {_clip(' '.join(want[i1:i2]))!r} that the evidence gives"
        return f"prints {_clip(' '.join(page[j1:j2]))!r} that the evidence does not give"
    return "differs from the evidence"


def _narrow(printed: str, given: str) -> tuple[str, str]:
    """The differing stretch of two texts, with a few characters of context."""
    start = 0
    while start < min(len(printed), len(given)) and printed[start] == given[start]:
        start += 1
    end = 0
    while (
        end < min(len(printed), len(given)) - start and printed[len(printed) - 1 - end] == given[len(given) - 1 - end]
    ):
        end += 1
    lo = max(0, start - 12)
    return _clip(printed[lo : len(printed) - max(0, end - 12)]), _clip(given[lo : len(given) - max(0, end - 12)])


def version_note(manifest: Manifest) -> str:
    made = manifest.generator
    ours = generator()
    if made is None:
        return (
            " (the report records no generator: it was made by an older version, whose layout may differ;"
            " verify it with the version that made it)"
        )
    if made.get("version") != ours["version"] or made.get("renderer") != ours["renderer"]:
        return (
            f" (the report was made by mfa-auditor {made.get('version')} with {made.get('renderer')};"
            f" this is mfa-auditor {ours['version']} with {ours['renderer']}: verify it with the version that made it)"
        )
    return ""
