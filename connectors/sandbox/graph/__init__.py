"""The Microsoft Graph sandbox: the sample organisation's Entra truth served over
HTTPS on 127.0.0.1 (throwaway trustme CA), with the openid-configuration and token
endpoints msal needs. ``start(org, **faults)``; see ``server.Faults`` for the switches.

    with start(org, throttle={"/users": 2}) as sandbox:
        settings, env = sandbox.settings(), sandbox.environ()
"""

from __future__ import annotations

import secrets
import shutil
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

import trustme

from connectors.sandbox.graph.server import ALL_ROLES, Faults, GraphServer, RecordedRequest, _Handler, _Server
from connectors.sandbox.graph.shapes import build_tenant, uid
from connectors.sandbox.loopback import LoopbackSandbox
from connectors.sandbox.sample_org import SampleOrg

SECRET_ENV = "MFA_AUDITOR_ENTRA_SECRET"

__all__ = ["ALL_ROLES", "SECRET_ENV", "Faults", "GraphSandbox", "RecordedRequest", "start"]


class GraphSandbox(LoopbackSandbox):
    """A running sandbox; a context manager. ``requests`` records every request."""

    def __init__(self, org: SampleOrg, faults: Faults) -> None:
        self.org = org
        self.faults = faults
        self.tenant_id = uid("tenant", org.seed)
        self.client_id = uid("client", org.seed)
        self._secret = faults.client_secret or secrets.token_urlsafe(24)
        self._dir = Path(tempfile.mkdtemp(prefix="graph-sandbox-"))
        ca = trustme.CA()
        self.ca_path = self._dir / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        cert_pem: bytes | None = None
        if faults.certificate:
            app = ca.issue_cert("mfa-auditor-app", key_type=trustme.KeyType.RSA)  # msal signs RS256 / PS256
            self.private_key_path = self._dir / "app-key.pem"
            self.certificate_path = self._dir / "app-cert.pem"
            app.private_key_pem.write_to_path(str(self.private_key_path))
            cert_pem = app.cert_chain_pems[0].bytes()
            self.certificate_path.write_bytes(cert_pem)
        self._report_limit = faults.report_limit if faults.enforce_limits else None
        tenant = build_tenant(
            org, unknown_methods=dict(faults.unknown_methods), extra_policies=tuple(faults.extra_policies)
        )
        self._graph = GraphServer(
            tenant,
            faults,
            tenant_id=self.tenant_id,
            client_id=self.client_id,
            secret=self._secret,
            certificate_pem=cert_pem,
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.graph = self._graph
        self._server.ssl_context = context
        port = self._server.server_address[1]
        self.base_url = f"https://127.0.0.1:{port}"
        self._graph.base_url = self.base_url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="graph-sandbox", daemon=True
        )
        self._thread.start()

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._graph.requests

    def settings(self, *, credential: str = "secret") -> dict[str, Any]:
        """The ``settings:`` mapping pointing the ``entra`` connector at this sandbox."""
        out: dict[str, Any] = {"tenant_id": self.tenant_id, "client_id": self.client_id}
        if credential == "certificate":
            out["certificate"] = {
                "private_key": {"file": str(self.private_key_path)},
                "certificate": str(self.certificate_path),
            }
        else:
            out["client_secret"] = {"env": SECRET_ENV}
        out.update(authority_host=self.base_url, graph_root=self.base_url, ca_bundle=str(self.ca_path))
        # The reports limit this sandbox enforces, for the connector's pacing; none enforced:
        # a budget the run never reaches (a real tenant has Graph's 5 per 10 s, the default).
        limit, window = self._report_limit or (1000, 0.01)
        out.update(reports_limit=limit, reports_window=window)
        return out

    def environ(self) -> dict[str, str]:
        return {SECRET_ENV: self._secret}

    def close(self) -> None:
        super().close()
        shutil.rmtree(self._dir, ignore_errors=True)  # the throwaway CA and keys

    def __repr__(self) -> str:
        return f"GraphSandbox({self.base_url})"


def start(org: SampleOrg, **fault_options: Any) -> GraphSandbox:
    """Start a sandbox serving ``org``'s Entra truth; ``fault_options`` are ``Faults`` fields."""
    return GraphSandbox(org, Faults(**fault_options))
