"""``mfa-audit serve``: a read-only web view of the evidence store (Starlette + Jinja2).

Pages: the runs (history and trend), one run's overview, a portal's accounts × status
(filtered, sorted, paged from indexed tables), one account, the findings (filtered,
grouped by rule, exported as CSV) and the diff of two runs. Every route is a GET; the
store is opened read-only; templates autoescape; ``security.SecurityMiddleware`` adds
the headers and the token check.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from auditor.engine.metrics import CoverageSummary
from auditor.model import CoverageStatus, Severity
from auditor.queries.history import coverage_changes
from auditor.render.i18n import LANGUAGES
from auditor.render.rows import csv_cell
from auditor.store.database import BROWSE_STATUS_ORDER
from auditor.web import charts
from auditor.web.mask import Mask, inert
from auditor.web.queries import (
    PAGE_SIZES,
    FindingFilter,
    FindingRow,
    NotFound,
    PortalFilter,
    ReadOnlyStore,
    RunRow,
    StoreUnavailable,
)
from auditor.web.security import Guard, SecurityMiddleware
from auditor.web.text import WebText, negotiate

LANG_COOKIE = "mfa_audit_lang"
DEFAULT_SIZE = 50
# The report files of a run a page links to: key in the URL, the file's suffix after
# ``mfa-audit-<run id>`` (as ``pipeline.render_all`` and the renderers name them), media type.
REPORT_FILES: tuple[tuple[str, str, str], ...] = (
    ("pdf", ".pdf", "application/pdf"),
    ("html", ".html", "text/html"),
    ("json", ".json", "application/json"),
    ("csv", ".csv", "text/csv"),
    ("coverage-csv", "-coverage.csv", "text/csv"),
    ("ocsf", ".ocsf.jsonl", "application/x-ndjson"),
)
E = TypeVar("E", CoverageStatus, Severity)
CSV_COLUMNS = (
    "rule_id",
    "severity",
    "title",
    "source",
    "account_id",
    "principal",
    "display_name",
    "portal_id",
    "portal_name",
    "message",
)


@dataclass(frozen=True, slots=True)
class WebSettings:
    store_path: Path
    reports_dir: Path | None = None
    pseudonym_key: bytes | None = None
    # The report files on disk are pseudonymised too (report.pseudonymise): downloads may stay on.
    reports_pseudonymised: bool = False
    guard: Guard = field(default_factory=lambda: Guard(hosts=None, token=None))


class BadRequest(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(400, detail)


def create_app(settings: WebSettings) -> Starlette:
    store = ReadOnlyStore(settings.store_path)
    env = Environment(
        loader=PackageLoader("auditor.web", "templates"),
        autoescape=True,  # every template, whatever its name: names come from identity providers
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["inert"] = inert
    views = _Views(store, env, settings)
    routes = [
        Route("/", views.runs),
        Route("/lang/{code}", views.switch_language),
        Route("/diff", views.diff),
        Route("/runs/{run_id}", views.overview),
        Route("/runs/{run_id}/portals/{p:int}", views.portal),
        Route("/runs/{run_id}/accounts/{n:int}", views.account),
        Route("/runs/{run_id}/findings", views.findings),
        Route("/runs/{run_id}/findings.csv", views.findings_csv),
        Route("/runs/{run_id}/files/{ext}", views.report_file),
        Mount("/static", app=StaticFiles(directory=str(files("auditor.web").joinpath("static"))), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityMiddleware, guard=settings.guard)],
        exception_handlers={
            HTTPException: views.error,
            NotFound: views.not_found,
            StoreUnavailable: views.unavailable,
        },
    )


class _Views:
    """The pages. Plain functions: Starlette runs them in its thread pool, so one slow
    query does not hold the event loop (each call opens its own read-only connection)."""

    def __init__(self, store: ReadOnlyStore, env: Environment, settings: WebSettings) -> None:
        self.store = store
        self.env = env
        self.settings = settings

    # -- plumbing --

    def _lang(self, request: Request) -> str:
        chosen = request.cookies.get(LANG_COOKIE)
        if chosen in LANGUAGES:
            return chosen
        return negotiate(request.headers.get("accept-language"))

    def _page(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        lang = self._lang(request)
        t = WebText(lang)
        other = "fr" if lang == "en" else "en"
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        html = self.env.get_template(template).render(
            t=t,
            lang=lang,
            other_lang=other,
            switch_url=f"/lang/{other}?{urlencode({'next': here})}",
            pseudonymised=self.settings.pseudonym_key is not None,
            store_path=str(self.settings.store_path),
            fmt=_Formatter(t),
            url=_url,
            **context,
        )
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={"content-language": lang, "vary": "accept-language, cookie"},
        )

    def _run(self, request: Request) -> RunRow:
        return self.store.run(request.path_params["run_id"])

    def _browsable(self, run: RunRow) -> RunRow:
        if not run.browsable:
            why = "purged by retention" if run.purged else "stored before the web view's tables"
            key = "no_detail_purged" if run.purged else "no_detail_old"
            raise NotFound(f"run {run.run_id!r} has no account-level detail: {why}", key, run=run.run_id)
        return run

    async def error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        key = {404: "error.not_found", 400: "error.bad_request"}.get(exc.status_code, "error.heading")
        return self._page(request, "error.html.j2", exc.status_code, title_key=key, detail=str(exc.detail))

    async def unavailable(self, request: Request, exc: Exception) -> Response:
        # The store went away or broke under the server: said, never a traceback.
        return self._page(request, "error.html.j2", 503, title_key="error.heading", detail=str(exc))

    async def not_found(self, request: Request, exc: Exception) -> Response:
        detail = str(exc)
        if isinstance(exc, NotFound) and exc.key:
            detail = WebText(self._lang(request))(f"error.{exc.key}", **exc.values)
        return self._page(request, "error.html.j2", 404, title_key="error.not_found", detail=detail)

    # -- pages --

    def runs(self, request: Request) -> Response:
        runs = self.store.runs()
        return self._page(request, "runs.html.j2", runs=runs, chart=charts.trend(runs) if runs else None)

    def switch_language(self, request: Request) -> Response:
        code = request.path_params["code"]
        if code not in LANGUAGES:
            raise BadRequest(f"language: expected one of {', '.join(LANGUAGES)}")
        target = request.query_params.get("next", "/")
        # Only a path of this site: never an open redirect ("//evil", "https://…", "/\\evil").
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(LANG_COOKIE, code, httponly=True, samesite="strict", max_age=365 * 86400)
        return response

    def overview(self, request: Request) -> Response:
        run = self._run(request)
        sources = self.store.sources(run)
        portals = self.store.portals(run) if run.browsable else []
        downloads = self._downloads(run)
        return self._page(
            request,
            "run.html.j2",
            run=run,
            sources=sources,
            incomplete=[s for s in sources if not s.complete],
            portals=portals,
            not_evaluated=self.store.not_evaluated(run),
            by_rule=self.store.findings_by_rule(run),
            downloads=downloads,
            downloads_off=self.settings.pseudonym_key is not None and not self.settings.reports_pseudonymised,
        )

    def portal(self, request: Request) -> Response:
        run = self._browsable(self._run(request))
        p = request.path_params["p"]
        portal = self.store.portal(run, p)
        q = request.query_params
        flt = PortalFilter(
            status=_enum(CoverageStatus, q.get("status"), "status"),
            severity=_enum(Severity, q.get("severity"), "severity"),
            source=q.get("source") or None,
            sort=_choice(q.get("sort"), ("account", "status", "severity"), "sort"),
            descending=q.get("desc") == "1",
        )
        page, size = _paging(q)
        result = self.store.portal_page(run, p, flt, page, size)
        mask = Mask(self.settings.pseudonym_key)
        base = f"/runs/{run.ref}/portals/{p}"
        params = {
            k: v
            for k, v in {
                "status": q.get("status") or "",
                "severity": q.get("severity") or "",
                "source": flt.source or "",
                "sort": flt.sort if flt.sort != "account" else "",
                "desc": "1" if flt.descending else "",
                "size": str(size) if size != DEFAULT_SIZE else "",
            }.items()
            if v
        }
        return self._page(
            request,
            "portal.html.j2",
            run=run,
            portal=portal,
            flt=flt,
            rows=result,
            mask=mask,
            base=base,
            params=params,
            statuses=BROWSE_STATUS_ORDER,
            severities=list(Severity),
            sources=self.store.finding_sources(run),
            sizes=PAGE_SIZES,
        )

    def account(self, request: Request) -> Response:
        run = self._browsable(self._run(request))
        n = request.path_params["n"]
        account = self.store.account(run, n)
        coverage = self.store.account_coverage(run, n)
        policy_ids = [pid for c in coverage for pid in (*c.policies, *c.excluded_by)]
        policies = self.store.policy_names(run, policy_ids)
        findings = self.store.account_findings(run, n)
        mask = Mask(self.settings.pseudonym_key)
        mask.learn(account.account_id, account.principal, account.display_name)
        return self._page(
            request,
            "account.html.j2",
            run=run,
            account=account,
            coverage=coverage,
            policies=policies,
            findings=[self._finding_view(f, mask, WebText(self._lang(request))) for f in findings],
            history=self.store.account_history(account),
            mask=mask,
        )

    def findings(self, request: Request) -> Response:
        run = self._browsable(self._run(request))
        flt = self._finding_filter(request)
        page, size = _paging(request.query_params)
        result = self.store.findings_page(run, flt, page, size)
        mask = Mask(self.settings.pseudonym_key)
        t = WebText(self._lang(request))
        params = _finding_params(flt)
        if size != DEFAULT_SIZE:
            params["size"] = str(size)
        return self._page(
            request,
            "findings.html.j2",
            run=run,
            flt=flt,
            rows=result,
            views=[self._finding_view(f, mask, t) for f in result.rows],
            by_rule=self.store.findings_by_rule(run),
            sources=self.store.finding_sources(run),
            severities=list(Severity),
            sizes=PAGE_SIZES,
            base=f"/runs/{run.ref}/findings",
            params=params,
            csv_url=_url(f"/runs/{run.ref}/findings.csv", _finding_params(flt)),
        )

    def findings_csv(self, request: Request) -> Response:
        run = self._browsable(self._run(request))
        flt = self._finding_filter(request)
        mask = Mask(self.settings.pseudonym_key)

        def body() -> Iterator[bytes]:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            for i, f in enumerate(self.store.iter_findings(run, flt)):
                mask.learn(f.account_id, f.principal, f.display_name)
                own = (f.display_name,) if f.display_name else ()
                values = {
                    "rule_id": f.rule_id,
                    "severity": f.severity.value,
                    "title": f.title,
                    "source": f.source,
                    "account_id": mask.account_id(f.account_id) if f.account_id else None,
                    "principal": mask.principal(f.principal) if f.principal else None,
                    "display_name": mask.name(f.display_name) if f.display_name else None,
                    "portal_id": f.portal_id,
                    "portal_name": f.portal_name,
                    "message": mask.text(f.message, own),
                }
                # The project's CSV guard: formula openers quoted, controls shown.
                writer.writerow([csv_cell(values[c]) for c in CSV_COLUMNS])
                if i % 500 == 0:
                    yield buf.getvalue().encode("utf-8")
                    buf.seek(0)
                    buf.truncate()
            yield buf.getvalue().encode("utf-8")

        name = f"mfa-audit-{run.run_id}-findings.csv"
        return StreamingResponse(
            body(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{quote(name)}"'},
        )

    def report_file(self, request: Request) -> Response:
        run = self._run(request)
        ext = request.path_params["ext"]
        media = {key: media for key, _, media in REPORT_FILES}
        if ext not in media:
            raise NotFound(f"no report format {ext!r}", "no_format", ext=ext)
        path = dict(self._downloads(run)).get(ext)
        if path is None:
            raise NotFound(
                f"no {ext} report of run {run.run_id!r} in the reports folder", "no_file", ext=ext, run=run.run_id
            )
        # Always a download: a report's HTML must not run under this origin.
        return FileResponse(path, media_type=media[ext], filename=path.name, content_disposition_type="attachment")

    def diff(self, request: Request) -> Response:
        runs = [r for r in self.store.runs() if not r.purged]
        q = request.query_params
        a_id, b_id = q.get("a"), q.get("b")
        if (a_id is None or b_id is None) and len(runs) >= 2:
            a_id, b_id = runs[1].run_id, runs[0].run_id
        context: dict[str, Any] = {"runs": runs, "a": None, "b": None}
        if a_id and b_id:
            a, b = self.store.run(a_id), self.store.run(b_id)
            change = _choice(q.get("change"), ("new", "resolved", "persisting"), "change")
            page, size = _paging(q)
            mask = Mask(self.settings.pseudonym_key)
            t = WebText(self._lang(request))
            rows = self.store.diff(a, b, change, page, size)
            context.update(
                a=a,
                b=b,
                change=change,
                counts=self.store.diff_counts(a, b),
                rows=rows,
                views=[self._finding_view(f, mask, t) for f in rows.rows],
                portals=self._portal_changes(a, b),
                base="/diff",
                params={"a": a.run_id, "b": b.run_id, "change": change},
            )
        return self._page(request, "diff.html.j2", **context)

    # -- helpers --

    def _portal_changes(self, a: RunRow, b: RunRow) -> Any:
        def summaries(run: RunRow) -> list[CoverageSummary]:
            return [
                CoverageSummary(f"{p.source}/{p.portal_id}", p.name, p.total, p.protected, {})
                for p in self.store.portals(run)
                if p.sensitivity in ("sensitive", "high")
            ]

        return coverage_changes(summaries(a), summaries(b))

    def _finding_filter(self, request: Request) -> FindingFilter:
        q = request.query_params
        return FindingFilter(
            rule_id=q.get("rule") or None,
            severity=_enum(Severity, q.get("severity"), "severity"),
            source=q.get("source") or None,
        )

    def _finding_view(self, f: FindingRow, mask: Mask, t: WebText) -> dict[str, Any]:
        mask.learn(f.account_id, f.principal, f.display_name)
        own = (f.display_name,) if f.display_name else ()
        message = mask.text(f.message, own)
        if t.language != "en" and f.message_key:
            said = t.report.message(f.message_key, mask.params(f.message_params, own))
            if said is not None:
                message = said
        return {
            "row": f,
            "principal": mask.principal(f.principal) if f.principal else "",
            "message": message,
            "title": t.get(f"rule.{f.rule_id}", f.title),
        }

    def _downloads(self, run: RunRow) -> list[tuple[str, Path]]:
        folder = self.settings.reports_dir
        if folder is None or not folder.is_dir():
            return []
        if self.settings.pseudonym_key is not None and not self.settings.reports_pseudonymised:
            return []
        out = []
        for key, suffix, _ in REPORT_FILES:
            path = folder / f"mfa-audit-{run.run_id}{suffix}"
            if path.is_file() and path.resolve().parent == folder.resolve():
                out.append((key, path))
        return out


def _finding_params(flt: FindingFilter) -> dict[str, str]:
    return {
        k: v
        for k, v in {
            "rule": flt.rule_id or "",
            "severity": flt.severity.value if flt.severity else "",
            "source": flt.source or "",
        }.items()
        if v
    }


def _url(base: str, params: Mapping[str, str], **changes: object) -> str:
    """``base`` with ``params`` and ``changes`` (None or "" removes a key) as its query."""
    merged = {**params, **{k: ("" if v is None else str(v)) for k, v in changes.items()}}
    query = urlencode({k: v for k, v in merged.items() if v})
    return f"{base}?{query}" if query else base


def _enum(kind: type[E], value: str | None, name: str) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise BadRequest(f"{name}: unknown value {value!r}") from None


def _choice(value: str | None, allowed: tuple[str, ...], name: str) -> str:
    if not value:
        return allowed[0]
    if value not in allowed:
        raise BadRequest(f"{name}: expected one of {', '.join(allowed)}")
    return value


def _paging(q: Mapping[str, str]) -> tuple[int, int]:
    try:
        page = int(q.get("page") or 1)
        size = int(q.get("size") or DEFAULT_SIZE)
    except ValueError:
        raise BadRequest("page and size: whole numbers expected") from None
    if page < 1 or page > 10_000_000:
        raise BadRequest("page: out of range")
    if size not in PAGE_SIZES:
        raise BadRequest(f"size: expected one of {', '.join(map(str, PAGE_SIZES))}")
    return page, size


class _Formatter:
    """Numbers, ratios and dates in the page's language (the report's formatting)."""

    def __init__(self, t: WebText) -> None:
        self._t = t

    def number(self, value: int) -> str:
        return self._t.report.number(value)

    def percent(self, ratio: float | None) -> str:
        return self._t.report.percent(ratio)

    def datetime(self, value: datetime) -> str:
        return self._t.report.datetime(value)

    def date_text(self, text: str | None) -> str:
        if not text:
            return self._t("account.unknown_date")
        return self._t.report.datetime(datetime.fromisoformat(text))

    def enum(self, prefix: str, value: object) -> str:
        return self._t.get(f"{prefix}.{value}", str(value))
