"""Sources collected side by side give the snapshot of a sequential collection, byte for
byte, through the real connectors and every vendor sandbox of the demo."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from auditor import pipeline
from auditor.config.load import load_config
from auditor.config.schema import AuditConfig
from auditor.evidence.attachments import snapshot_json_chunks
from auditor.registry import Registry
from connectors.sandbox.demo import VENDORS, demo_config
from connectors.sandbox.sample_org import SampleOrg, generate


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuditConfig, SampleOrg]]:
    org = generate(seed=7, accounts=300)
    saved = dict(os.environ)
    with ExitStack() as stack:
        sources = {}
        for name, (ctype, module) in VENDORS.items():
            sandbox = importlib.import_module(module).start(org)
            stack.callback(sandbox.close)
            sources[name] = (ctype, sandbox.settings())
            os.environ.update(sandbox.environ())
        path = tmp_path_factory.mktemp("concurrent") / "audit.yaml"
        path.write_text(yaml.safe_dump(demo_config(org, sources)), encoding="utf-8")
        try:
            yield load_config(path, now=org.now), org
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _bytes(config: AuditConfig, org: SampleOrg, workers: int) -> bytes:
    snapshot = pipeline.collect(config, registry=Registry(), now=org.now, workers=workers)
    assert snapshot.complete, [i for s in snapshot.sources for i in s.issues if i.incomplete]
    return b"".join(snapshot_json_chunks(snapshot))


@pytest.mark.slow
def test_concurrent_collection_is_byte_identical_to_sequential(sandboxed: tuple[AuditConfig, SampleOrg]) -> None:
    config, org = sandboxed
    assert len(config.sources) >= 5
    sequential = _bytes(config, org, workers=1)
    assert _bytes(config, org, workers=len(config.sources)) == sequential
    assert _bytes(config, org, workers=2) == sequential


def test_sources_keep_the_config_order_whatever_finishes_first(tmp_path: Path) -> None:
    # The file connector finishes in microseconds; order must still be the config's.
    from connectors.file.export import write_json

    org = generate(seed=3, accounts=120)
    names = list(org.sources)[::-1]
    for name in names:
        write_json(org.sources[name], tmp_path / f"{name}.json")
    doc = {
        "organisation": {"name": "x", "contact": "dpo@example.org"},
        "period": org.period,
        "sources": [{"name": n, "type": "file", "settings": {"path": f"{n}.json"}} for n in names],
    }
    path = tmp_path / "audit.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    config = load_config(path, now=org.now)
    snapshot = pipeline.collect(config, registry=Registry(), now=org.now, workers=4)
    assert [s.source for s in snapshot.sources] == names
