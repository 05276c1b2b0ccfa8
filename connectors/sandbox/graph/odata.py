"""The small part of OData ``$filter`` the sandbox answers, per collection, the way
Graph's directory does by default (no advanced query parameters):

- ``prop eq literal`` on the properties a collection lists as filterable with ``eq``
  (string literals in single quotes, ``''`` for a quote; ``true`` / ``false``);
- ``coll/any(x:x eq 'literal')`` on multi-valued string properties (Graph requires the
  ``any`` lambda on collections);
- ``and`` / ``or`` and parentheses.

String comparison is case-insensitive, as in the directory. Anything else (``ne``,
``not``, ``startsWith``, an unlisted property, a syntax error) raises ``FilterError``
with the code and message Graph answers with (HTTP 400), so a connector cannot come to
rely on a filter Graph would refuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[():,])|(?P<word>[A-Za-z_$][A-Za-z0-9_./$]*))")


class FilterError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Filterable:
    resource: str  # as Graph names it in errors, e.g. "ServicePrincipal"
    scalar_eq: frozenset[str]
    collection_any_eq: frozenset[str] = frozenset()


SERVICE_PRINCIPAL = Filterable(
    "ServicePrincipal",
    # Documented on the servicePrincipal resource as supporting $filter with eq.
    scalar_eq=frozenset(
        {"accountEnabled", "appId", "appRoleAssignmentRequired", "displayName", "id", "servicePrincipalType"}
    ),
    collection_any_eq=frozenset({"tags"}),
)


def _invalid() -> FilterError:
    return FilterError("BadRequest", "Invalid filter clause")


def _unsupported(prop: str, what: Filterable) -> FilterError:
    return FilterError(
        "Request_UnsupportedQuery",
        f"Unsupported or invalid query filter clause specified for property '{prop}' of resource '{what.resource}'.",
    )


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _invalid()
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, str):
        return isinstance(actual, str) and actual.casefold() == expected.casefold()
    return actual is expected


class _Parser:
    def __init__(self, text: str, what: Filterable) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.what = what

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise _invalid()
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        if self.take()[1].casefold() != value:
            raise _invalid()

    def keyword(self, value: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "word" and tok[1].casefold() == value:
            self.i += 1
            return True
        return False

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if self.peek() is not None:
            raise _invalid()
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.keyword("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda o: any(p(o) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.atom()]
        while self.keyword("and"):
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda o: all(p(o) for p in parts))

    def literal(self) -> object:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "word" and value.casefold() in ("true", "false"):
            return value.casefold() == "true"
        raise _invalid()

    def atom(self) -> Predicate:
        kind, value = self.take()
        if (kind, value) == ("punct", "("):
            inner = self.or_expr()
            self.expect(")")
            return inner
        if kind != "word":
            raise _invalid()
        if value.endswith("/any"):
            return self.lambda_any(value.removesuffix("/any"))
        if value.casefold() == "not" or (self.peek() or ("", ""))[1] == "(":
            # not(...), startsWith(...), endsWith(...): advanced queries or unsupported here.
            raise FilterError("Request_UnsupportedQuery", "Unsupported Query.")
        op = self.take()[1].casefold()
        if value not in self.what.scalar_eq or op != "eq":
            raise _unsupported(value, self.what)
        expected = self.literal()
        return lambda o: _same(o.get(value), expected)

    def lambda_any(self, prop: str) -> Predicate:
        if prop not in self.what.collection_any_eq:
            raise _unsupported(prop, self.what)
        self.expect("(")
        var = self.take()
        self.expect(":")
        if self.take() != var or self.take()[1].casefold() != "eq":
            raise _unsupported(prop, self.what)
        expected = self.literal()
        self.expect(")")

        def test(o: Mapping[str, Any]) -> bool:
            values = o.get(prop)
            return isinstance(values, list) and any(_same(v, expected) for v in values)

        return test


def compile_filter(text: str, what: Filterable) -> Predicate:
    """A predicate for ``text``, or ``FilterError`` as Graph would answer."""
    return _Parser(text, what).parse()
