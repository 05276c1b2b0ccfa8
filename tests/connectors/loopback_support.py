"""Loopback helpers for the transport-security tests: a server that records what it
receives (is a token sent where it must not go?) and a small CONNECT proxy (do the
SDKs use the proxy they are given, and only that one?)."""

from __future__ import annotations

import http.server
import select
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self


@dataclass(frozen=True, slots=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]


class _Recorder(http.server.BaseHTTPRequestHandler):
    server: _RecordingHTTPServer

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.received.append(Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        body = b'{"value": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _any

    def log_message(self, format: str, *args: object) -> None:
        pass


class _RecordingHTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    received: list[Received]


class RecordingServer:
    """Plain HTTP on 127.0.0.1; ``received`` lists every request with its headers."""

    def __init__(self) -> None:
        self._server = _RecordingHTTPServer(("127.0.0.1", 0), _Recorder)
        self._server.received = []
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def received(self) -> list[Received]:
        return self._server.received

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


@dataclass(slots=True)
class _ProxyLog:
    tunnels: list[str] = field(default_factory=list)  # CONNECT host:port
    forwarded: list[str] = field(default_factory=list)  # absolute-form requests (plain http)


class _ProxyHandler(socketserver.BaseRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        client: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                return
            head += chunk
        header, _, rest = head.partition(b"\r\n\r\n")
        request_line = header.split(b"\r\n", 1)[0].decode("latin-1")
        method, target, _ = [*request_line.split(" "), "", ""][:3]
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            self.server.log.tunnels.append(target)
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
        else:
            # Absolute-form request for plain http: forward to its host as is.
            from urllib.parse import urlsplit

            self.server.log.forwarded.append(target)
            parts = urlsplit(target)
            upstream = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=30)
            upstream.sendall(head)
        self._pipe(client, upstream)

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 30)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            b.close()


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    log: _ProxyLog


class ConnectProxy:
    """An HTTP proxy on 127.0.0.1 that tunnels CONNECT and forwards absolute-form
    requests, recording both. ``url`` is ``http://127.0.0.1:port``."""

    def __init__(self) -> None:
        self._server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.log = _ProxyLog()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def tunnels(self) -> list[str]:
        return self._server.log.tunnels

    @property
    def forwarded(self) -> list[str]:
        return self._server.log.forwarded

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
