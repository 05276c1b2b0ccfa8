"""The page check without layout (``auditor.evidence.verify_text``): the pages' text
against the text of the report's HTML, with what layout adds accounted for exactly.

Genuine reports pass with every kind of layout addition exercised; each hand edit of
what layout adds (a contents page number, a footer, a repeated table header where no
table continues), an extra text run and a moved row fail on the page they are on; and
any single-character edit of any page's text is caught, on that page."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.cli import main
from auditor.evidence.verify_expected import normalise, read_expected
from auditor.evidence.verify_pdf import PageReader, PageText, Run, open_pdf
from auditor.evidence.verify_text import PageCheck
from auditor.render.pdf import pdf_html, render_pdf
from tests.support import verify as vs


@dataclasses.dataclass
class Sample:
    data: bytes
    html: str
    pages: list[PageText]
    runs: list[list[str]]


def _sample(folder: Path, language: str) -> Sample:
    ctx = vs.report_context(folder, language=language)
    data = render_pdf(ctx)
    with open_pdf(data) as pdf:
        pages = PageReader(pdf).page_texts()
    return Sample(data, pdf_html(ctx), pages, [[r.text for r in p.runs] for p in pages])


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return _sample(tmp_path_factory.mktemp("pages-en"), "en")


@pytest.fixture(scope="module")
def french(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return _sample(tmp_path_factory.mktemp("pages-fr"), "fr")


def _check(sample: Sample, pages: list[PageText] | None = None) -> PageCheck:
    return PageCheck(read_expected(sample.html), sample.pages if pages is None else pages)


def run_verify(tmp_path: Path, data: bytes, *args: str) -> tuple[int, list[str]]:
    path = tmp_path / "candidate.pdf"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["verify", str(path), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def fail_line(lines: list[str], *words: str) -> str:
    found = [line for line in lines if line.startswith("FAIL") and all(w in line for w in words)]
    assert found, "\n".join(lines)
    return found[0]


# --- genuine reports -----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_genuine_report_passes_with_each_layout_addition_accounted_for(
    language: str, english: Sample, french: Sample
) -> None:
    sample = english if language == "en" else french
    check = _check(sample)
    checks = check.run()
    assert [c.ok for c in checks] == [True], checks
    kinds = {
        "running headers",
        "page footers",
        "contents page numbers",
        "repeated table headers",
        "charts",
        "list markers",
    }
    assert kinds <= {k for k, n in check.accounted.items() if n > 0}, check.accounted
    assert check.accounted["page footers"] == len(sample.pages)


def test_the_html_the_page_check_reads_is_the_html_weasyprint_lays_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weasyprint

    ctx = vs.report_context(tmp_path)
    laid_out: list[str] = []

    class Captured(Exception):
        pass

    def capture(*args: Any, string: str = "", **kwargs: Any) -> None:
        laid_out.append(string)
        raise Captured

    monkeypatch.setattr(weasyprint, "HTML", capture)
    with pytest.raises(Captured):
        render_pdf(ctx)
    assert laid_out == [pdf_html(ctx)]


def test_the_stylesheet_adds_no_text_the_page_check_does_not_read() -> None:
    """The page check reads the HTML's text and knows what the print stylesheet adds:
    the contents' leaders and numbers, the margin boxes, the running strings of h1, the
    markers of ul (ol.toc has none). Any other generated, hidden or transformed text would
    print what the HTML does not hold: this fails first, so the check learns it too."""
    import re

    from auditor.render.document import stylesheet

    css = re.sub(r"/\*.*?\*/", "", stylesheet(), flags=re.S)
    rules = re.findall(r"([^{}]+)\{([^{}]*)\}", re.sub(r"@page[^{]*\{", "", css))
    for selector, body in rules:
        selector = " ".join(selector.split())
        where = f"{selector} {{{body.strip()}}}"
        assert "text-transform" not in body, where
        assert not re.search(r"display\s*:\s*none|visibility\s*:\s*hidden|list-style-position", body), where
        if "content:" in body:
            assert (
                selector == "ol.toc a::after"
                or selector.startswith("@")
                or selector
                in (
                    "@top-left",
                    "@top-right",
                    "@bottom-left",
                    "@bottom-right",
                )
            ), where
        if "::" in selector or ":before" in selector or ":after" in selector:
            assert selector == "ol.toc a::after", where
        if "list-style" in body:
            assert selector == "ol.toc" and "none" in body, where
        if "string-set" in body:
            assert selector in ("h1", ".cover h1.cover-title"), where


# --- what layout adds, edited by hand -------------------------------------------------------------


def _contents_number(sample: Sample) -> tuple[int, str, str]:
    """(page, chapter, page number) of a contents entry whose number is printed once on its page."""
    for number, runs in enumerate(sample.runs, start=1):
        if "Contents" not in runs:
            continue
        for i, run in enumerate(runs):
            j = i + 1
            while j < len(runs) and runs[j] == ".":
                j += 1
            if j > i + 1 and j < len(runs) and runs[j].isdigit() and runs.count(runs[j]) == 1:
                return number, run, runs[j]
    raise AssertionError("no contents page")


def test_a_hand_edited_contents_page_number_fails(english: Sample, tmp_path: Path) -> None:
    page, chapter, printed = _contents_number(english)
    edited = printed[:-1] + ("1" if printed[-1] != "1" else "2")
    tampered = vs.edit_page_text(english.data, page, printed, edited, whole=True)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    line = fail_line(lines, f"page {page}:", f"the contents give page {edited} for {chapter!r}")
    assert f"begins on page {printed}" in line


def test_an_edited_page_footer_fails(english: Sample, tmp_path: Path) -> None:
    total = len(english.pages)
    footer = f"Page 3 of {total}"
    assert footer in english.runs[2]
    tampered = vs.edit_page_text(english.data, 3, footer, f"Page 4 of {total}", whole=True)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    line = fail_line(lines, "page 3:", "page footer")
    assert f"Page 4 of {total}" in line and footer in line


def test_an_extra_text_run_on_a_page_fails(english: Sample, tmp_path: Path) -> None:
    page = next(n for n, runs in enumerate(english.runs, start=1) if "Organisation" in runs)
    tampered = vs.duplicate_page_text(english.data, page, "Organisation")
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    fail_line(lines, f"page {page}:", "Organisation")


def _findings_page(sample: Sample) -> tuple[int, str, str]:
    """A findings page and two of its rows' account cells (local parts), each printed once."""
    for number, runs in enumerate(sample.runs, start=1):
        cells = [r.split("@")[0] for r in runs if "@" in r and r.count("@") == 1 and not r.endswith("@")]
        once = [c for c in cells if len(c) > 3 and sum(c in r for r in runs) == 1]
        if len(once) >= 3:
            return number, once[0], once[-1]
    raise AssertionError("no findings page")


