"""Backup pods: a run-to-completion pod whose image name contains ``backup`` (or that carries the label
``hks.io/backup``) copies its source PVCs into its target PVC.

* target: the volume named by the pod annotation ``hks.io/backup-target`` (a volume or claim name), else
  the volume whose name contains ``backup``, ``target`` or ``dest``, else the last PVC volume;
* sources: every other PVC volume; the backup size is the sum of their used bytes (at least 64 MiB);
* success grows ``world.pvc_used_bytes`` of the target by that size; when the target would exceed its
  capacity, or is already more than 95 % full, the run fails with ``No space left on device``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.common import annotations_of, claims_of, labels_of
from hks_tui.lab.usage import pvc_usage

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

MIN_BACKUP_BYTES = 64 * 2**20
FULL_RATIO = 0.95


def is_backup_pod(pod: dict[str, Any], flavour: str) -> bool:
    return flavour == "backup" or "hks.io/backup" in labels_of(pod)


def run_backup(
    world: LabWorld, cluster: KubeCluster, pod: dict[str, Any], flavour: str
) -> tuple[int, str | None]:
    """Apply a finished backup run to the world; returns (exit code, log line or None)."""
    if not is_backup_pod(pod, flavour):
        return 0, None
    claims = claims_of(world, cluster, pod)
    if not claims:
        return 0, None
    wanted = annotations_of(pod).get("hks.io/backup-target", "")
    target = next((c for c in claims if wanted and wanted in (c[2], c[3])), None)
    if target is None:
        target = next((c for c in claims if any(k in c[3] for k in ("backup", "target", "dest"))), claims[-1])
    size = 0
    for source in claims:
        if source is target:
            continue
        size += _usage(world, source[0].name, source[1], source[2])[0]
    size = max(size, MIN_BACKUP_BYTES)
    tcluster, tns, tclaim, _ = target
    used, capacity = _usage(world, tcluster.name, tns, tclaim)
    if capacity and (used > FULL_RATIO * capacity or used + size > capacity):
        return (
            1,
            f"tar: /backup/{pod['metadata'].get('name', 'backup')}.tar.gz: Cannot write: No space left on device",
        )
    world.pvc_used_bytes[(tcluster.name, tns, tclaim)] = used + size
    return 0, None


def _usage(world: LabWorld, cluster: str, namespace: str, claim: str) -> tuple[int, int]:
    try:
        return pvc_usage(world, cluster, namespace, claim)
    except KeyError:
        return 0, 0
