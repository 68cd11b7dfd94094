"""Data growth on database volumes: a running container whose log flavour is ``sql`` or ``redis``
(postgres, mysql, mariadb, redis, valkey images) writes ``GROWTH_BYTES_PER_MINUTE`` per lab minute into
each PVC it mounts read-write, up to ``MAX_FILL`` of the capacity. Stored in ``world.pvc_used_bytes``, where
the metrics exporter and the usage model read it (starting from the usage model's initial value)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.common import claims_of
from hks_tui.lab.usage import pvc_usage

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

GROWTH_BYTES_PER_MINUTE = 2 * 2**20
MAX_FILL = 0.98
DATABASE_FLAVOURS = ("sql", "redis")


def _read_only(pod: dict[str, Any], volume: str) -> bool:
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        if vol.get("name") == volume and (vol.get("persistentVolumeClaim") or {}).get("readOnly"):
            return True
    mounts = [
        m
        for c in (pod.get("spec") or {}).get("containers") or []
        for m in c.get("volumeMounts") or []
        if m.get("name") == volume
    ]
    return bool(mounts) and all(m.get("readOnly") for m in mounts)


def grow(world: LabWorld, cluster: KubeCluster, pod: dict[str, Any], seconds: float) -> None:
    """Add ``seconds`` worth of writes by a running database pod to the PVCs it mounts read-write."""
    if seconds <= 0:
        return
    for source_cluster, namespace, claim, volume in claims_of(world, cluster, pod):
        if _read_only(pod, volume):
            continue
        key = (source_cluster.name, namespace, claim)
        try:
            used, capacity = pvc_usage(world, *key)
        except KeyError:
            continue
        if capacity:
            world.pvc_used_bytes[key] = int(
                min(capacity * MAX_FILL, used + GROWTH_BYTES_PER_MINUTE * seconds / 60)
            )
