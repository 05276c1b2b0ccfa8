"""Any identity text an IdP can send renders as text: a property test over generated
names (markup, quotes, controls, bidi, astral and combining characters) through the
real pages, on a small store written by ``save_run``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from auditor.model import (
    Access,
    Account,
    AccountId,
    AccountKind,
    AuditResult,
    Coverage,
    CoverageStatus,
    Finding,
    Metrics,
    Portal,
    PortalId,
    Requirement,
    Sensitivity,
    Severity,
    Snapshot,
    SourceName,
    SourceSnapshot,
    Strength,
)
from auditor.store.database import EvidenceStore
from auditor.web.app import WebSettings, create_app
from auditor.web.mask import inert
from auditor.web.security import Guard

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
SRC = SourceName("okta")

names = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("<>&\"'=/;{}() \t\n\x00\x07\x1b\x85\u202e\u2066\u200f")),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    min_size=1,
    max_size=40,
)


def _store(folder: Path, display: str, portal_name: str) -> Path:
    account = Account(SRC, AccountId("00u1"), "eve@example.org", display, AccountKind.HUMAN, True)
    portal = Portal(SRC, PortalId("0oa1"), portal_name, sensitivity=Sensitivity.SENSITIVE)
    coverage = Coverage(
        SRC,
        account.id,
        SRC,
        portal.id,
        CoverageStatus.NOT_ENROLLED,
        Sensitivity.SENSITIVE,
        Strength.NONE,
        Requirement.MFA,
        Strength.WEAK,
        False,
        f"no method for {display}",
        SRC,
    )
    finding = Finding(
        "MFA-001",
        Severity.HIGH,
        "Not enrolled",
        SRC,
        account.id,
        account.principal,
        portal.id,
        portal_name,
        f"{display} has no active second factor",
    )
    source = SourceSnapshot(
        SRC, "okta", NOW, True, accounts=(account,), portals=(portal,), access=(Access(account.id, portal.id),)
    )
    snapshot = Snapshot("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "d" * 64, (source,))
    result = AuditResult(
        "2026-Q4-x-1", "1", NOW, "2026-Q4", True, (coverage,), (finding,), (), (), Metrics(1, 1, 1, 1, 0, 0)
    )
    path = folder / "ev.sqlite3"
    if path.exists():
        path.unlink()
    EvidenceStore(path).save_run(result, snapshot, "d" * 64, "config")
    return path


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.in_bdi = 0
        self.bdi: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "bdi":
            self.in_bdi += 1
            self.bdi.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "bdi":
            self.in_bdi -= 1

    def handle_data(self, data: str) -> None:
        if self.in_bdi:
            self.bdi[-1] += data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(display=names, portal_name=names)
def test_any_name_renders_as_its_inert_text(tmp_path: Path, display: str, portal_name: str) -> None:
    path = _store(tmp_path, display, portal_name)
    web = TestClient(create_app(WebSettings(path, guard=Guard(hosts=frozenset({"testserver"}), token=None))))
    run = "2026-Q4-x-1"
    for url in (f"/runs/{run}", f"/runs/{run}/portals/0", f"/runs/{run}/accounts/0", f"/runs/{run}/findings"):
        page = web.get(url)
        assert page.status_code == 200, url
        parsed = _Page()
        parsed.feed(page.text)
        # Only the template's own elements: nothing the names could have opened.
        assert set(parsed.tags) <= {
            "html",
            "head",
            "meta",
            "title",
            "link",
            "script",
            "body",
            "a",
            "header",
            "nav",
            "ul",
            "li",
            "p",
            "main",
            "h1",
            "h2",
            "section",
            "table",
            "caption",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "span",
            "bdi",
            "form",
            "fieldset",
            "legend",
            "label",
            "select",
            "option",
            "input",
            "button",
            "div",
            "dl",
            "dt",
            "dd",
            "code",
            "footer",
        }, url
        assert parsed.tags.count("script") == 1, url
        shown = set(parsed.bdi)
        # Each name appears exactly as its inert form (controls as [U+XXXX]), never raw.
        if url.endswith("/portals/0") or url.endswith("/accounts/0"):
            assert inert(display) in shown, url
        if url.endswith(f"/runs/{run}"):
            assert inert(portal_name) in shown, url
        for text in shown:
            assert inert(text) == text  # no control or bidi character survived
