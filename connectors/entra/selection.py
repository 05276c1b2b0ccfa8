"""``settings.portals``: which service principals become portals.

Large tenants hold thousands of application service principals (Microsoft first-party
apps, every SaaS app someone consented to). The selection narrows the portals to the
ones an audit is about; the collection records how far it narrowed them.

    portals:
      include: ["Claims*", "00000006-0000-0ff1-ce00-000000000000"]  # default: every app
      exclude: ["Microsoft*"]
      require_assignment: true      # only apps with appRoleAssignmentRequired
      tags: ["WindowsAzureActiveDirectoryIntegratedApp"]  # only apps carrying one of these

``include`` / ``exclude`` are case-insensitive globs (``*``, ``?``, ``[...]``) matched
against the service principal's id, its appId and its displayName; exclude wins.
``require_assignment`` and ``tags`` are sent to Graph as ``$filter`` (documented as
supported, ``eq`` on ``appRoleAssignmentRequired``, ``any`` with ``eq`` on ``tags``);
globs over three properties are not expressible in ``$filter``, and ``NOT`` needs
advanced query parameters, so include / exclude apply client-side. Every criterion is
also checked client-side, so a server that ignored the filter changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from auditor.interfaces import SettingsError

KEYS = ("include", "exclude", "require_assignment", "tags")


@dataclass(frozen=True, slots=True)
class PortalSelection:
    include: tuple[str, ...] = ()  # case-folded globs; empty: every service principal
    exclude: tuple[str, ...] = ()
    require_assignment: bool = False
    tags: tuple[str, ...] = ()  # as written (Graph's eq on strings is case-insensitive)

    def server_filter(self) -> str | None:
        """The part of the selection Graph can apply, as a ``$filter`` expression."""
        clauses: list[str] = []
        if self.require_assignment:
            clauses.append("appRoleAssignmentRequired eq true")
        if self.tags:
            anys = [f"tags/any(t:t eq {_literal(tag)})" for tag in self.tags]
            either = " or ".join(anys)
            # ``and`` binds tighter than ``or``: the alternatives need parentheses beside another clause.
            clauses.append(f"({either})" if clauses and len(anys) > 1 else either)
        return " and ".join(clauses) or None

    def selects(self, sp: Mapping[str, Any]) -> bool:
        """Whether a ``/servicePrincipals`` item is inside the selection."""
        if self.require_assignment and sp.get("appRoleAssignmentRequired") is not True:
            return False
        if self.tags:
            raw = sp.get("tags")
            have = {str(t).casefold() for t in raw} if isinstance(raw, list) else set()
            if not have & {t.casefold() for t in self.tags}:
                return False
        keys = [str(sp[k]).casefold() for k in ("id", "appId", "displayName") if isinstance(sp.get(k), str)]
        if self.include and not any(fnmatchcase(k, p) for k in keys for p in self.include):
            return False
        return not any(fnmatchcase(k, p) for k in keys for p in self.exclude)

    def describe(self) -> str:
        """The selection in words, for the snapshot's issue (what an auditor reads)."""
        server, client = [], []
        if self.require_assignment:
            server.append("require_assignment")
        if self.tags:
            server.append("tags " + ", ".join(self.tags))
        if self.include:
            client.append("include " + ", ".join(self.include))
        if self.exclude:
            client.append("exclude " + ", ".join(self.exclude))
        parts = []
        if server:
            parts.append("; ".join(server) + " (Graph $filter)")
        if client:
            parts.append("; ".join(client) + " (by the connector)")
        return "; ".join(parts)


def _literal(value: str) -> str:
    """An OData string literal: single quotes, an embedded quote doubled."""
    return "'" + value.replace("'", "''") + "'"


def _describe(value: object) -> str:
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"


def _strings(value: object, key: str) -> tuple[str, ...]:
    # A bare string is refused rather than read as one pattern: `include: Foo*` is most
    # likely a list someone forgot to bracket, and a silent guess would narrow the audit.
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise SettingsError(key, "a non-empty list of non-empty strings", _describe(value))
    return tuple(v.strip() for v in value)


def parse_portal_selection(value: object) -> PortalSelection | None:
    """``settings.portals``: None (absent) means every application service principal."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise SettingsError("portals", "a mapping with any of " + ", ".join(KEYS), _describe(value))
    unknown = sorted(str(k) for k in value if k not in KEYS)
    if unknown:
        raise SettingsError(f"portals.{unknown[0]}", "one of " + ", ".join(KEYS), "an unknown key")
    if not value:
        raise SettingsError("portals", "a mapping with any of " + ", ".join(KEYS), "an empty mapping")
    require = value.get("require_assignment", False)
    if not isinstance(require, bool):
        raise SettingsError("portals.require_assignment", "true or false", _describe(require))
    include = _strings(value["include"], "portals.include") if "include" in value else ()
    exclude = _strings(value["exclude"], "portals.exclude") if "exclude" in value else ()
    tags = _strings(value["tags"], "portals.tags") if "tags" in value else ()
    return PortalSelection(
        include=tuple(p.casefold() for p in include),
        exclude=tuple(p.casefold() for p in exclude),
        require_assignment=require,
        tags=tags,
    )
