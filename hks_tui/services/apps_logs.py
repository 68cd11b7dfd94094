"""Aggregated log follow of all the pods of an app, following pods that come and go during a rollout.

A dedicated thread lists and then watches the app's pods (label selector, from the list's
resourceVersion; a 410 re-lists). Each pod whose container has started gets its own
:class:`~hks_tui.services.streams.LogFollower`; a deleted pod's follower is stopped. The overall stream
state is honest: ``live`` (the pod watch is up and every follower is live), ``reconnecting`` (the watch
or a follower lost its connection: lines may be missing), ``stalled`` (a follower got no byte for its
stall window), ``ended`` (stopped, or no pods and ``stop_when_empty``).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hks_tui.clients.errors import ExpiredError, HksError
from hks_tui.clients.streams import StreamHandle
from hks_tui.services import streams

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient

log = logging.getLogger(__name__)

LIVE, RECONNECTING, STALLED, ENDED, CONNECTING = "live", "reconnecting", "stalled", "ended", "connecting"


def _started(pod: dict[str, Any]) -> bool:
    """A container has run (logs exist) and the pod is not being deleted."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        state = cs.get("state") or {}
        if state.get("running") or state.get("terminated") or cs.get("restartCount"):
            return True
    return False


class AppLogStream:
    """``on_line(pod, line)`` and ``on_state(state, detail)`` are called from stream threads."""

    def __init__(
        self,
        kube: KubeClient,
        namespace: str,
        selector: str,
        on_line: Callable[[str, str], None],
        on_state: Callable[[str, str], None] | None = None,
        *,
        tail_lines: int = 10,
        container: str | None = None,
        stall_after: float = 60.0,
        watch_timeout: int = 30,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.selector = selector
        self.on_line = on_line
        self.on_state = on_state or (lambda state, detail: None)
        self.tail_lines = tail_lines
        self.container = container
        self.stall_after = stall_after
        self.watch_timeout = watch_timeout
        self.state = CONNECTING
        self.detail = ""
        self.followers: dict[str, streams.LogFollower] = {}
        self.seen: list[str] = []  # every pod followed, in order
        self._pod_states: dict[str, str] = {}
        self._watch_ok = False
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._handle: StreamHandle | None = None
        self._thread = threading.Thread(target=self._run, name=f"hks-applog-{namespace}", daemon=True)

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> AppLogStream:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        handle = self._handle
        if handle is not None:
            handle.stop()
        with self._lock:
            followers = list(self.followers.values())
            self.followers.clear()
        for follower in followers:
            follower.stop(timeout)
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._publish(ENDED, "stopped")

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- state ---------------------------------------------------------------------------------------
    def _publish(self, state: str, detail: str) -> None:
        with self._lock:
            if (state, detail) == (self.state, self.detail):
                return
            self.state, self.detail = state, detail
        try:
            self.on_state(state, detail)
        except Exception:
            log.exception("app log state callback failed")

    def _recompute(self) -> None:
        if self._stop.is_set():
            return
        with self._lock:
            if not self._watch_ok:
                return self._publish(RECONNECTING, "pod watch reconnecting; pods may be missed")
            states = {pod: self._pod_states.get(pod, streams.CONNECTING) for pod in self.followers}
        stalled = sorted(p for p, s in states.items() if s == streams.STALLED)
        lost = sorted(p for p, s in states.items() if s == streams.RECONNECTING)
        if stalled:
            self._publish(STALLED, f"no output from {', '.join(stalled)}")
        elif lost:
            self._publish(RECONNECTING, f"reconnecting to {', '.join(lost)}; lines may be missing")
        else:
            self._publish(LIVE, f"{len(states)} pod(s)")

    def _pod_state(self, pod: str, state: str, detail: str) -> None:
        with self._lock:
            self._pod_states[pod] = state
        self._recompute()

    # -- pods ----------------------------------------------------------------------------------------
    def _follow(self, pod: dict[str, Any]) -> None:
        name = str(pod["metadata"]["name"])
        with self._lock:
            if name in self.followers or self._stop.is_set() or not _started(pod):
                return
            follower = streams.LogFollower(
                self.kube,
                name,
                self.namespace,
                functools.partial(self.on_line, name),
                functools.partial(self._pod_state, name),
                container=self.container,
                tail_lines=self.tail_lines if name not in self.seen else 0,
                stall_after=self.stall_after,
            )
            self.followers[name] = follower
            if name not in self.seen:
                self.seen.append(name)
        follower.start()

    def _forget(self, name: str) -> None:
        with self._lock:
            follower = self.followers.pop(name, None)
            self._pod_states.pop(name, None)
        if follower is not None:
            follower.stop(timeout=0.5)
        self._recompute()

    def _sync(self, pods: list[dict[str, Any]]) -> None:
        names = {str(p["metadata"]["name"]) for p in pods}
        for gone in [n for n in list(self.followers) if n not in names]:
            self._forget(gone)
        for pod in pods:
            self._follow(pod)

    # -- the watch thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                listed = self.kube.list_raw("pods", namespace=self.namespace, label_selector=self.selector)
                with self._lock:
                    self._watch_ok = True
                self._sync(list(listed.get("items") or []))
                self._recompute()
                rv = str((listed.get("metadata") or {}).get("resourceVersion") or "")
                failures = 0
                while not self._stop.is_set():
                    rv = self._watch_once(rv)
            except ExpiredError:
                continue  # re-list
            except HksError as err:
                if self._stop.is_set():
                    break
                failures += 1
                with self._lock:
                    self._watch_ok = False
                self._publish(RECONNECTING, f"pod watch: {err.why or err}; pods may be missed")
                if self._stop.wait(min(0.5 * 2 ** min(failures, 5), 10.0)):
                    break

    def _watch_once(self, rv: str) -> str:
        handle = StreamHandle()
        self._handle = handle
        try:
            for event in self.kube.watch_stream(
                "pods",
                namespace=self.namespace,
                resource_version=rv,
                timeout_seconds=self.watch_timeout,
                handle=handle,
                label_selector=self.selector,
            ):
                obj = event.get("object") or {}
                rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                kind = event.get("type")
                if kind == "BOOKMARK":
                    continue
                name = str((obj.get("metadata") or {}).get("name", ""))
                if kind == "DELETED" or (obj.get("metadata") or {}).get("deletionTimestamp"):
                    self._forget(name)
                else:
                    self._follow(obj)
        finally:
            self._handle = None
        return rv
