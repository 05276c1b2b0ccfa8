"""What a page shows of an identity: as stored, or pseudonymised with the report's tokens.

The store keeps real identifiers; ``--pseudonymise`` replaces them at display time with
``auditor.render.pseudonym.Pseudonymiser`` under the config's ``report.pseudonym_key``,
so a token on a page is the token in the pseudonymised PDF and CSV. URLs never carry an
identifier: accounts and portals are addressed by their number in the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from auditor.render.pseudonym import Pseudonymiser

# C0/C1 controls and bidi embeddings, overrides, isolates and marks (as the CSV guard):
# shown as their code point, so a name cannot reorder or hide the text around it.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def inert(value: object) -> str:
    """Text from an identity provider made safe to show: controls made visible. (HTML
    escaping is the templates' autoescape; this is about what escaping leaves live.)"""
    text = "" if value is None else str(value)
    return _UNSAFE.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


class Mask:
    """Identity -> what is shown. Inactive: the value itself. One per request (the
    pseudonymiser learns names as it goes)."""

    def __init__(self, key: bytes | None) -> None:
        self._p = Pseudonymiser(key) if key else None

    @property
    def active(self) -> bool:
        return self._p is not None

    def learn(self, account_id: str | None, principal: str | None, display_name: str | None) -> None:
        if self._p is None:
            return
        if account_id:
            self._p.account_id(account_id)
        if principal:
            self._p.principal(principal)
        if display_name:
            self._p.name(display_name)

    def principal(self, value: str | None) -> str:
        if value is None:
            return ""
        return self._p.principal(value) if self._p else value

    def account_id(self, value: str | None) -> str:
        if value is None:
            return ""
        return self._p.account_id(value) if self._p else value

    def name(self, value: str | None) -> str:
        if value is None:
            return ""
        return self._p.name(value) if self._p else value

    def text(self, value: str, names: Iterable[str] = ()) -> str:
        return self._p.text(value, names=names) if self._p else value

    def params(self, params: Sequence[tuple[str, str]], names: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
        names = tuple(names)
        return tuple((k, self.text(v, names)) for k, v in params)
