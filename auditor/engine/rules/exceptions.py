"""The exceptions register: accepted risks with an approver, a reason and an expiry.

An entry is valid through its ``expires`` day (inclusive) and expired from the day
after: an expired entry is not honoured (the row keeps its real status) and MFA-009
flags it. An entry names an account by principal (linked identities count: the
config's ``identity_links`` apply) and portals by id or name (case-insensitive; none
means every portal).

- An entry without ``rules`` excepts the coverage rows it matches (status
  ``excepted``) unless they are protected anyway; ``used`` counts those rows.
- An entry limited to ``rules`` leaves the coverage status as it is and suppresses
  only the findings of those rules on the rows it matches; ``used`` counts the
  findings it suppressed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from auditor.engine.identity import IdentityResolver
from auditor.model import ExceptionEntry, ExceptionStatus, Portal


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    entry: ExceptionEntry
    portals: frozenset[str]  # case-folded ids and names; empty: every portal
    rules: frozenset[str]

    def covers(self, portal: Portal) -> bool:
        return not self.portals or portal.id.casefold() in self.portals or portal.name.casefold() in self.portals


class ExceptionRegister:
    def __init__(self, entries: Sequence[ExceptionEntry], today: date, resolver: IdentityResolver) -> None:
        self.entries = tuple(entries)
        self.today = today
        self._expired = {e.id: e.expires < today for e in entries}
        by_identity: dict[str, list[RegisterEntry]] = {}
        for e in entries:
            if self._expired[e.id]:
                continue
            compiled = RegisterEntry(e, frozenset(p.casefold() for p in e.portals), frozenset(e.rules))
            by_identity.setdefault(resolver.key(e.account), []).append(compiled)
        self._by_identity = {k: tuple(v) for k, v in by_identity.items()}
        self._resolver = resolver
        self.used: Counter[str] = Counter()

    def expired(self, entry: ExceptionEntry) -> bool:
        return self._expired[entry.id]

    def for_principal(self, principal: str) -> tuple[RegisterEntry, ...]:
        """The valid entries of this identity (empty for nearly everyone: callers test it
        once per account, not per row)."""
        if not self._by_identity:
            return ()
        return self._by_identity.get(self._resolver.key(principal), ())

    @staticmethod
    def excepting(entries: tuple[RegisterEntry, ...], portal: Portal) -> ExceptionEntry | None:
        """The first valid entry without rule limits that covers this portal."""
        for e in entries:
            if not e.rules and e.covers(portal):
                return e.entry
        return None

    def suppresses(self, principal: str, portal: Portal, rule_id: str) -> ExceptionEntry | None:
        """The first valid entry limited to rules that covers this finding."""
        for e in self.for_principal(principal):
            if e.rules and rule_id in e.rules and e.covers(portal):
                return e.entry
        return None

    def statuses(self) -> tuple[ExceptionStatus, ...]:
        return tuple(ExceptionStatus(e, self._expired[e.id], self.used[e.id]) for e in self.entries)
