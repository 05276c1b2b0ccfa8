"""Every issue code a connector can raise is ``<connector>.<code>``, declared once as a
constant in its ``codes`` module: no module of a connector writes a code as a string, and
no ``SourceIssue`` is built from a string literal."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

# The connector package and the prefix of its codes (Google's predates the package name).
PREFIXES = {"entra": "entra", "okta": "okta", "keycloak": "keycloak", "google_workspace": "google", "file": "file"}


def declared(module: ModuleType) -> dict[str, str]:
    return {
        name: value
        for name, value in vars(module).items()
        if name.isupper() and not name.startswith("_") and isinstance(value, str)
    }


@pytest.mark.parametrize("package", sorted(PREFIXES))
def test_every_declared_code_is_prefixed_and_unique(package: str) -> None:
    values = list(declared(importlib.import_module(f"connectors.{package}.codes")).values())
    assert values and all(v.startswith(PREFIXES[package] + ".") and v.count(".") == 1 for v in values)
    assert len(set(values)) == len(values)


@pytest.mark.parametrize("package", sorted(PREFIXES))
def test_no_module_of_the_connector_writes_a_code_as_a_string(package: str) -> None:
    codes = importlib.import_module(f"connectors.{package}.codes")
    values = set(declared(codes).values())
    bare = values | {v.partition(".")[2] for v in values}
    found = []
    for path in sorted(Path(codes.__file__).parent.rglob("*.py")):
        if path.name == "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            literal = isinstance(node, ast.Constant) and node.value in bare
            built_from_literal = (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "SourceIssue"
                and bool(node.args)
                and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
            )
            if literal or built_from_literal:
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
