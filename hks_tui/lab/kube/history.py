"""The watch side of a store: a bounded history of committed events (410 Expired beyond it) and the
registry of live watchers, each fed through an asyncio queue on the lab's loop."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from hks_tui.lab.kube.errors import gone


@dataclass(frozen=True)
class StoredEvent:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    resource: str
    obj: dict[str, Any]  # committed snapshot; never mutated
    old: dict[str, Any] | None = None  # the previous snapshot for MODIFIED events

    @property
    def namespace(self) -> str:
        return (self.obj.get("metadata") or {}).get("namespace") or ""


@dataclass(eq=False)
class Watcher:
    resource: str
    namespace: str | None
    queue: asyncio.Queue[StoredEvent | None] = field(default_factory=asyncio.Queue)

    def close(self) -> None:
        self.queue.put_nowait(None)


class WatchHub:
    def __init__(self, limit: int) -> None:
        self._history: deque[StoredEvent] = deque()
        self._limit = limit
        self.compacted_rv = 0  # watches/continues from an rv below this are too old
        self._watchers: dict[str, set[Watcher]] = {}

    def publish(self, event: StoredEvent) -> None:
        self._history.append(event)
        while len(self._history) > self._limit:
            self.compacted_rv = self._history.popleft().rv
        for watcher in list(self._watchers.get(event.resource, ())):
            if watcher.namespace is None or watcher.namespace == event.namespace:
                watcher.queue.put_nowait(event)

    def compact(self, current_rv: int) -> None:
        self._history.clear()
        self.compacted_rv = current_rv

    def watch(
        self, resource: str, namespace: str | None, since: int | None, current_rv: int
    ) -> tuple[Watcher, list[StoredEvent]]:
        replay: list[StoredEvent] = []
        if since is not None:
            if since < self.compacted_rv:
                raise gone(f"too old resource version: {since} ({current_rv})")
            replay = [
                e
                for e in self._history
                if e.rv > since and e.resource == resource and (namespace is None or e.namespace == namespace)
            ]
        watcher = Watcher(resource, namespace)
        self._watchers.setdefault(resource, set()).add(watcher)
        return watcher, replay

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers.get(watcher.resource, set()).discard(watcher)

    def close_all(self) -> None:
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.close()