def test_a_row_moved_to_another_position_fails(english: Sample, tmp_path: Path) -> None:
    page, first_row, last_row = _findings_page(english)
    tampered = vs.move_page_text(english.data, page, first_row, after=last_row)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    fail_line(lines, f"page {page}:")


def test_a_repeated_table_header_where_no_table_continues_fails(english: Sample, tmp_path: Path) -> None:
    # A page that starts with a repeated findings header (its table continues there) ...
    header = ["Severity", "Account", "Portal", "Evidence"]
    source = next(n for n, runs in enumerate(english.runs, start=1) if runs[:4] == header)
    # ... and the first page of a chapter, where no table continues.
    target = next(n for n, runs in enumerate(english.runs, start=1) if runs[0] == "Executive summary")
    assert _check(english).run()[0].ok  # the header is accepted where it continues a table
    tampered = vs.prepend_page_text(english.data, source, 5, target)
    code, lines = run_verify(tmp_path, tampered)
    assert code == 1
    line = fail_line(lines, f"page {target}:")
    assert "prints 'Severity Account Portal" in line and "where the evidence gives" in line


def test_a_continuation_page_without_its_repeated_header_fails(english: Sample, tmp_path: Path) -> None:
    page = next(n for n, runs in enumerate(english.runs, start=1) if runs[:2] == ["Severity", "Account"])
    cells = next(i for i, run in enumerate(english.runs[page - 1]) if run.endswith("Response")) + 1
    code, lines = run_verify(tmp_path, vs.drop_first_page_text(english.data, page, cells))
    assert code == 1
    fail_line(lines, f"page {page}:", "lacks the repeated header of the table it continues", "Severity Account")
    # Part of it removed: a difference at the top of the page.
    code, lines = run_verify(tmp_path, vs.drop_first_page_text(english.data, page, 1))
    assert code == 1
    fail_line(lines, f"page {page}:", "prints 'Account Portal")


