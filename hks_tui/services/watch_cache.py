"""A cache of watched Kubernetes resources shared by every screen.

One list+watch per (context, resource type, namespace) — however many screens subscribe — on a dedicated
daemon thread. The watch resumes from the last resourceVersion (bookmarks included) when the server
ends it; on ``410 Expired`` it re-lists and emits the difference (adds, modifications, deletions) so
subscribers stay exact. Subscribers get keyed :class:`WatchEvent` callbacks, in order, on the cache's
one dispatcher thread and never while a lock is held: a Textual screen bridges them with
``post_message`` (or ``app.call_from_thread``). No Textual imports here.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hks_tui.clients.errors import ExpiredError, HksError
from hks_tui.clients.guard import RetryPolicy
from hks_tui.clients.mapping import map_exception
from hks_tui.clients.streams import StreamHandle

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
SYNCED = "SYNCED"  # the cache holds a complete list (after the first list and after every relist)
ERROR = "ERROR"  # the watch failed; it will retry with backoff


@dataclass(frozen=True)
class WatchEvent:
    type: str
    key: str  # "namespace/name", or "name" for cluster-scoped objects
    object: dict[str, Any] | None
    context: str
    resource: str
    error: HksError | None = None


Callback = Callable[[WatchEvent], None]


def object_key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


@dataclass
class WatchStats:
    lists: int = 0
    watches: int = 0
    resumes: int = 0
    relists: int = 0
    events: int = 0
    errors: int = 0


class Subscription:
    def __init__(self, watcher: _Watcher, callback: Callback) -> None:
        self._watcher = watcher
        self.callback = callback
        self.active = True

    def unsubscribe(self) -> None:
        if self.active:
            self.active = False
            self._watcher.remove(self)


@dataclass
class _Watcher:
    client: KubeClient
    resource: str
    namespace: str | None
    timeout_seconds: int
    retry: RetryPolicy
    on_idle: Callable[[_Watcher], None]
    dispatch: Callable[[list[Subscription], WatchEvent], None]
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    resource_version: str | None = None
    synced: bool = False
    stats: WatchStats = field(default_factory=WatchStats)
    subscribers: list[Subscription] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    _watch: StreamHandle | None = None

    # -- subscribers ------------------------------------------------------------------------------
    def add(self, callback: Callback) -> Subscription:
        sub = Subscription(self, callback)
        with self.lock:
            self.subscribers.append(sub)
            replay = [
                WatchEvent(ADDED, k, o, self.client.context, self.resource) for k, o in self.objects.items()
            ]
            if self.synced:
                replay.append(WatchEvent(SYNCED, "", None, self.client.context, self.resource))
            # queued under the lock, so no live event can overtake the snapshot
            for event in replay:
                self.dispatch([sub], event)
        return sub

    def remove(self, sub: Subscription) -> None:
        with self.lock:
            if sub in self.subscribers:
                self.subscribers.remove(sub)
            idle = not self.subscribers
        if idle:
            self.on_idle(self)

    def _emit(self, event: WatchEvent) -> None:
        with self.lock:
            self.stats.events += 1
            self.dispatch(list(self.subscribers), event)

    # -- the watcher thread -----------------------------------------------------------------------
    def start(self) -> None:
        name = f"hks-watch-{self.client.context}-{self.resource}"
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        watch = self._watch
        if watch is not None:
            watch.stop()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def _relist(self) -> None:
        listing = self.client.list_all(self.resource, namespace=self.namespace)
        fresh = {object_key(o): o for o in listing.get("items", [])}
        with self.lock:
            self.stats.lists += 1
            old = self.objects
            self.objects = dict(fresh)
            self.resource_version = str(listing["metadata"].get("resourceVersion") or "")
            for key in [k for k in old if k not in fresh]:
                self._emit(WatchEvent(DELETED, key, old[key], self.client.context, self.resource))
            for key, obj in fresh.items():
                if key not in old:
                    self._emit(WatchEvent(ADDED, key, obj, self.client.context, self.resource))
                elif _rv(old[key]) != _rv(obj):
                    self._emit(WatchEvent(MODIFIED, key, obj, self.client.context, self.resource))
            self.synced = True
            self._emit(WatchEvent(SYNCED, "", None, self.client.context, self.resource))

    def _apply(self, kind: str, obj: dict[str, Any]) -> None:
        key = object_key(obj)
        with self.lock:
            if kind == DELETED:
                self.objects.pop(key, None)
            else:
                kind = MODIFIED if key in self.objects else ADDED
                self.objects[key] = obj
            rv = _rv(obj)
            if rv:
                self.resource_version = rv
            self._emit(WatchEvent(kind, key, obj, self.client.context, self.resource))

    def _watch_once(self) -> None:
        watch = StreamHandle()
        self._watch = watch
        if self.stop_event.is_set():
            return
        self.stats.watches += 1
        try:
            for event in self.client.watch_stream(
                self.resource,
                namespace=self.namespace,
                resource_version=self.resource_version or "0",
                timeout_seconds=self.timeout_seconds,
                handle=watch,
            ):
                if self.stop_event.is_set():
                    break
                kind = event.get("type")
                obj = event.get("object") or {}
                if kind == "BOOKMARK":
                    rv = _rv(obj)
                    if rv:
                        self.resource_version = rv
                elif kind in (ADDED, MODIFIED, DELETED):
                    self._apply(kind, obj)
        finally:
            self._watch = None

    def _run(self) -> None:
        failures = 0
        expired_in_a_row = 0
        what = f"Watch {self.resource} on {self.client.context}"
        while not self.stop_event.is_set():
            try:
                if self.resource_version is None:
                    self._relist()
                self._watch_once()
                if not self.stop_event.is_set():
                    self.stats.resumes += 1
                failures = 0
                expired_in_a_row = 0
            except Exception as exc:
                if self.stop_event.is_set():
                    break
                err = map_exception(exc, what=what, backend=self.client.backend)
                if isinstance(err, ExpiredError):
                    # our resourceVersion was compacted away: list again and emit the difference
                    self.stats.relists += 1
                    self.resource_version = None
                    expired_in_a_row += 1
                    # a server that expires even a fresh list's version must not make us spin
                    if expired_in_a_row > 1 and self.stop_event.wait(
                        self.retry.delay(min(expired_in_a_row, 6))
                    ):
                        break
                    continue
                failures += 1
                self.stats.errors += 1
                log.info("%s failed (attempt %d): %r", what, failures, err)
                self._emit(WatchEvent(ERROR, "", None, self.client.context, self.resource, error=err))
                delay = self.retry.delay(min(failures, 6))
                if self.stop_event.wait(delay):
                    break
                if failures >= 3:
                    self.resource_version = None  # after repeated failures, start from a fresh list


def _rv(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class WatchCache:
    """``subscribe(client, "pods", callback)`` → :class:`Subscription`; one watcher per key, shared."""

    def __init__(
        self,
        *,
        timeout_seconds: int = 60,
        retry: RetryPolicy | None = None,
        linger: bool = True,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.retry = retry or RetryPolicy(max_attempts=0, base_delay=0.5, max_delay=15.0)
        self.linger = linger  # keep a watcher (and its cache) alive when its last subscriber leaves
        self._lock = threading.Lock()
        self._watchers: dict[tuple[str, str, str | None], _Watcher] = {}
        self._closed = False
        # Callbacks run on one dispatcher thread, never while a watcher holds its lock: a subscriber may
        # block (e.g. Textual's call_from_thread) without stalling watches or deadlocking subscribe().
        self._queue: queue.SimpleQueue[tuple[list[Subscription], WatchEvent] | None] = queue.SimpleQueue()
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="hks-watch-dispatch", daemon=True
        )
        self._dispatcher_started = False

    def _enqueue(self, subs: list[Subscription], event: WatchEvent) -> None:
        self._queue.put((subs, event))

    def _dispatch_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            subs, event = item
            for sub in subs:
                if not sub.active:
                    continue
                try:
                    sub.callback(event)
                except Exception:
                    log.exception("watch subscriber failed on %s %s", event.type, event.key)

    def subscribe(
        self, client: KubeClient, resource: str, callback: Callback, *, namespace: str | None = None
    ) -> Subscription:
        """Receive every event of ``resource`` (current contents first, then ``SYNCED``, then changes)."""
        key = (client.context, resource, namespace)
        with self._lock:
            if self._closed:
                raise HksError(f"Watch {resource}", "the console is shutting down")
            if not self._dispatcher_started:
                self._dispatcher.start()
                self._dispatcher_started = True
            watcher = self._watchers.get(key)
            new = watcher is None
            if watcher is None:
                watcher = _Watcher(
                    client=client,
                    resource=resource,
                    namespace=namespace,
                    timeout_seconds=self.timeout_seconds,
                    retry=self.retry,
                    on_idle=self._idle,
                    dispatch=self._enqueue,
                )
                self._watchers[key] = watcher
        sub = watcher.add(callback)
        if new:
            watcher.start()
        return sub

    def snapshot(
        self, context: str, resource: str, namespace: str | None = None
    ) -> dict[str, dict[str, Any]]:
        watcher = self._watchers.get((context, resource, namespace))
        if watcher is None:
            return {}
        with watcher.lock:
            return dict(watcher.objects)

    def stats(self, context: str, resource: str, namespace: str | None = None) -> WatchStats | None:
        watcher = self._watchers.get((context, resource, namespace))
        return watcher.stats if watcher else None

    @property
    def watcher_count(self) -> int:
        with self._lock:
            return len(self._watchers)

    def _idle(self, watcher: _Watcher) -> None:
        if self.linger:
            return
        with self._lock:
            key = (watcher.client.context, watcher.resource, watcher.namespace)
            if self._watchers.get(key) is watcher and not watcher.subscribers:
                del self._watchers[key]
            else:
                return
        watcher.stop()

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            watchers = list(self._watchers.values())
            self._watchers.clear()
        for watcher in watchers:
            watcher.stop_event.set()
            if watcher._watch is not None:
                watcher._watch.stop()
        for watcher in watchers:
            watcher.stop(timeout)
        self._queue.put(None)
        if self._dispatcher_started and self._dispatcher is not threading.current_thread():
            self._dispatcher.join(timeout)
