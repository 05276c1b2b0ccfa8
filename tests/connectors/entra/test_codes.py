"""Every issue code the Entra connector can raise is ``entra.<code>`` and declared once,
in ``connectors.entra.codes``: no bare code string is left in the connector's modules."""

from __future__ import annotations

import ast
from pathlib import Path

from connectors.entra import codes

PACKAGE = Path(codes.__file__).parent


def declared() -> dict[str, str]:
    return {name: value for name, value in vars(codes).items() if name.isupper() and not name.startswith("_")}


def test_every_declared_code_is_prefixed_and_unique() -> None:
    values = list(declared().values())
    assert values and all(v.startswith("entra.") and v.count(".") == 1 for v in values)
    assert len(set(values)) == len(values)


def test_no_module_of_the_connector_writes_a_code_as_a_string() -> None:
    bare = {v.partition(".")[2] for v in declared().values()} | set(declared().values())
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "codes.py":
            continue
        found += [
            f"{path.name}:{node.lineno}: {node.value!r}"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and node.value in bare
        ]
    assert found == []