def test_a_header_repeated_in_the_middle_of_a_continuing_table_fails(english: Sample) -> None:
    source = next(n for n, runs in enumerate(english.runs, start=1) if runs[:2] == ["Severity", "Account"])
    page = english.pages[source - 1]
    middle = len(page.runs) // 2
    header = page.runs[:5]
    runs = [*page.runs[:middle], *header, *page.runs[middle:]]
    pages = [*english.pages[: source - 1], PageText(runs, page.height), *english.pages[source:]]
    checks = _check(english, pages).run()
    assert not checks[0].ok and checks[0].name == f"page {source}", checks


@pytest.mark.slow  # lays the report out again
def test_verify_layout_lays_the_report_out_again_and_catches_an_edit(english: Sample, tmp_path: Path) -> None:
    code, lines = run_verify(tmp_path, english.data, "--layout")
    assert code == 0, "\n".join(lines)
    assert f"ok   pages: all {len(english.pages)} pages print what the evidence gives" in lines
    assert not any("running headers" in line for line in lines)  # the layout check's own line
    page, _chapter, printed = _contents_number(english)
    edited = printed[:-1] + ("1" if printed[-1] != "1" else "2")
    code, lines = run_verify(tmp_path, vs.edit_page_text(english.data, page, printed, edited, whole=True), "--layout")
    assert code == 1
    fail_line(lines, f"page {page}:", edited)


def test_a_blank_page_added_with_every_footer_renumbered_fails(english: Sample) -> None:
    # Added at the end (no contents number changes), every footer made consistent with
    # one more page: the text stream alone is unchanged, and the blank page still fails.
    total = len(english.pages) + 1
    pages = [
        PageText(
            [Run(f"Page {n} of {total}", r.y) if r.text.startswith("Page ") else r for r in page.runs], page.height
        )
        for n, page in enumerate(english.pages, start=1)
    ]
    last = english.pages[-1]
    margins = [r for r in last.runs if r.y < 40 or r.y > last.height - 40]
    pages.append(
        PageText(
            [Run(f"Page {total} of {total}", r.y) if r.text.startswith("Page ") else r for r in margins], last.height
        )
    )
    checks = _check(english, pages).run()
    failed = [c for c in checks if not c.ok]
    assert [c.name for c in failed] == [f"page {total}"], checks
    assert "nothing but its margins" in failed[0].detail


# --- any single-character edit ---------------------------------------------------------------------

_GLYPHS = st.sampled_from(list("0123456789.,%:;-–·•()abcdefxyzABCXYZéèàÉ€$#@/"))


@st.composite
def _edit(draw: Any, sample: Sample) -> tuple[int, int, str]:
    """(page index, run index, edited run text): one character replaced, inserted or deleted."""
    page = draw(st.integers(0, len(sample.pages) - 1))
    runs = sample.pages[page].runs
    # A contents leader is as many dots as fill the line, which only layout knows: its
    # runs are left out, and so is a dot put just before a contents page number (it reads
    # as one more leader dot). Every other character counts.
    candidates = [i for i, r in enumerate(runs) if normalise(r.text) and normalise(r.text).strip(".")]
    index = draw(st.sampled_from(candidates))
    text = runs[index].text
    visible = [i for i, ch in enumerate(text) if normalise(ch)]
    at = draw(st.sampled_from(visible))
    kind = draw(st.sampled_from(["replace", "insert", "delete"]))
    if kind == "delete":
        return page, index, text[:at] + text[at + 1 :]
    number_start = at == 0 and text.isdigit() and index > 0 and runs[index - 1].text == "."
    glyph = draw(_GLYPHS.filter(lambda g: g != text[at] and not (number_start and g == ".")))
    if kind == "insert":
        return page, index, text[:at] + glyph + text[at:]
    return page, index, text[:at] + glyph + text[at + 1 :]


@pytest.mark.parametrize("language", ["en", "fr"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_character_edit_of_a_page_is_caught_on_that_page(
    language: str, english: Sample, french: Sample, data: st.DataObject
) -> None:
    sample = english if language == "en" else french
    page, index, text = data.draw(_edit(sample))
    original = sample.pages[page]
    runs = list(original.runs)
    runs[index] = Run(text, runs[index].y)
    pages = list(sample.pages)
    pages[page] = PageText(runs, original.height)
    checks = _check(sample, pages).run()
    failed = [c for c in checks if not c.ok]
    assert failed, (page + 1, original.runs[index].text, text)
    # Named on the page edited; or, for a character at the foot of a page (where a page
    # breaks is layout's choice), on the next page, saying so.
    first = failed[0]
    assert first.name == f"page {page + 1}" or (
        first.name == f"page {page + 2}" and f"may be the foot of page {page + 1}" in first.detail
    ), (first, original.runs[index].text, text)
