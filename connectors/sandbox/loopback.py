"""What every vendor sandbox shares: a server thread on 127.0.0.1 and its shutdown."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseServer
from types import TracebackType
from typing import Any, Self


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A vendor sandbox's HTTP server on 127.0.0.1 (a free port), holding the sandbox's
    ``state`` for its handler (``self.server.state``)."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, handler: type[BaseHTTPRequestHandler], state: Any) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a slow ("timeout") answer is not the test's business


def serve_in_thread(
    handler: type[BaseHTTPRequestHandler], state: Any, name: str
) -> tuple[LoopbackHTTPServer, threading.Thread, str]:
    """Start the server in a daemon thread; returns it, the thread and its base URL."""
    server = LoopbackHTTPServer(handler, state)
    host, port = server.server_address[:2]
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return server, thread, f"http://{host!s}:{port}"


class LoopbackSandbox:
    """Base of the vendor sandboxes: ``close()`` and use as a context manager. A subclass
    sets ``_server`` and ``_thread`` (the thread running ``_server.serve_forever``)."""

    _server: BaseServer
    _thread: threading.Thread

    def simulate_latency(self, seconds: float) -> None:
        """Answer every request ``seconds`` late, as a vendor across a network would (for
        benchmarks of concurrency: on loopback, with no latency, collecting sources side
        by side only shares one CPU). Per request, also on kept-alive connections."""
        server: Any = getattr(self, "_server", None)
        handler: Any = getattr(server, "RequestHandlerClass", None)
        handle_one = getattr(handler, "handle_one_request", None)
        if server is None or handler is None or handle_one is None:
            raise TypeError(f"{type(self).__name__}: its server has no per-request handler to delay")

        def late(request_handler: object) -> None:
            time.sleep(seconds)
            handle_one(request_handler)

        server.RequestHandlerClass = type(handler.__name__, (handler,), {"handle_one_request": late})

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
