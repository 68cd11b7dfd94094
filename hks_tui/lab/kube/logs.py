"""Container logs: per (namespace, pod, container) ring buffers of (lab timestamp, line), with async
followers woken on every append."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

_Key = tuple[str, str, str]


class PodLogs:
    def __init__(self, clock: object | None = None, max_lines: int = 5000) -> None:
        self._clock = clock
        self._max = max_lines
        self._buffers: dict[_Key, deque[tuple[float, str]]] = {}
        self._previous: dict[_Key, list[tuple[float, str]]] = {}
        self._followers: dict[_Key, set[asyncio.Queue[tuple[float, str] | None]]] = {}

    def _now(self) -> float:
        now = getattr(self._clock, "now", None)
        if now is None:
            import time

            return time.time()
        return float(now())

    def append(self, namespace: str, pod: str, container: str, line: str, ts: float | None = None) -> None:
        key = (namespace, pod, container)
        entry = (self._now() if ts is None else ts, line.rstrip("\n"))
        self._buffers.setdefault(key, deque(maxlen=self._max)).append(entry)
        for queue in list(self._followers.get(key, ())):
            queue.put_nowait(entry)

    def lines(self, namespace: str, pod: str, container: str) -> list[tuple[float, str]]:
        return list(self._buffers.get((namespace, pod, container), ()))

    def restart(self, namespace: str, pod: str, container: str) -> None:
        """A container restarted: its current log becomes the ``previous=true`` log, a new one starts."""
        key = (namespace, pod, container)
        self._previous[key] = list(self._buffers.pop(key, ()))

    def previous_lines(self, namespace: str, pod: str, container: str) -> list[tuple[float, str]] | None:
        """The log of the previous instance of the container, or None if it never restarted."""
        return self._previous.get((namespace, pod, container))

    def containers(self, namespace: str, pod: str) -> list[str]:
        return sorted(c for (ns, p, c) in self._buffers if ns == namespace and p == pod)

    def drop(self, namespace: str, pod: str) -> None:
        """Forget a pod's logs and end every follower of it."""
        for key in [k for k in self._buffers if k[0] == namespace and k[1] == pod]:
            del self._buffers[key]
        for key in [k for k in self._previous if k[0] == namespace and k[1] == pod]:
            del self._previous[key]
        for key in [k for k in self._followers if k[0] == namespace and k[1] == pod]:
            for queue in self._followers.pop(key):
                queue.put_nowait(None)

    def close_followers(self) -> None:
        """End every follow stream (server shutdown)."""
        for queues in self._followers.values():
            for queue in queues:
                queue.put_nowait(None)

    def subscribe(self, namespace: str, pod: str, container: str) -> asyncio.Queue[tuple[float, str] | None]:
        queue: asyncio.Queue[tuple[float, str] | None] = asyncio.Queue()
        self._followers.setdefault((namespace, pod, container), set()).add(queue)
        return queue

    def unsubscribe(
        self, namespace: str, pod: str, container: str, queue: asyncio.Queue[tuple[float, str] | None]
    ) -> None:
        followers = self._followers.get((namespace, pod, container))
        if followers is not None:
            followers.discard(queue)
            if not followers:
                del self._followers[(namespace, pod, container)]

    async def follow(self, namespace: str, pod: str, container: str) -> AsyncIterator[tuple[float, str]]:
        """Yield lines appended from now on until the pod's logs are dropped."""
        queue = self.subscribe(namespace, pod, container)
        try:
            while True:
                entry = await queue.get()
                if entry is None:
                    return
                yield entry
        finally:
            self.unsubscribe(namespace, pod, container, queue)
