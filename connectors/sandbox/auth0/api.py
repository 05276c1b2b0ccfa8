"""The Auth0 sandbox's data side: answers each routed Management API request from the
tenant's truth (rendered into Auth0's JSON once, at start) and its settings."""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.model import SourceSnapshot
from connectors.sandbox.auth0.server import ApiError, Json, Request, gzip_ndjson
from connectors.sandbox.auth0.tenant import CLIENTS, TenantSettings, logs_json, methods_json, user_json

SEARCH_CAP = 1000
_DATE_FROM = re.compile(r"date:\[(\S+) TO \*\]")


def _int(params: Mapping[str, str], key: str, default: int, high: int) -> int:
    try:
        value = int(params.get(key, default))
    except ValueError:
        raise ApiError(
            400, "Bad Request", f"Query validation error: '{key}' must be an integer", "invalid_query_string"
        ) from None
    if value < 0 or value > high:
        raise ApiError(400, "Bad Request", f"Query validation error: '{key}' out of range", "invalid_query_string")
    return value


def _totals(params: Mapping[str, str]) -> bool:
    return params.get("include_totals", "false") == "true"


def _fields(item: Json, params: Mapping[str, str]) -> Json:
    raw = params.get("fields")
    if not raw:
        return item
    names = set(raw.split(","))
    if params.get("include_fields", "true") == "true":
        return {k: v for k, v in item.items() if k in names}
    return {k: v for k, v in item.items() if k not in names}


