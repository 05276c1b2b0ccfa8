"""What every vendor sandbox shares: a server thread on 127.0.0.1 and its shutdown."""

from __future__ import annotations

import threading
from socketserver import BaseServer
from types import TracebackType
from typing import Self


class LoopbackSandbox:
    """Base of the vendor sandboxes: ``close()`` and use as a context manager. A subclass
    sets ``_server`` and ``_thread`` (the thread running ``_server.serve_forever``)."""

    _server: BaseServer
    _thread: threading.Thread

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
