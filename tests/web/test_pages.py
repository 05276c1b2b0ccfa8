"""The web view through Starlette's test client: every page, what it shows against the
engine's own result, filters and paging against a brute-force count, the CSV export,
the diff against ``history.diff_runs``, languages, and the read-only guarantee."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3
from collections import Counter
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from auditor.model import CoverageStatus, Severity
from auditor.queries import history
from auditor.render.i18n import catalogue
from auditor.render.pseudonym import Pseudonymiser
from auditor.render.rows import csv_cell
from auditor.store.database import BROWSE_STATUS_ORDER, EvidenceStore
from auditor.web.app import WebSettings, create_app
from auditor.web.queries import ReadOnlyStore, StoreUnavailable
from auditor.web.security import Guard

from .conftest import BIDI, CONTROL, FORMULA, IMG, SCRIPT, Built

HOST = frozenset({"testserver"})


def client(built: Built, pseudonym_key: bytes | None = None) -> TestClient:
    settings = WebSettings(built.path, built.reports, pseudonym_key=pseudonym_key, guard=Guard(hosts=HOST, token=None))
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def web(built: Built) -> TestClient:
    return client(built)


@pytest.fixture(scope="module")
def stored(built: Built) -> EvidenceStore:
    return EvidenceStore(built.path, create=False)


class _Markup(HTMLParser):
    """Every element and attribute of a page, to prove nothing from the data is live."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Markup:
    m = _Markup()
    m.feed(html)
    return m


def assert_inert(html: str, *, controls: bool = True) -> None:
    m = parse(html)
    scripts = [a.get("src") for t, a in m.tags if t == "script"]
    assert scripts == ["/static/htmx.min.js"], scripts  # the bundled file, nothing inline, nothing planted
    assert not [t for t, _ in m.tags if t in ("img", "style", "iframe", "object", "embed")]
    assert not [(t, k) for t, a in m.tags for k in a if k.startswith("on")]
    for _, a in m.tags:
        for v in a.values():
            assert not (v or "").lstrip().lower().startswith(("javascript:", "file:", "data:")), v
    text = "".join(m.text)
    assert "\u202e" not in html and "\x1b" not in html and "\x00" not in html
    if controls:
        assert "[U+202E]" in text or "[U+001B]" in text  # the controls are shown, not obeyed


# --- pages ---------------------------------------------------------------------------------


def test_every_page_renders_with_security_headers(web: TestClient, built: Built) -> None:
    run = built.run_b
    pages = [
        "/",
        f"/runs/{run}",
        f"/runs/{run}/portals/0",
        f"/runs/{run}/accounts/0",
        f"/runs/{run}/findings",
        f"/runs/{run}/findings.csv",
        "/diff",
        "/static/htmx.min.js",
        "/static/web.css",
        "/runs/nope",  # the 404 page too
    ]
    for url in pages:
        r = web.get(url)
        assert r.status_code == (404 if url == "/runs/nope" else 200), url
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store"
        if r.headers["content-type"].startswith("text/html"):
            assert "<script>" not in r.text and " style=" not in r.text, url  # nothing inline for the CSP to block


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_only_get_is_served(web: TestClient, built: Built, method: str) -> None:
    for url in ("/", f"/runs/{built.run_b}", f"/runs/{built.run_b}/findings.csv"):
        r = web.request(method, url)
        assert r.status_code == 405
        assert r.headers["allow"] == "GET, HEAD"
        assert r.headers["content-security-policy"]


def test_unknown_host_header_is_refused(built: Built) -> None:
    # DNS rebinding: a hostile page whose name resolves to 127.0.0.1 sends its own Host.
    web = TestClient(
        create_app(WebSettings(built.path, built.reports, guard=Guard(hosts=frozenset({"127.0.0.1:8765"}), token=None)))
    )
    assert web.get("/", headers={"host": "attacker.example:8765"}).status_code == 421
    assert web.get("/", headers={"host": "127.0.0.1:8765"}).status_code == 200


