"""The import rules of docs/architecture.md, checked on the source (the AST of every
module, imports inside functions and under ``TYPE_CHECKING`` included).

Written against what a module *is* (its dotted name), not where it lives, so the rules
hold both for the flat ``auditor/`` and after the regrouping into subpackages."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Stages by dotted name, flat layout and regrouped layout alike.
ENGINE = (
    "auditor.engine",
    "auditor.classify",
    "auditor.identity",
    "auditor.coverage",
    "auditor.rules",
    "auditor.reconcile",
    "auditor.evaluate",
    "auditor.metrics",
)
# The extension points carry the model and the per-run artefacts a ReportContext holds.
INTERFACES_MAY = ("auditor.model", "auditor.evidence.run_artefacts")
STORE = ("auditor.store", "auditor.retention")  # the SQLite evidence store and what purges it
QUERIES = ("auditor.queries", "auditor.history", "auditor.check", "auditor.audit_sample")
RENDER = ("auditor.render",)
OUTER = ("auditor.cli", "auditor.pipeline", "auditor.registry", *RENDER, *STORE, *QUERIES)


def _is(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target
            # ``from auditor import history`` imports the module auditor.history.
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def violations(root: Path) -> list[str]:
    found = []
    for path in sorted([*root.glob("auditor/**/*.py"), *root.glob("connectors/**/*.py")]):
        name = module_name(path, root)
        where = path.relative_to(root)
        for line, target in imports_of(path, root):
            rule = None
            if name.startswith("auditor") and _is(target, ("connectors",)):
                rule = "auditor never imports connectors"
            elif name.startswith("connectors.") and _is(target, ("connectors",)):
                own = ".".join(name.split(".")[:2])
                if target != "connectors" and not _is(target, (own,)):
                    rule = "a connector imports only itself (and auditor)"
            elif _is(name, RENDER) and _is(target, STORE):
                rule = "render never imports the store"
            elif _is(name, ENGINE) and _is(target, OUTER):
                rule = "the engine never imports render, store, pipeline, registry or cli"
            elif name == "auditor.model" and target.startswith("auditor") and target != "auditor":
                rule = "the model imports nothing from auditor"
            elif name == "auditor.interfaces" and _is(target, ("auditor",)) and not _is(target, INTERFACES_MAY):
                rule = "interfaces import only the model and the per-run artefacts"
            message = f"{where}:{line}: imports {target}: {rule}"
            if rule and not any(f.startswith(f"{where}:{line}: ") and f.endswith(rule) for f in found):
                found.append(message)
    return found


def test_the_tree_follows_the_import_rules() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("auditor/evaluate.py", "from connectors.okta import parse\n", "auditor never imports connectors"),
        ("auditor/engine/coverage.py", "import connectors\n", "auditor never imports connectors"),
        ("connectors/okta/x.py", "from connectors.entra.parse import y\n", "a connector imports only itself"),
        ("connectors/okta/x.py", "from ..entra import parse\n", "a connector imports only itself"),
        ("auditor/render/html.py", "from auditor import retention\n", "render never imports the store"),
        ("auditor/render/html.py", "from auditor.store.database import X\n", "render never imports the store"),
        ("auditor/engine/rules/base.py", "from auditor.render import view\n", "the engine never imports"),
        ("auditor/model.py", "def f():\n    from auditor.serialise import g\n", "the model imports nothing"),
    ],
)
def test_a_broken_rule_is_reported_with_file_and_line(tmp_path: Path, path: str, source: str, expected: str) -> None:
    target = tmp_path / path
    target.parent.mkdir(parents=True)
    target.write_text("\n" + source, encoding="utf-8")
    (reported,) = violations(tmp_path)
    line = 2 + source.count("\n") - 1
    assert reported.startswith(f"{path}:{line}: imports ") and expected in reported


def test_a_connector_may_import_its_own_modules_and_the_core(tmp_path: Path) -> None:
    sandbox = tmp_path / "connectors" / "sandbox" / "demo.py"
    sandbox.parent.mkdir(parents=True)
    sandbox.write_text("from connectors.sandbox.graph import app\nfrom . import loopback\nfrom auditor import model\n")
    assert violations(tmp_path) == []


# A module longer than this says why at the top of its docstring (issue #13: "no module
# over ~500 lines without a reason written at its top").
LONG_MODULE_LINES = 550
REASONS = ("Kept whole on purpose:", "Long, known debt")


def test_a_long_module_says_why_at_its_top() -> None:
    unexplained = []
    for path in sorted([*ROOT.glob("auditor/**/*.py"), *ROOT.glob("connectors/**/*.py")]):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") <= LONG_MODULE_LINES:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if not doc.startswith(REASONS):
            unexplained.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
    assert unexplained == []


def test_no_module_of_auditor_keeps_state_in_globals() -> None:
    """Per-run state is carried explicitly (``auditor.evidence.run_artefacts``): a
    ``global`` statement would bring back a cache that outlives its run."""
    found = []
    for path in sorted(ROOT.glob("auditor/**/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(ROOT)
        found.extend(
            f"{where}:{n.lineno}: global {', '.join(n.names)}" for n in ast.walk(tree) if isinstance(n, ast.Global)
        )
    assert found == []