class Auth0Api:
    def __init__(
        self,
        truth: SourceSnapshot,
        settings: TenantSettings,
        *,
        export_polls: int = 1,
        methods: Mapping[str, Sequence[Json]] | None = None,
        users: Sequence[Json] | None = None,
    ) -> None:
        self.settings = settings
        self.users = sorted(
            users if users is not None else [user_json(a) for a in truth.accounts], key=lambda u: str(u.get("user_id"))
        )
        self.methods: dict[str, list[Json]] = {a.id: methods_json(a) for a in truth.accounts}
        self.methods.update({k: list(v) for k, v in (methods or {}).items()})
        self.clients = [dict(c) for c in CLIENTS] + [dict(c) for c in settings.extra_clients]
        names = {c["client_id"]: c.get("name", "") for c in self.clients}
        self.logs = logs_json(truth.sign_ins, names)
        self._log_ids = [e["log_id"] for e in self.logs]
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = {}
        self._files: dict[str, bytes] = {}
        self._export_polls = export_polls

    def export_file(self, name: str) -> bytes | None:
        with self._lock:
            return self._files.get(name)

    def __call__(self, req: Request, action: str) -> Any:
        p = req.path
        if p == "/api/v2/users":
            return self._users(req.params, action)
        if p.endswith("/authentication-methods"):
            return self._methods(req.match["id"], req.params)
        if p == "/api/v2/jobs/users-exports":
            return self._create_export(req)
        if p.startswith("/api/v2/jobs/"):
            return self._job(req.match["id"], req.base)
        if p == "/api/v2/clients":
            return self._paged(self.clients, req.params, "clients", action, 50)
        if p == "/api/v2/connections":
            return self._connections(req.params)
        if p.startswith("/api/v2/connections/"):
            return self._connection_clients(req.match["id"], req.params)
        if p == "/api/v2/guardian/policies":
            return list(self.settings.mfa_policies)
        if p == "/api/v2/guardian/factors":
            return [{"name": n, "enabled": e, "trial_expired": False} for n, e in self.settings.factors]
        if p.endswith("/bindings"):
            return self._bindings(req.match["trigger"], req.params)
        if p.startswith("/api/v2/actions/actions/"):
            return self._action(req.match["id"])
        if p == "/api/v2/logs":
            return self._logs(req.params)
        raise ApiError(404, "Not Found", "Not Found")

    # --- listings ----------------------------------------------------------------------

    def _paged(self, items: list[Json], params: Mapping[str, str], key: str, action: str, default: int) -> Any:
        page, per_page = _int(params, "page", 0, 10**6), _int(params, "per_page", default, 100)
        start = page * per_page
        if action == "dup_page" and start > 0:
            start -= 1
        chosen = [_fields(i, params) for i in items[start : start + per_page]]
        if not _totals(params):
            return chosen
        total = len(items) + (1 if action == "short_total" else 0)
        return {"start": page * per_page, "limit": per_page, "length": len(chosen), "total": total, key: chosen}

    def _users(self, params: Mapping[str, str], action: str) -> Any:
        page, per_page = _int(params, "page", 0, 10**6), _int(params, "per_page", 50, 100)
        if page * per_page + per_page > SEARCH_CAP and page * per_page >= SEARCH_CAP:
            raise ApiError(
                400,
                "Bad Request",
                "You can only page through the first 1000 records. "
                "See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation",
                "invalid_paging",
            )
        visible = self.users[:SEARCH_CAP]
        answer = self._paged(visible, params, "users", action, 50)
        if isinstance(answer, dict):
            answer["total"] = len(self.users) + (1 if action == "short_total" else 0)
        return answer

    def _checkpoint(self, items: list[Json], params: Mapping[str, str], key: str, id_key: str) -> Json:
        """Checkpoint paging: ``take`` records after the one whose id is ``from``; ``next``
        names the last one when more follow."""
        take = _int(params, "take", 50, 100)
        start = 0
        if params.get("from"):
            ids = [str(i[id_key]) for i in items]
            if params["from"] not in ids:
                raise ApiError(400, "Bad Request", "Invalid checkpoint", "invalid_query_string")
            start = ids.index(params["from"]) + 1
        chosen = items[start : start + take]
        out: Json = {key: chosen}
        if start + take < len(items) and chosen:
            out["next"] = str(chosen[-1][id_key])
        return out

    def _connections(self, params: Mapping[str, str]) -> Any:
        items = [
            _fields(
                {
                    "id": cid,
                    "name": name,
                    "strategy": "auth0" if name == "Username-Password-Authentication" else "google-oauth2",
                    "options": {"client_secret": "never-read"},
                },
                params,
            )
            for cid, name, _ in self.settings.connections
        ]
        if "take" in params or "from" in params:
            return self._checkpoint(items, params, "connections", "id")
        return items

    def _connection_clients(self, cid: str, params: Mapping[str, str]) -> Any:
        for con, _, clients in self.settings.connections:
            if con == cid:
                return self._checkpoint([{"client_id": c} for c in clients], params, "clients", "client_id")
        raise ApiError(404, "Not Found", "The connection does not exist", "inexistent_connection")

    def _methods(self, uid: str, params: Mapping[str, str]) -> Any:
        found = self.methods.get(uid)
        if found is None:
            raise ApiError(404, "Not Found", "The user does not exist.", "inexistent_user")
        return self._paged(found, params, "authenticators", "ok", 50)

    def _bindings(self, trigger: str, params: Mapping[str, str]) -> Any:
        if trigger != "post-login":
            return {"bindings": [], "total": 0, "page": 0, "per_page": 20}
        page, per_page = _int(params, "page", 0, 10**6), _int(params, "per_page", 20, 100)
        all_ = [
            {
                "id": f"bind-{a.id[-6:]}",
                "trigger_id": "post-login",
                "display_name": a.name,
                "action": {"id": a.id, "name": a.name, "supported_triggers": [{"id": "post-login", "version": "v3"}]},
                "created_at": "2026-01-05T10:00:00.000Z",
                "updated_at": "2026-01-05T10:00:00.000Z",
            }
            for a in self.settings.actions
        ]
        chosen = all_[page * per_page : (page + 1) * per_page]
        return {"bindings": chosen, "total": len(all_), "page": page, "per_page": per_page}

    def _action(self, aid: str) -> Json:
        for a in self.settings.actions:
            if a.id == aid:
                body: Json = {
                    "id": a.id,
                    "name": a.name,
                    "supported_triggers": [{"id": "post-login", "version": "v3"}],
                    "code": a.code,
                    "runtime": "node22",
                    "status": "built",
                    "all_changes_deployed": a.deployed,
                }
                if a.deployed:
                    body["deployed_version"] = {"id": f"ver-{a.id[-6:]}", "code": a.code, "deployed": True, "number": 3}
                return body
        raise ApiError(404, "Not Found", "That action does not exist.", "action_not_found")

    def _logs(self, params: Mapping[str, str]) -> Any:
        if "from" in params:
            take = _int(params, "take", 50, 100)
            start = bisect.bisect_right(self._log_ids, params["from"])
            return self.logs[start : start + take]
        events = self.logs
        m = _DATE_FROM.search(params.get("q", ""))
        if m:
            since = m.group(1)
            events = [e for e in events if e["date"] >= since]
        if params.get("sort") == "date:-1":
            events = list(reversed(events))
        return self._paged(events, params, "logs", "ok", 50)

    # --- users export ------------------------------------------------------------------

    def _create_export(self, req: Request) -> Json:
        body = req.body if isinstance(req.body, dict) else {}
        if body.get("format", "csv") not in ("json", "csv"):
            raise ApiError(400, "Bad Request", "Payload validation error: 'format'", "invalid_body")
        fields = [f.get("name") for f in body.get("fields") or [] if isinstance(f, dict)]
        with self._lock:
            jid = f"job_{len(self._jobs) + 1:016d}"
            self._jobs[jid] = {"polls": 0, "fields": fields, "format": body.get("format", "csv")}
        return {
            "id": jid,
            "type": "users_export",
            "status": "pending",
            "format": body.get("format", "csv"),
            "created_at": "2026-11-15T09:00:00.000Z",
            "fields": [{"name": f} for f in fields],
        }

    def _job(self, jid: str, base: str) -> Json:
        with self._lock:
            job = self._jobs.get(jid)
            if job is None:
                raise ApiError(404, "Not Found", "The job does not exist.", "inexistent_job")
            job["polls"] += 1
            done = job["polls"] > self._export_polls
            if done and jid not in self._files:
                names = set(job["fields"])
                records = [{k: v for k, v in u.items() if not names or k in names} for u in self.users]
                self._files[f"{jid}.json.gz"] = gzip_ndjson(records)
        answer: Json = {
            "id": jid,
            "type": "users_export",
            "status": "completed" if done else "processing",
            "format": job["format"],
            "created_at": "2026-11-15T09:00:00.000Z",
        }
        if done:
            answer["location"] = f"{base}/exports/{jid}.json.gz?X-Amz-Signature={jid[-6:]}"
        else:
            answer["percentage_done"] = 40
            answer["time_left_seconds"] = 2
        return answer
