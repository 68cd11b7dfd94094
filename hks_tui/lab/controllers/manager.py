"""Runs every lab controller on the lab's event loop: woken by store listeners (any committed change
except Events) and by a periodic tick on the lab clock; each pass is idempotent and writes only what
changed, so an idle world is quiescent. Tests drive :meth:`LabControllers.reconcile` directly."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Protocol

from hks_tui.lab.controllers.apps import ReplicaSetController
from hks_tui.lab.controllers.batch import CronJobController, JobController, install_cron_admission
from hks_tui.lab.controllers.common import Recorder, name_of, ns_of, parse_iso, safe_delete, snapshot
from hks_tui.lab.controllers.deployment import DeploymentController
from hks_tui.lab.controllers.endpoints import EndpointsController
from hks_tui.lab.controllers.join import process_pending_joins
from hks_tui.lab.controllers.kubelet import Kubelet
from hks_tui.lab.controllers.nodes import NodeLifecycle
from hks_tui.lab.controllers.podsched import PodScheduler
from hks_tui.lab.controllers.quota import install_quota_admission, refresh_quota_status
from hks_tui.lab.controllers.resize import install_pvc_admission
from hks_tui.lab.controllers.statefulset import StatefulSetController
from hks_tui.lab.controllers.storage import VolumeController
from hks_tui.lab.controllers.vcluster import VClusterSync

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

log = logging.getLogger(__name__)
TICK_LAB_SECONDS = 1.0
MIN_TICK_REAL, MAX_TICK_REAL = 0.1, 1.0
EVENT_TTL = 3600.0  # lab seconds (the apiserver's --event-ttl default is 1h)


class Controller(Protocol):
    def reconcile(self) -> None: ...


class _Quota:
    def __init__(self, cluster: KubeCluster) -> None:
        self.cluster = cluster

    def reconcile(self) -> None:
        refresh_quota_status(self.cluster)


class LabControllers:
    def __init__(self, world: LabWorld) -> None:
        self.world = world
        self.recorder = Recorder(world)
        self.nodes = NodeLifecycle(world, self.recorder)
        self.vsync = VClusterSync(world, self.recorder)
        self.per_cluster: dict[str, list[Controller]] = {}
        self.kubelets: dict[str, Kubelet] = {}
        self.scheduler: PodScheduler | None = None
        self._wake: asyncio.Event | None = None
        self.passes = 0
        self._last_event_gc = world.clock.now()
        self.ensure_clusters()

    def ensure_clusters(self) -> None:
        """Attach controllers, admission and listeners to clusters added since the last pass."""
        for name, cluster in self.world.clusters.items():
            if name in self.per_cluster:
                continue
            install_quota_admission(cluster)
            install_pvc_admission(cluster)
            install_cron_admission(cluster)
            cluster.store.add_listener(self._on_change)
            if cluster.kind == "host":
                cluster.store.add_listener(self._on_host_change)
            ctls: list[Controller] = [
                VolumeController(self.world, cluster, self.recorder),
                DeploymentController(self.world, cluster, self.recorder),
                ReplicaSetController(self.world, cluster, self.recorder),
                StatefulSetController(self.world, cluster, self.recorder),
                CronJobController(self.world, cluster, self.recorder),
                JobController(self.world, cluster, self.recorder),
            ]
            if cluster.kind == "host":
                self.scheduler = PodScheduler(self.world, cluster, self.recorder)
                ctls.append(self.scheduler)
                kubelet = Kubelet(self.world, cluster, self.recorder)
                self.kubelets[name] = kubelet
                ctls.append(kubelet)
            ctls.append(EndpointsController(cluster))
            ctls.append(_Quota(cluster))
            self.per_cluster[name] = ctls

    def _on_change(self, event_type: str, resource: str, obj: dict[str, Any]) -> None:
        if resource != "events" and self._wake is not None:
            self._wake.set()

    def _on_host_change(self, event_type: str, resource: str, obj: dict[str, Any]) -> None:
        if self.scheduler is not None and (
            resource == "nodes" or (resource == "pods" and event_type == "DELETED")
        ):
            self.scheduler.requeue()  # like kube-scheduler: cluster events move unschedulable pods back
        if event_type == "DELETED" and resource == "pods" and (obj.get("spec") or {}).get("nodeName"):
            kubelet = self.kubelets.get("host")
            if kubelet is not None:
                kubelet.deleted.append(obj)

    def _version(self) -> int:
        return sum(c.store.resource_version for c in self.world.clusters.values())

    def gc_events(self) -> None:
        """Events expire after EVENT_TTL lab seconds, like the apiserver's event TTL (checked once a minute)."""
        now = self.world.clock.now()
        if now - self._last_event_gc < 60.0:
            return
        self._last_event_gc = now
        for cluster in self.world.clusters.values():
            for event in snapshot(cluster.store, "events"):
                stamp = parse_iso(event.get("lastTimestamp")) or parse_iso(
                    event["metadata"].get("creationTimestamp")
                )
                if stamp is not None and now - stamp > EVENT_TTL:
                    safe_delete(cluster.store, "events", name_of(event), ns_of(event))

    def reconcile_pass(self) -> None:
        self.ensure_clusters()
        self.gc_events()
        self.passes += 1
        process_pending_joins(self.world)
        if "host" in self.world.clusters:
            self.nodes.reconcile()
        self.vsync.reconcile()
        for name in list(self.per_cluster):
            if name not in self.world.clusters:
                del self.per_cluster[name]
                continue
            for ctl in self.per_cluster[name]:
                try:
                    ctl.reconcile()
                except Exception:  # one broken object must not stop the world
                    log.exception("controller %s failed on cluster %s", type(ctl).__name__, name)
        self.vsync.reconcile()

    def reconcile(self, max_passes: int = 25) -> int:
        """Run passes until nothing changes (or ``max_passes``); returns the number of passes run."""
        for n in range(1, max_passes + 1):
            before = self._version()
            self.reconcile_pass()
            if self._version() == before:
                return n
        return max_passes

    async def run(self) -> None:
        self._wake = asyncio.Event()
        clock = self.world.clock
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            try:
                self.reconcile(max_passes=5)
            except Exception:
                log.exception("lab controllers pass failed")
            tick = min(MAX_TICK_REAL, max(MIN_TICK_REAL, clock.real_seconds(TICK_LAB_SECONDS)))
            # not asyncio.wait_for: on Python 3.11 it can turn a cancellation into a TimeoutError
            timer = loop.call_later(tick, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
            await asyncio.sleep(
                MIN_TICK_REAL / 2
            )  # coalesce bursts of changes (e.g. a client creating many objects)
