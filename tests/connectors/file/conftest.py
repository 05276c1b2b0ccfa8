"""Shared fixtures for the file connector tests: a small sample organisation and a
collection context."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auditor.interfaces import CollectContext
from connectors.sandbox.sample_org import SampleOrg, generate


@pytest.fixture(scope="session")
def org() -> SampleOrg:
    return generate(seed=7, accounts=400)


@pytest.fixture
def make_ctx(org: SampleOrg) -> Callable[..., CollectContext]:
    def make(source: str = "hr-export", *, collect_sign_ins: bool = False) -> CollectContext:
        return CollectContext(source, org.now, org.period_start, org.period_end, collect_sign_ins=collect_sign_ins)

    return make
