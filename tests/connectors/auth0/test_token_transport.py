"""The client-credentials request goes to the tenant's origin only: a redirect is never
followed (it would carry the client secret elsewhere), and the environment's proxy is
ignored unless the source says ``trust_env: true``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from auditor.interfaces import AuthenticationError
from connectors.auth0 import Auth0Connector


class _Server:
    def __init__(self, status: int, location: str = "") -> None:
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.hits.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers() -> Iterator[tuple[_Server, _Server]]:
    foreign = _Server(200)
    tenant = _Server(307, f"http://127.0.0.1:{foreign.port}/oauth/token")
    yield tenant, foreign
    tenant.close()
    foreign.close()


def _connector(port: int, monkeypatch: pytest.MonkeyPatch, **extra: object) -> Auth0Connector:
    monkeypatch.setenv("AUTH0_TEST_SECRET", "s3cret-value")
    settings = {
        "domain": f"127.0.0.1:{port}",
        "client_id": "cid",
        "client_secret": {"env": "AUTH0_TEST_SECRET"},
        "allow_insecure_http": True,
        **extra,
    }
    return Auth0Connector("auth0", settings, Path("."), retry_delay=0.0)


def test_a_redirected_token_request_is_not_followed(
    servers: tuple[_Server, _Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, foreign = servers
    with pytest.raises(AuthenticationError) as err:
        _connector(tenant.port, monkeypatch)._http().token()
    assert "redirect" in str(err.value) and "s3cret-value" not in str(err.value)
    assert tenant.hits == ["/oauth/token"] and foreign.hits == []


def test_the_environment_proxy_is_ignored_by_default(
    servers: tuple[_Server, _Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, foreign = servers
    # A "proxy" that would see the request: it must not, without trust_env.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{foreign.port}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{foreign.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(AuthenticationError):
        _connector(tenant.port, monkeypatch)._http().token()
    assert foreign.hits == [] and tenant.hits == ["/oauth/token"]
