"""Vendor sandboxes started for one test: their throwaway credentials in the environment
for the test only, every sandbox closed at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@contextmanager
def started_sandboxes(start: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """A factory calling ``start``; what it started is closed when the block ends."""
    started: list[Any] = []

    def make(*args: Any, **options: Any) -> Any:
        sandbox = start(*args, **options)
        started.append(sandbox)
        for k, v in sandbox.environ().items():
            monkeypatch.setenv(k, v)
        return sandbox

    try:
        yield make
    finally:
        for s in started:
            s.close()
