"""Starting the web view: settings from the config, the bind address checked, uvicorn."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

from auditor.config.schema import AuditConfig
from auditor.interfaces import AuditorError
from auditor.web.app import WebSettings, create_app
from auditor.web.security import Guard, loopback_hosts

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ServeError(AuditorError):
    """The server cannot start as asked (bad address, missing key)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def settings_for(
    config: AuditConfig, store_path: Path, *, host: str, port: int, pseudonymise: bool, token: str | None = None
) -> tuple[WebSettings, str | None]:
    """The app's settings and the token (None on loopback). ``pseudonymise`` or the
    config's ``report.pseudonymise`` turns the pseudonymised view on."""
    options = config.report.options
    key: bytes | None = None
    if pseudonymise or options.pseudonymise:
        if options.pseudonym_key is None:
            raise ServeError("report.pseudonym_key: required for --pseudonymise (the same key as the reports')")
        key = options.pseudonym_key.reveal().encode("utf-8")
    if not 0 < port < 65536:
        raise ServeError(f"--port: expected 1 to 65535, got {port}")
    if is_loopback(host):
        guard = Guard(hosts=loopback_hosts(host, port), token=None)
        token = None
    else:
        token = token or secrets.token_urlsafe(32)
        guard = Guard(hosts=None, token=token)
    settings = WebSettings(
        store_path=store_path,
        reports_dir=config.report.output_dir,
        pseudonym_key=key,
        reports_pseudonymised=options.pseudonymise,
        guard=guard,
    )
    return settings, token


def run_server(settings: WebSettings, host: str, port: int, announce: Callable[[], None]) -> None:
    import uvicorn

    app = create_app(settings)  # opens the store read-only: fails here, before the banner
    _check_free(host, port)
    announce()
    # No access log: request lines carry filter values and account numbers, and uvicorn
    # would print them unescaped to the terminal.
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)


def _check_free(host: str, port: int) -> None:
    """Say so before the banner when the port is taken (uvicorn would log it after)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise ServeError(f"--host {host} --port {port}: cannot listen there: {exc.strerror}") from None


def banner(host: str, port: int, token: str | None) -> list[str]:
    """What ``serve`` prints once listening: a warning beyond loopback, then the address
    (with the token, once, in the link that turns it into a cookie)."""
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    lines = []
    if token is not None:
        lines.append(
            f"warning: listening on {host}, beyond this machine: anyone who can reach it and holds the token "
            "can read the evidence store (names of accounts and their gaps); plain HTTP, put TLS in front"
        )
        url += f"?token={token}"
    lines.append(f"mfa-audit serve: {url} (read-only; Ctrl+C stops)")
    return lines
