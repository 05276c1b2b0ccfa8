"""Small Python functions generated from the model's type hints: the canonical JSON
writers (``auditor.evidence.canonical_json``) and the fast decoders (``auditor.evidence.model_decode``).

A generic walk over the type hints for every value is what made a million accounts slow;
a function per dataclass, generated once, reads each field directly. The source is built
only from the model's type hints, never from data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class GeneratedSource:
    """Python source being generated, and the names it refers to (``namespace``)."""

    label = "auditor.evidence.codegen"  # shown in tracebacks of generated code

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self._count = 0

    def fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def constant(self, value: Any, prefix: str = "K") -> str:
        name = self.fresh(prefix)
        self.namespace[name] = value
        return name

    def compile(self, name: str, source: str) -> Any:
        exec(compile(source, f"<{self.label} {name}>", "exec"), self.namespace)
        return self.namespace[name]


class Lazy:
    """A nested class's generated function, built on first use: classes may refer to each
    other, so one cannot always be built before the other."""

    __slots__ = ("_build", "_cls", "_fn")

    def __init__(self, build: Callable[[type], Callable[[Any], Any]], cls: type) -> None:
        self._build = build
        self._cls = cls
        self._fn: Callable[[Any], Any] | None = None

    def __call__(self, value: Any) -> Any:
        if self._fn is None:
            self._fn = self._build(self._cls)
        return self._fn(value)