def test_token_beyond_loopback(built: Built) -> None:
    token = "t0k-" + "x" * 30
    web = TestClient(create_app(WebSettings(built.path, built.reports, guard=Guard(hosts=None, token=token))))
    assert web.get("/").status_code == 401
    assert web.get("/", headers={"x-mfa-audit-token": "wrong"}).status_code == 401
    assert web.get("/", headers={"cookie": "mfa_audit_token=wrong"}).status_code == 401
    assert web.get("/", headers={"x-mfa-audit-token": token}).status_code == 200
    assert web.get("/", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert web.get("/", headers={"cookie": f"mfa_audit_token={token}"}).status_code == 200
    # The printed link: the token becomes an HttpOnly, SameSite cookie and leaves the address bar.
    r = web.get(f"/diff?token={token}&change=new", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/diff?change=new"
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
    assert web.get("/").status_code == 200  # the client now holds the cookie
    fresh = TestClient(create_app(WebSettings(built.path, built.reports, guard=Guard(hosts=None, token=token))))
    assert fresh.get("/diff?token=guess", follow_redirects=False).status_code == 401


def test_runs_page_lists_runs_and_draws_the_trend(web: TestClient, built: Built, stored: EvidenceStore) -> None:
    r = web.get("/")
    m = parse(r.text)
    svg = [a for t, a in m.tags if t == "svg"]
    assert len(svg) == 1 and svg[0]["role"] == "img"
    # Each bar says its value in text (not by colour or height alone).
    for summary in stored.runs():
        ratio = f"{summary.protected_ratio * 100:.1f}%"
        assert ratio in r.text
        assert f"/runs/{summary.run_id}" in r.text
    assert len([t for t, _ in m.tags if t == "rect"]) == 2


def test_overview_shows_the_verdict_per_portal(web: TestClient, built: Built, stored: EvidenceStore) -> None:
    run = stored.load_run(built.run_b)
    r = web.get(f"/runs/{built.run_b}")
    assert r.status_code == 200
    per_portal = Counter((c.portal_source, c.portal_id) for c in run.result.coverage)
    names = {(s.source, p.id): p.name for s in run.snapshot.sources for p in s.portals}
    for key in per_portal:
        assert names[key].split(" (")[0] in r.text
    assert "Every source was read in full." in r.text
    assert "mfa-audit verify mfa-audit-" in r.text
    assert f"/runs/{built.run_b}/files/pdf" in r.text
    assert sum(per_portal.values()) == len(run.result.coverage)


def test_portal_rows_match_the_engine(web: TestClient, built: Built, stored: EvidenceStore) -> None:
    """Every (account, status) of every portal, read page by page, is the engine's coverage."""
    run = stored.load_run(built.run_b)
    ro = ReadOnlyStore(built.path)
    meta = ro.run(built.run_b)
    accounts = {(s.source, a.id): a for s in run.snapshot.sources for a in s.accounts}
    for portal in ro.portals(meta):
        expected = Counter(
            (accounts[(c.source, c.account_id)].principal, c.status)
            for c in run.result.coverage
            if (c.portal_source, c.portal_id) == (portal.source, portal.portal_id)
        )
        seen: Counter[tuple[str, CoverageStatus]] = Counter()
        page = 1
        while True:
            got = ro.portal_page(meta, portal.p, _flt(), page, 25)
            seen.update((c.account.principal, c.status) for c in got.rows if c.account)
            if page >= got.pages:
                break
            page += 1
        assert seen == expected, portal.name
        assert portal.total == sum(expected.values())


def _flt(**kw: object):  # type: ignore[no-untyped-def]
    from auditor.web.queries import PortalFilter

    return PortalFilter(**kw)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    p=st.integers(0, 14),
    status=st.none() | st.sampled_from(list(CoverageStatus)),
    severity=st.none() | st.sampled_from(list(Severity)),
    sort=st.sampled_from(["account", "status", "severity"]),
    desc=st.booleans(),
    size=st.sampled_from([25, 50]),
)
def test_portal_filters_and_sort(
    web: TestClient,
    built: Built,
    p: int,
    status: CoverageStatus | None,
    severity: Severity | None,
    sort: str,
    desc: bool,
    size: int,
) -> None:
    ro = ReadOnlyStore(built.path)
    meta = ro.run(built.run_b)
    portals = ro.portals(meta)
    p = p % len(portals)
    everything = ro.portal_page(meta, p, _flt(), 1, 200).rows
    wanted = [
        c for c in everything if (status is None or c.status == status) and (severity is None or c.severity == severity)
    ]
    params = {
        "status": status or "",
        "severity": severity or "",
        "sort": sort,
        "desc": "1" if desc else "",
        "size": size,
    }
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    r = web.get(f"/runs/{built.run_b}/portals/{p}?{query}")
    assert r.status_code == 200
    shown = re.findall(r'href="/runs/[^/]+/accounts/(\d+)"', r.text)
    numbers = [int(n) for n in shown]
    assert len(numbers) == min(size, len(wanted))
    assert set(numbers) <= {c.n for c in wanted}
    rank = {c.n: c for c in wanted}
    if sort == "account":
        assert numbers == sorted(numbers, reverse=desc)
    elif sort == "status":
        keys = [BROWSE_STATUS_ORDER.index(rank[n].status) for n in numbers]
        assert keys == sorted(keys, reverse=desc)
    else:
        keys = [rank[n].severity.rank if rank[n].severity else 0 for n in numbers]
        assert keys == sorted(keys, reverse=not desc)
    total = f"of {len(wanted)}" if wanted else "No row matches"
    assert total in r.text


def test_bad_parameters_are_a_clear_400(web: TestClient, built: Built) -> None:
    base = f"/runs/{built.run_b}/portals/0"
    for query, says in (
        ("status=bogus", "status: unknown value"),
        ("sort=drop+table", "sort: expected one of"),
        ("page=0", "page: out of range"),
        ("page=x", "whole numbers"),
        ("size=100000", "size: expected one of"),
    ):
        r = web.get(f"{base}?{query}")
        assert r.status_code == 400, query
        assert says in r.text, query
    assert web.get(f"/runs/{built.run_b}/portals/999").status_code == 404
    assert web.get(f"/runs/{built.run_b}/accounts/99999").status_code == 404
    assert web.get(f"/runs/{built.run_b}/findings?severity=nope").status_code == 400


def test_account_page(web: TestClient, built: Built, stored: EvidenceStore) -> None:
    run = stored.load_run(built.run_b)
    ro = ReadOnlyStore(built.path)
    meta = ro.run(built.run_b)
    # An account with findings in both runs, so its history has two rows.
    finding = next(f for f in run.result.findings if f.account_id and f.source == "entra")
    n = next(
        c.n
        for p in ro.portals(meta)
        for c in ro.portal_page(meta, p.p, _flt(), 1, 200).rows
        if c.account and c.account.account_id == finding.account_id and c.account.source == "entra"
    )
    r = web.get(f"/runs/{built.run_b}/accounts/{n}")
    assert r.status_code == 200
    account = next(a for a in run.snapshot.source("entra").accounts if a.id == finding.account_id)
    assert account.principal in r.text and account.display_name in r.text
    assert finding.rule_id in r.text
    mine = [c for c in run.result.coverage if c.account_id == account.id and c.source == "entra"]
    assert r.text.count(f'href="/runs/{built.run_b}/portals/') == len(mine) > 0
    for c in mine:
        assert escape(catalogue("en")[f"status.{c.status}"]) in r.text
    # History: both runs link to this account.
    assert r.text.count("/accounts/") >= 2
    assert built.run_a.rsplit("-", 1)[-1] in r.text


def test_hostile_names_render_inert(web: TestClient, built: Built) -> None:
    ro = ReadOnlyStore(built.path)
    meta = ro.run(built.run_b)
    okta = next(p for p in ro.portals(meta) if p.source == "okta" and p.total)
    r = web.get(f"/runs/{built.run_b}/portals/{okta.p}?size=200")
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in r.text
    assert_inert(r.text)
    for c in ro.portal_page(meta, okta.p, _flt(), 1, 200).rows:
        if c.account and c.account.display_name in (SCRIPT, IMG, BIDI, CONTROL):
            page = web.get(f"/runs/{built.run_b}/accounts/{c.n}")
            m = parse(page.text)
            assert [a.get("src") for t, a in m.tags if t == "script"] == ["/static/htmx.min.js"]
            assert not [t for t, _ in m.tags if t in ("img", "style")]
            assert "\u202e" not in page.text and "\x1b" not in page.text
    findings = web.get(f"/runs/{built.run_b}/findings?source=okta&size=200")
    assert_inert(findings.text)


def test_findings_filter_group_and_csv(web: TestClient, built: Built, stored: EvidenceStore) -> None:
    run = stored.load_run(built.run_b)
    counts = Counter((f.rule_id, f.severity) for f in run.result.findings)
    (rule, severity), n = counts.most_common(1)[0]
    r = web.get(f"/runs/{built.run_b}/findings?rule={rule}&severity={severity}&size=200")
    assert r.status_code == 200
    assert f"of {n}" in r.text
    # Grouped by rule: each (rule, severity) with its count links to its filter.
    for rule_id, sev in counts:
        assert f"rule={rule_id}&amp;severity={sev}" in r.text
    export = web.get(f"/runs/{built.run_b}/findings.csv?rule={rule}&severity={severity}")
    assert export.headers["content-type"].startswith("text/csv")
    assert export.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == n
    expected = Counter(
        csv_cell(f.principal) for f in run.result.findings if (f.rule_id, f.severity) == (rule, severity)
    )
    assert Counter(row["principal"] for row in rows) == expected


def test_csv_export_guards_formulas_and_controls(web: TestClient, built: Built) -> None:
    export = web.get(f"/runs/{built.run_b}/findings.csv?source=okta")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert rows, "no Okta finding: the test would prove nothing"
    for row in rows:
        for value in row.values():
            assert value[:1] not in ("=", "+", "-", "@"), value  # never a live formula
            assert "\x1b" not in value and "\u202e" not in value and "\x00" not in value
    names = {row["display_name"] for row in rows}
    if any(n.startswith("'=HYPERLINK") for n in names):
        assert "'" + FORMULA in names


def test_diff_matches_history(web: TestClient, built: Built, stored: EvidenceStore) -> None:
    d = history.diff_runs(stored.load_run(built.run_a), stored.load_run(built.run_b))
    assert d.new and d.resolved  # the fixture changes methods between the runs
    for change, items in (("new", d.new), ("resolved", d.resolved), ("persisting", d.persisting)):
        r = web.get(f"/diff?a={built.run_a}&b={built.run_b}&change={change}&size=200")
        assert r.status_code == 200
        m = re.search(rf'id="tab-{change}"[^>]*>[^<]*<span class="count">([\d,]+)</span>', r.text)
        assert m is not None and int(m.group(1).replace(",", "")) == len(items), change
        assert r.text.count('<td class="message">') == min(200, len(items))
    # Default: the last two runs.
    assert "tab-new" in web.get("/diff").text


def test_languages(web: TestClient, built: Built) -> None:
    fr = web.get(f"/runs/{built.run_b}", headers={"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert fr.headers["content-language"] == "fr"
    assert '<html lang="fr">' in fr.text and "Verdict par portail" in fr.text
    en = web.get(f"/runs/{built.run_b}", headers={"accept-language": "de, en;q=0.5"})
    assert en.headers["content-language"] == "en" and "Verdict per portal" in en.text
    # The switch: a cookie, and back to the page; never elsewhere.
    switch = web.get(f"/lang/fr?next=/runs/{built.run_b}", follow_redirects=False)
    assert switch.status_code == 303 and switch.headers["location"] == f"/runs/{built.run_b}"
    assert "mfa_audit_lang=fr" in switch.headers["set-cookie"]
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = web.get(f"/lang/fr?next={evil}", follow_redirects=False)
        assert r.headers["location"] == "/", evil
    cookie_fr = web.get("/", headers={"cookie": "mfa_audit_lang=fr", "accept-language": "en"})
    assert "Exécutions" in cookie_fr.text
    # The status words are the report's (one catalogue for the PDF and the page).
    page = web.get(f"/runs/{built.run_b}/portals/0", headers={"accept-language": "fr"}).text
    for status in CoverageStatus:
        assert escape(catalogue("fr")[f"status.{status}"]) in page
    web.cookies.clear()  # the module's client goes back to following Accept-Language


def test_downloads(web: TestClient, built: Built) -> None:
    pdf = web.get(f"/runs/{built.run_b}/files/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment")
    html = web.get(f"/runs/{built.run_b}/files/html")
    assert html.headers["content-disposition"].startswith("attachment")  # never rendered under this origin
    assert web.get(f"/runs/{built.run_b}/files/json").status_code == 404  # not written
    for key, name in (("coverage-csv", "-coverage.csv"), ("ocsf", ".ocsf.jsonl")):
        r = web.get(f"/runs/{built.run_b}/files/{key}")
        assert r.status_code == 200 and f'{built.run_b}{name}"' in r.headers["content-disposition"], key
    overview = web.get(f"/runs/{built.run_b}").text
    assert overview.count(f"/runs/{built.run_b}/files/") == 4  # pdf, html, coverage csv, ocsf: what exists
    assert web.get(f"/runs/{built.run_b}/files/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_pseudonymised_view(built: Built, stored: EvidenceStore) -> None:
    key = b"k" * 32
    web = client(built, pseudonym_key=key)
    run = stored.load_run(built.run_b)
    p = Pseudonymiser(key)
    ro = ReadOnlyStore(built.path)
    meta = ro.run(built.run_b)
    urls = [f"/runs/{built.run_b}/findings?size=200", f"/runs/{built.run_b}/findings?size=200&source=okta"]
    urls += [f"/runs/{built.run_b}/portals/{p.p}?size=200" for p in ro.portals(meta)]
    urls += [f"/diff?change={c}&size=200" for c in ("new", "resolved", "persisting")]
    urls += [f"/runs/{built.run_b}/accounts/{n}" for n in range(0, 300, 7)]
    pages = [web.get(u) for u in urls]
    accounts = [a for s in run.snapshot.sources for a in s.accounts]
    # Identities long and distinctive enough that finding one in a page cannot be chance.
    principals = {a.principal for a in accounts}
    names = {a.display_name for a in accounts if len(a.display_name) >= 8}
    ids = {a.id for a in accounts if len(a.id) >= 7}
    for url, page in zip(urls, pages, strict=True):
        assert page.status_code == 200, url
        assert "Pseudonymised view" in page.text
        text = page.text.replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        text = text.replace("&#34;", '"').replace("&quot;", '"')
        leaked = [x for x in (*principals, *names, *ids) if x in text]
        assert leaked == [], (url, leaked[:3])
    some = next(f for f in run.result.findings if f.principal and "@mutuelle" in f.principal)
    assert p.principal(some.principal) in pages[0].text  # the report's token for the same key
    export = web.get(f"/runs/{built.run_b}/findings.csv").text
    assert not [x for x in principals if x in export]
    # The report files hold real identifiers: no download link, no download.
    assert web.get(f"/runs/{built.run_b}/files/pdf").status_code == 404


def test_store_is_never_written(built: Built, web: TestClient) -> None:
    before = hashlib.sha256(built.path.read_bytes()).hexdigest()
    for url in ("/", f"/runs/{built.run_b}", f"/runs/{built.run_b}/findings.csv", "/diff?change=persisting"):
        web.get(url)
    assert hashlib.sha256(built.path.read_bytes()).hexdigest() == before
    ro = ReadOnlyStore(built.path)
    with pytest.raises(StoreUnavailable, match=r"readonly|read-only"), ro.connect() as conn:
        conn.execute("DELETE FROM runs")


def test_purged_and_pre_migration_runs(tmp_path: Path) -> None:
    from .conftest import build_store

    built = build_store(tmp_path, accounts=120)
    store = EvidenceStore(built.path)
    store.purge_runs([built.run_a], store.summary(built.run_a).evaluated_at)
    with sqlite3.connect(built.path) as conn:
        seq = conn.execute("SELECT seq FROM runs WHERE run_id = ?", (built.run_a,)).fetchone()[0]
        for table in ("browse_accounts", "browse_coverage", "browse_findings", "browse_policies"):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE run_seq = ?", (seq,)).fetchone()[0] == 0
        # Only counts and portal names remain, as in the aggregates.
        assert conn.execute("SELECT count(*) FROM browse_portals WHERE run_seq = ?", (seq,)).fetchone()[0] > 0
    web = client(built)
    overview = web.get(f"/runs/{built.run_a}")
    assert overview.status_code == 200 and "purged by retention" in overview.text
    assert web.get(f"/runs/{built.run_a}/portals/0").status_code == 404
    assert web.get(f"/runs/{built.run_a}/findings").status_code == 404
    assert "purged" in web.get("/").text


def test_store_without_browse_tables_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (seq INTEGER)")
    with pytest.raises(StoreUnavailable, match="predates the web view"):
        ReadOnlyStore(path)
    with pytest.raises(StoreUnavailable, match="no evidence store"):
        ReadOnlyStore(tmp_path / "missing.sqlite3")


@pytest.mark.parametrize(
    "flt",
    [
        {},
        {"sort": "status"},
        {"sort": "severity"},
        {"status": CoverageStatus.PROTECTED},
        {"status": CoverageStatus.NOT_ENROLLED, "sort": "status"},
        {"severity": Severity.HIGH},
        {"severity": Severity.HIGH, "sort": "severity"},
        {"status": CoverageStatus.NOT_ENROLLED, "severity": Severity.HIGH},  # no rank: counted and offset
        {"source": "entra", "sort": "status"},
    ],
    ids=str,
)
def test_pages_cover_every_row_once_in_both_directions(built: Built, flt: dict[str, object]) -> None:
    """Page by page, ascending and descending, each matching row appears once, in the
    order asked; the ranks written at save time agree with sorting the rows."""
    ro = ReadOnlyStore(built.path)
    meta = ro.run(built.run_b)
    for portal in ro.portals(meta):
        everything = ro.portal_page(meta, portal.p, _flt(), 1, 200).rows
        assert len(everything) == portal.total
        source_of = {c.n: c.account.source for c in everything if c.account}
        wanted = [
            c
            for c in everything
            if ("status" not in flt or c.status == flt["status"])
            and ("severity" not in flt or c.severity == flt["severity"])
            and ("source" not in flt or source_of[c.n] == flt["source"])
        ]
        sort = str(flt.get("sort", "account"))
        key = {
            "account": lambda c: (c.n,),
            "status": lambda c: (BROWSE_STATUS_ORDER.index(c.status), c.n),
            "severity": lambda c: (-(c.severity.rank if c.severity else 0), c.n),
        }[sort]
        expected = [c.n for c in sorted(wanted, key=key)]
        for descending in (False, True):
            seen: list[int] = []
            page = 1
            while True:
                got = ro.portal_page(meta, portal.p, _flt(**flt, descending=descending), page, 25)
                assert got.total == len(wanted)
                seen += [c.n for c in got.rows]
                if page >= got.pages:
                    break
                page += 1
            assert seen == (expected[::-1] if descending else expected), (portal.name, descending)


@pytest.mark.parametrize("flt", [{}, {"rule_id": "MFA-001"}, {"severity": Severity.HIGH}, {"source": "okta"}], ids=str)
def test_findings_pages_are_the_filtered_set_in_order(
    built: Built, stored: EvidenceStore, flt: dict[str, object]
) -> None:
    from auditor.web.queries import FindingFilter

    run = stored.load_run(built.run_b)
    expected = [
        (f.rule_id, f.principal)
        for f in run.result.findings
        if all(
            getattr(f, {"rule_id": "rule_id", "severity": "severity", "source": "source"}[k]) == v
            for k, v in flt.items()
        )
    ]
    assert expected
    ro = ReadOnlyStore(built.path)
    meta = ro.run(built.run_b)
    seen: list[tuple[str, str | None]] = []
    page = 1
    while True:
        got = ro.findings_page(meta, FindingFilter(**flt), page, 25)  # type: ignore[arg-type]
        assert got.total == len(expected)
        seen += [(f.rule_id, f.principal) for f in got.rows]
        if page >= got.pages:
            break
        page += 1
    assert seen == expected


def test_a_store_gone_under_the_server_is_a_503_page(tmp_path: Path) -> None:
    from .conftest import build_store

    built = build_store(tmp_path, accounts=60)
    web = client(built)
    assert web.get("/").status_code == 200
    built.path.rename(tmp_path / "moved.sqlite3")
    r = web.get(f"/runs/{built.run_b}")
    assert r.status_code == 503
    assert "cannot open the evidence store read-only" in r.text
    assert "Traceback" not in r.text and r.headers["content-security-policy"]


def test_overview_lists_incomplete_sources_and_rules_not_evaluated(built: Built, tmp_path: Path) -> None:
    import json
    import shutil

    copy = tmp_path / "copy.sqlite3"
    shutil.copy(built.path, copy)
    issue = {"code": "okta.rate_limited", "incomplete": True, "message": f"gave up on {SCRIPT}", "record": None}
    with sqlite3.connect(copy) as conn:
        seq = conn.execute("SELECT seq FROM runs WHERE run_id = ?", (built.run_b,)).fetchone()[0]
        conn.execute(
            "UPDATE run_sources SET complete = 0, issues = ? WHERE run_seq = ? AND source = 'okta'",
            (json.dumps([issue]), seq),
        )
        conn.execute(
            "INSERT INTO browse_not_evaluated VALUES (?, 'MFA-010', 'google', ?, 'sign-in log not read (licence)')",
            (seq, json.dumps(["sign_in_log"])),
        )
    web = TestClient(create_app(WebSettings(copy, built.reports, guard=Guard(hosts=HOST, token=None))))
    page = web.get(f"/runs/{built.run_b}").text
    assert "Every source was read in full." not in page
    assert "okta.rate_limited" in page and "gave up on &lt;script&gt;" in page
    assert "Every rule was evaluated" not in page
    assert "MFA-010" in page and "sign_in_log" in page and "sign-in log not read (licence)" in page
    assert_inert(page, controls=False)


def test_french_findings_say_the_catalogue_messages(web: TestClient, built: Built) -> None:
    page = web.get(f"/runs/{built.run_b}/findings?rule=MFA-001&size=200", headers={"accept-language": "fr"}).text
    assert "aucun second facteur actif\u202f; accès à un portail sensible" in page  # French typography
    assert "no active second factor" not in page
    assert "Non enregistré" in page  # the rule's title from the report's catalogue


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_text_colours_meet_wcag_aa_contrast() -> None:
    """Every rule of the stylesheet that sets both a text colour and a background, and
    the text colours on the page and header backgrounds, reach 4.5:1."""
    css = (Path(__file__).resolve().parents[2] / "auditor/web/static/web.css").read_text()
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]+)", css))

    def colour(value: str) -> str:
        value = value.strip()
        m = re.fullmatch(r"var\(--([\w-]+)\)", value)
        value = variables[m.group(1)] if m else value
        if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
            value = "#" + "".join(c * 2 for c in value[1:])
        return value

    pairs = 0
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        decl = {k.strip(): v.strip() for k, v in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body)}
        fg, bg = decl.get("color"), decl.get("background")
        if fg and bg and colour(bg).startswith("#") and colour(fg).startswith("#"):
            ratio = contrast(colour(fg), colour(bg))
            assert ratio >= 4.5, (selector.strip(), fg, bg, round(ratio, 2))
            pairs += 1
    assert pairs >= 8  # the badges and buttons: the test reads the rules it means to
    for fg in ("#111111", "#3a3a3a", "#174d7d", "#0b2f52"):  # ink, muted, link, link hover
        for bg in ("#ffffff", "#f4f7fa", "#eef2f6"):  # page, header, table head
            assert contrast(fg, bg) >= 4.5, (fg, bg)


def test_a_version_1_store_is_upgraded_and_its_old_runs_say_why_they_have_no_detail(tmp_path: Path) -> None:
    from auditor.store.database import MIGRATIONS, SCHEMA_VERSION

    from .conftest import build_store

    # A store of schema 1 (before the browse tables) opens as before, upgraded in place.
    old = tmp_path / "v1.sqlite3"
    with sqlite3.connect(old) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
    with pytest.raises(StoreUnavailable, match="predates"):
        ReadOnlyStore(old)
    EvidenceStore(old, create=False)
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert ReadOnlyStore(old).runs() == []

    # A run saved before the upgrade has no browse rows: listed, summarised, not browsable.
    built = build_store(tmp_path / "b", accounts=60)
    with sqlite3.connect(built.path) as conn:
        seq = conn.execute("SELECT seq FROM runs WHERE run_id = ?", (built.run_a,)).fetchone()[0]
        for table in ("browse_portals", "browse_accounts", "browse_coverage", "browse_findings"):
            conn.execute(f"DELETE FROM {table} WHERE run_seq = ?", (seq,))
    web = client(built)
    assert "stored before the web view" in web.get("/").text
    overview = web.get(f"/runs/{built.run_a}")
    assert overview.status_code == 200 and "stored before the web view" in overview.text
    assert web.get(f"/runs/{built.run_a}/portals/0").status_code == 404


def test_not_found_pages_say_it_in_the_page_language_and_escape_the_url(built: Built) -> None:
    web = client(built)  # no language cookie from another test
    r = web.get("/runs/%3Cimg%20src=x%20onerror=alert(1)%3E", headers={"accept-language": "fr"})
    assert r.status_code == 404
    assert "Aucune exécution &lt;img src=x onerror=alert(1)&gt; dans le registre des preuves." in r.text
    assert_inert(r.text, controls=False)
    en = web.get("/runs/nope/portals/0", headers={"accept-language": "en"})
    assert en.status_code == 404 and "No run nope in the evidence store." in en.text


def test_a_run_saved_while_serving_appears(tmp_path: Path) -> None:
    """The server holds no connection and caches no run list: a run another process
    saves (WAL, the server reading meanwhile) is on the next page load."""
    from datetime import UTC, datetime

    from .conftest import build_store, support

    built = build_store(tmp_path, accounts=60)
    web = client(built)
    assert web.get("/").text.count('href="/runs/') == 2
    sup = support()
    snapshot = sup.snapshot_of(sup.quarter(sup.base_org(seed=11, accounts=60), 6), "c" * 64)
    now = datetime(2027, 2, 15, 9, 0, tzinfo=UTC)
    run_id = f"{snapshot.period}-{now:%Y%m%dT%H%M%SZ}-cccccccc"
    EvidenceStore(built.path).save_run(sup.real_evaluate(snapshot, run_id, now), snapshot, "c" * 64, "config")
    page = web.get("/").text
    assert page.count('href="/runs/') == 3 and run_id in page
    assert web.get(f"/runs/{run_id}/portals/0").status_code == 200
