"""The Application list from raw object lists, and a live version fed by the shared watch cache.

:func:`build_rows` is pure. :class:`AppListWatch` subscribes to the workloads, pods, Services, Ingresses
and Jobs of a namespace (or all) through :class:`~hks_tui.services.watch_cache.WatchCache` — one
list+watch per resource however many screens look — and calls ``on_rows(rows)`` (on its own flush
thread, coalesced to at most one call per ``interval``) whenever something changed.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hks_tui.manifests.labels import MANAGED_BY, MANAGER, NAME
from hks_tui.workflows.apps.state import AppRow, app_name_of, app_row, is_managed, meta

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient
    from hks_tui.services.watch_cache import Subscription, WatchCache, WatchEvent

log = logging.getLogger(__name__)

RESOURCES = ("deployments", "statefulsets", "pods", "services", "ingresses", "jobs")


def build_rows(
    deployments: Sequence[dict[str, Any]],
    statefulsets: Sequence[dict[str, Any]],
    pods: Sequence[dict[str, Any]],
    services: Sequence[dict[str, Any]],
    ingresses: Sequence[dict[str, Any]],
    jobs: Sequence[dict[str, Any]] = (),
) -> list[AppRow]:
    """One row per Deployment/StatefulSet (managed or external) and per Git build without a workload."""
    by_app: dict[tuple[str, str, str], dict[str, Any]] = {}
    for items, kind in ((services, "Service"), (ingresses, "Ingress")):
        for obj in items:
            if is_managed(obj):
                by_app[(str(meta(obj).get("namespace")), app_name_of(obj), kind)] = obj
    pods_by_ns: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pod in pods:
        pods_by_ns[str(meta(pod).get("namespace"))].append(pod)
    rows: list[AppRow] = []
    have: set[tuple[str, str]] = set()
    for items, kind in ((deployments, "Deployment"), (statefulsets, "StatefulSet")):
        for wl in items:
            ns, app = str(meta(wl).get("namespace")), app_name_of(wl)
            managed = is_managed(wl)
            svc = by_app.get((ns, app, "Service")) if managed else None
            ing = by_app.get((ns, app, "Ingress")) if managed else None
            rows.append(app_row(wl, kind, pods_by_ns.get(ns, []), svc, ing))
            have.add((ns, app))
    for job in jobs:  # a Git build in progress before the app's workload exists
        labels = meta(job).get("labels") or {}
        ns, app = str(meta(job).get("namespace")), str(labels.get(NAME, ""))
        building = labels.get(MANAGED_BY) == MANAGER and labels.get("app.kubernetes.io/component") == "build"
        if building and app and (ns, app) not in have and not (job.get("status") or {}).get("succeeded"):
            rows.append(AppRow(app, ns, "Job", "Stateless", "Building", 0, 0, [], "", "", 0, True))
            have.add((ns, app))
    return sorted(rows, key=lambda r: (r.namespace, r.name, r.kind))


class AppListWatch:
    """Live app rows: ``on_rows(rows)`` after every change (coalesced); ``stop()`` unsubscribes."""

    def __init__(
        self,
        cache: WatchCache,
        kube: KubeClient,
        on_rows: Callable[[list[AppRow]], None],
        *,
        namespace: str | None = None,
        interval: float = 0.2,
    ) -> None:
        self.cache = cache
        self.kube = kube
        self.namespace = namespace
        self.on_rows = on_rows
        self.interval = interval
        self.rows: list[AppRow] = []
        self._synced: set[str] = set()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._subs: list[Subscription] = []
        self._thread = threading.Thread(target=self._flush_loop, name="hks-apps-live", daemon=True)

    def start(self) -> AppListWatch:
        self._thread.start()
        for resource in RESOURCES:
            self._subs.append(
                self.cache.subscribe(
                    self.kube,
                    resource,
                    functools.partial(self._on_event, resource),
                    namespace=self.namespace,
                )
            )
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._dirty.set()
        for sub in self._subs:
            sub.unsubscribe()
        self._subs.clear()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def synced(self) -> bool:
        return self._synced >= set(RESOURCES)

    def _on_event(self, resource: str, event: WatchEvent) -> None:
        if event.type == "SYNCED":
            self._synced.add(resource)
        if self.synced:
            self._dirty.set()

    def _snapshot(self, resource: str) -> list[dict[str, Any]]:
        return list(self.cache.snapshot(self.kube.context, resource, self.namespace).values())

    def _flush_loop(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait()
            if self._stop.is_set():
                return
            self._dirty.clear()
            try:
                self.rows = build_rows(*(self._snapshot(r) for r in RESOURCES))
                self.on_rows(list(self.rows))
            except Exception:
                log.exception("app list refresh failed")
            self._stop.wait(self.interval)
