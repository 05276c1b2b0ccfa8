"""Portal classification: the config's ``portals`` rules give each portal its
sensitivity, data categories and (for federated sign-in) the upstream source.

The first matching rule wins. Every criterion a rule states must hold: ``source`` and
``id`` exactly, ``name`` case-insensitively, ``name_pattern`` as a case-insensitive
glob, ``tag`` as one of the portal's tags (case-insensitively). A portal no rule matches
keeps the sensitivity its connector gave it, if any (the ``file`` connector may carry
one), and otherwise gets ``policy.default_sensitivity``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from auditor.config.schema import PortalClass, PortalMatch
from auditor.model import Portal, Sensitivity, SourceName


@dataclass(frozen=True, slots=True)
class _CompiledMatch:
    """A ``PortalMatch`` with its glob compiled once: classification runs per portal,
    but a config may have many rules and a source many portals."""

    source: str | None
    id: str | None
    name: str | None
    pattern: re.Pattern[str] | None
    tag: str | None

    @classmethod
    def of(cls, match: PortalMatch) -> _CompiledMatch:
        pattern = None
        if match.name_pattern is not None:
            pattern = re.compile(fnmatch.translate(match.name_pattern.casefold()))
        return cls(
            source=match.source,
            id=match.id,
            name=match.name.casefold() if match.name is not None else None,
            pattern=pattern,
            tag=match.tag.casefold() if match.tag is not None else None,
        )

    def matches(self, portal: Portal) -> bool:
        if self.source is not None and portal.source != self.source:
            return False
        if self.id is not None and portal.id != self.id:
            return False
        name = portal.name.casefold()
        if self.name is not None and name != self.name:
            return False
        if self.pattern is not None and self.pattern.match(name) is None:
            return False
        return self.tag is None or any(t.casefold() == self.tag for t in portal.tags)


class Classifier:
    """Classifies portals by a config's rules (compiled once)."""

    def __init__(self, rules: Sequence[PortalClass], default: Sensitivity) -> None:
        self._rules = tuple((_CompiledMatch.of(r.match), r) for r in rules)
        self._default = default

    def rule_for(self, portal: Portal) -> PortalClass | None:
        for compiled, rule in self._rules:
            if compiled.matches(portal):
                return rule
        return None

    def classify(self, portal: Portal) -> Portal:
        rule = self.rule_for(portal)
        if rule is None:
            return replace(portal, sensitivity=portal.sensitivity or self._default)
        via = rule.sign_in_via if rule.sign_in_via is not None else portal.sign_in_via
        # Federation to the portal's own source means nothing: its own policies apply.
        if via == portal.source:
            via = None
        return replace(
            portal,
            sensitivity=rule.sensitivity,
            data_categories=rule.data_categories or portal.data_categories,
            sign_in_via=SourceName(via) if via is not None else None,
        )

    def classify_all(self, portals: Iterable[Portal]) -> tuple[Portal, ...]:
        return tuple(self.classify(p) for p in portals)


def classify(portal: Portal, rules: Sequence[PortalClass], default: Sensitivity) -> Portal:
    """Classify one portal (convenience for ad-hoc checks; the engine uses ``Classifier``)."""
    return Classifier(rules, default).classify(portal)
