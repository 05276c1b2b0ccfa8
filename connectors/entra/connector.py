"""The ``entra`` connector: Microsoft Entra ID through msal and Microsoft Graph,
read-only, with application permissions (client-credentials flow)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from auditor.interfaces import CollectContext, PermissionCheck
from auditor.model import SourceSnapshot
from connectors.entra.auth import TokenSource
from connectors.entra.collect import Collection
from connectors.entra.graph import GraphClient
from connectors.entra.permissions import permission_report
from connectors.entra.settings import EntraSettings, parse_settings


class _Session(requests.Session):
    """A session whose CA bundle, when given, the environment cannot replace: with
    ``trust_env`` requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE win over it."""

    pinned_ca: str | None = None

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        merged = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.pinned_ca is not None:
            merged["verify"] = self.pinned_ca
        return merged


class EntraConnector:
    """Built by the pipeline as ``EntraConnector(source, settings, base_dir)``."""

    def __init__(self, source: str, settings: Mapping[str, Any], base_dir: Path) -> None:
        self.source = source
        self.settings: EntraSettings = parse_settings(settings, base_dir)

    def __repr__(self) -> str:
        return f"EntraConnector({self.source!r}, tenant={self.settings.tenant_id!r})"

    def _session(self) -> requests.Session:
        session = _Session()
        # msal posts the credential through this session: a redirect would re-post it to
        # wherever Location points (307/308 keep the body). Graph requests pass
        # allow_redirects=False themselves; this covers msal's.
        session.max_redirects = 0
        transport = self.settings.transport
        # The environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE, .netrc) is ignored
        # unless the source says trust_env: true; an explicit proxy wins either way.
        session.trust_env = transport.trust_env
        if transport.proxy is not None:
            session.proxies = {"https": transport.proxy.url, "http": transport.proxy.url}
        if self.settings.ca_bundle is not None:
            session.verify = session.pinned_ca = str(self.settings.ca_bundle)
        return session

    def _client(self, logger: logging.Logger) -> tuple[GraphClient, TokenSource, requests.Session]:
        session = self._session()
        tokens = TokenSource(self.settings, session)
        return GraphClient(self.settings, tokens, session, logger=logger), tokens, session

    def collect(self, ctx: CollectContext) -> SourceSnapshot:
        client, tokens, session = self._client(ctx.logger)
        client.progress = ctx.progress
        with session:
            tokens.token()  # fail early and clearly on credentials
            return Collection(self.settings, client, ctx).run()

    def check_access(self) -> tuple[PermissionCheck, ...]:
        _, tokens, session = self._client(logging.getLogger("mfa_auditor.validate"))
        with session:
            tokens.token()
            token_check = PermissionCheck(
                "token",
                "authenticate as the app registration (client credentials)",
                True,
                f"token acquired from {self.settings.authority_host} for client {self.settings.client_id}",
            )
            return (token_check, *permission_report(tokens.roles()))
