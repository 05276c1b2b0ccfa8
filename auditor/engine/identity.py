"""Identities across sources.

The same person often has an account in several sources. Accounts link by normalised
principal (case-folded, surrounding blanks stripped) and by the config's
``identity_links`` (``principal`` is the same person as ``same_as``; links are
transitive). Linking is what federation needs: a portal whose sign-in goes through
another source is judged on the linked account *there*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from auditor.config.schema import IdentityLink
from auditor.model import Account, SourceSnapshot


def normalise(principal: str) -> str:
    return principal.strip().casefold()


class IdentityResolver:
    """Maps a principal to a canonical identity key (union of the config's links)."""

    def __init__(self, links: Sequence[IdentityLink] = ()) -> None:
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while parent.get(x, x) != root:  # path compression
                parent[x], x = root, parent[x]
            return root

        for link in links:
            a, b = find(normalise(link.principal)), find(normalise(link.same_as))
            if a != b:
                # The smaller key is the representative: the result does not depend on
                # the order of the links in the file.
                lo, hi = sorted((a, b))
                parent[hi] = lo
        self._canonical = {x: find(x) for x in list(parent)}

    def key(self, principal: str) -> str:
        n = normalise(principal)
        return self._canonical.get(n, n)


class IdentityIndex:
    """Per source, the account of each identity. When a source holds several accounts
    for one identity, the enabled one with the smallest id stands for it (stable)."""

    def __init__(self, sources: Iterable[SourceSnapshot], resolver: IdentityResolver) -> None:
        self.resolver = resolver
        self._sources: dict[str, SourceSnapshot] = {s.source: s for s in sources}
        # Built on first use: only upstream sources of federated portals need one.
        self._by_source: dict[str, dict[str, Account]] = {}

    def source_index(self, source: str) -> Mapping[str, Account]:
        index = self._by_source.get(source)
        if index is None:
            index = {}
            snap = self._sources.get(source)
            key = self.resolver.key
            for account in snap.accounts if snap is not None else ():
                k = key(account.principal)
                current = index.get(k)
                if current is None or _prefer(account, current):
                    index[k] = account
            self._by_source[source] = index
        return index

    def linked(self, principal: str, source: str) -> Account | None:
        """The account of the same identity in ``source``, if any."""
        return self.source_index(source).get(self.resolver.key(principal))


def _prefer(candidate: Account, current: Account) -> bool:
    if candidate.enabled != current.enabled:
        return candidate.enabled
    return candidate.id < current.id
