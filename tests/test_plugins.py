"""A third-party connector and renderer, installed as a throwaway distribution (a
dist-info folder on ``sys.path``), are found through the entry points and used by the
pipeline exactly like the built-in ones: nothing in ``auditor/`` names them."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.interfaces import ExtraOutput, renderer_extra_outputs, renderer_signable
from auditor.pipeline import render_all
from auditor.registry import CONNECTOR_GROUP, RENDERER_GROUP, Registry
from tests.support.reports import make_context, sample_snapshot

PLUGIN = textwrap.dedent(
    '''
    from auditor.interfaces import ExtraOutput, PermissionCheck

    class EchoConnector:
        def __init__(self, source, settings, base_dir):
            self.source, self.settings = source, dict(settings)

        def collect(self, ctx):
            raise NotImplementedError

        def check_access(self):
            return (PermissionCheck("echo", "the throwaway plugin answers", True, detail=self.settings["greeting"]),)

    def _write_run_id(ctx, out):
        out.write(ctx.result.run_id.encode("utf-8"))

    class SummaryRenderer:
        extension = "txt"
        media_type = "text/plain"
        extra_outputs = (ExtraOutput("-run-id.txt", _write_run_id),)

        def render(self, ctx, out):
            out.write(f"{ctx.organisation}: {len(ctx.result.findings)} findings".encode("utf-8"))
    '''
)


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    (site / "throwaway_plugin").mkdir(parents=True)
    (site / "throwaway_plugin" / "__init__.py").write_text(PLUGIN, encoding="utf-8")
    info = site / "throwaway_plugin-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: throwaway-plugin\nVersion: 0.3\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[{CONNECTOR_GROUP}]\necho = throwaway_plugin:EchoConnector\n\n"
        f"[{RENDERER_GROUP}]\nsummary = throwaway_plugin:SummaryRenderer\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop("throwaway_plugin", None)


def test_the_registry_lists_the_plugins_with_their_distribution(installed_plugin: Path) -> None:
    registry = Registry()
    connectors = {info.name: info for info in registry.describe(CONNECTOR_GROUP)}
    renderers = {info.name: info for info in registry.describe(RENDERER_GROUP)}
    assert (connectors["echo"].distribution, connectors["echo"].version) == ("throwaway-plugin", "0.3")
    assert renderers["summary"].target == "throwaway_plugin:SummaryRenderer"
    assert "file" in connectors and "pdf" in renderers  # the built-ins, through the same groups


def test_a_plugin_connector_is_built_from_its_settings(installed_plugin: Path, tmp_path: Path) -> None:
    connector = Registry().connector("echo")("src", {"greeting": "bonjour"}, tmp_path)
    (check,) = connector.check_access()
    assert (check.name, check.granted, check.detail) == ("echo", True, "bonjour")


def test_a_plugin_renderer_writes_its_report_and_its_declared_extra_output(
    installed_plugin: Path, tmp_path: Path
) -> None:
    ctx = make_context(sample_snapshot(accounts=40))
    written = render_all(ctx, ["summary"], tmp_path / "out", registry=Registry())
    stem = f"mfa-audit-{ctx.result.run_id}"
    assert [p.name for p in written] == [f"{stem}.txt", f"{stem}-run-id.txt"]
    assert written[0].read_text(encoding="utf-8") == f"{ctx.organisation}: {len(ctx.result.findings)} findings"
    assert written[1].read_text(encoding="utf-8") == ctx.result.run_id
    assert not list((tmp_path / "out").glob("*.part"))


def test_capabilities_are_read_from_the_renderer_not_from_its_format_name() -> None:
    class Plain:
        extension = "pdf"  # named like the PDF, but declares nothing: neither signed nor extra files
        media_type = "application/pdf"

        def render(self, ctx: object, out: object) -> None: ...

    class Declared(Plain):
        signable = True
        extra_outputs = (ExtraOutput("-x.bin", lambda ctx, out: None),)

    class Wrong(Plain):
        extra_outputs = ("-x.bin",)

    assert not renderer_signable(Plain()) and renderer_extra_outputs(Plain()) == ()  # type: ignore[arg-type]
    assert renderer_signable(Declared()) and [e.suffix for e in renderer_extra_outputs(Declared())] == ["-x.bin"]  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Wrong\.extra_outputs must be a tuple of ExtraOutput"):
        renderer_extra_outputs(Wrong())  # type: ignore[arg-type]


def test_the_builtin_csv_and_pdf_renderers_declare_what_the_pipeline_used_to_guess() -> None:
    registry = Registry()
    assert renderer_signable(registry.renderer("pdf"))
    assert [e.suffix for e in renderer_extra_outputs(registry.renderer("csv"))] == ["-coverage.csv"]
    for name in ("html", "json", "ocsf", "csv"):
        assert not renderer_signable(registry.renderer(name))
