"""Fixtures for the renderer tests; the helpers behind them are in ``tests.support.reports``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auditor.interfaces import ReportContext
from auditor.model import Snapshot
from tests.support.reports import evaluation_config, make_context, sample_snapshot

__all__ = ["evaluation_config"]  # the report benchmarks import it from here


@pytest.fixture(scope="session")
def snapshot() -> Snapshot:
    return sample_snapshot()


@pytest.fixture(scope="session")
def context_factory() -> Callable[..., ReportContext]:
    return make_context


@pytest.fixture(scope="session")
def context(snapshot: Snapshot) -> ReportContext:
    return make_context(snapshot)


@pytest.fixture(scope="session")
def incomplete_snapshot() -> Snapshot:
    return sample_snapshot(incomplete=True)
