"""Discovery of connectors and renderers through entry points.

Lazy: listing reads only the entry-point metadata; nothing is imported until a
connector or renderer is actually loaded. The entry-point name is the only id."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import cast

from auditor.interfaces import AuditorError, ConnectorFactory, Renderer

CONNECTOR_GROUP = "mfa_auditor.connectors"
RENDERER_GROUP = "mfa_auditor.renderers"


class UnknownPluginError(AuditorError):
    def __init__(self, group: str, name: str, known: list[str]) -> None:
        kind = "connector" if group == CONNECTOR_GROUP else "renderer"
        super().__init__(f"no {kind} named {name!r} is installed (installed: {', '.join(known) or 'none'})")
        self.name = name
        self.known = known


@dataclass(frozen=True, slots=True)
class PluginInfo:
    name: str
    target: str
    distribution: str
    version: str


class Registry:
    """Entry-point registry. Tests pass their own ``EntryPoint`` objects."""

    def __init__(self, extra: tuple[EntryPoint, ...] = ()) -> None:
        self._extra = extra

    def _points(self, group: str) -> dict[str, EntryPoint]:
        found = {ep.name: ep for ep in entry_points(group=group)}
        found.update({ep.name: ep for ep in self._extra if ep.group == group})
        return found

    def describe(self, group: str) -> list[PluginInfo]:
        infos = []
        for name, ep in sorted(self._points(group).items()):
            dist = ep.dist
            infos.append(
                PluginInfo(
                    name=name,
                    target=ep.value,
                    distribution=dist.metadata["Name"] if dist is not None else "?",
                    version=dist.version if dist is not None else "?",
                )
            )
        return infos

    def names(self, group: str) -> list[str]:
        return sorted(self._points(group))

    def _load(self, group: str, name: str) -> object:
        points = self._points(group)
        if name not in points:
            raise UnknownPluginError(group, name, sorted(points))
        return points[name].load()

    def connector(self, name: str) -> ConnectorFactory:
        return cast(ConnectorFactory, self._load(CONNECTOR_GROUP, name))

    def renderer(self, name: str) -> Renderer:
        factory = self._load(RENDERER_GROUP, name)
        return cast(Renderer, factory() if callable(factory) else factory)
