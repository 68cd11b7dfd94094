"""Pod status as the kubelet reports it, and the per-pod run state the lab's kubelet keeps."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.behaviour import Behaviour, full_image
from hks_tui.lab.controllers.common import hex_hash, set_condition, uid_of

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld


def backoff(attempt: int) -> float:
    """The kubelet's restart/pull back-off: 10 s doubling, capped at 300 s."""
    return float(min(300, 10 * 2 ** max(0, attempt - 1)))


@dataclass
class ContainerRun:
    name: str
    image: str
    beh: Behaviour
    state: str = "waiting"  # waiting | running | terminated
    reason: str = "ContainerCreating"
    message: str | None = None
    next_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    exit_code: int = 0
    restarts: int = 0
    pull_attempts: int = 0
    pulled: bool = False
    ready_at: float | None = None
    last_term: dict[str, Any] | None = None
    next_log: float = 0.0
    grown_at: float | None = None  # last time database writes were added to its volumes
    seq: int = 0


@dataclass
class PodRun:
    bound_at: float
    node: str
    containers: list[ContainerRun] = field(default_factory=list)
    init: list[ContainerRun] = field(default_factory=list)
    mirror: tuple[KubeCluster, str, str] | None = None  # the vCluster pod this host pod mirrors
    mirror_checked: bool = False
    boot: float | None = None  # started_at of the node's VM when the containers were started


def terminated_state(world: LabWorld, pod: dict[str, Any], c: ContainerRun) -> dict[str, Any]:
    iso = world.clock.iso
    return {
        "terminated": {
            "exitCode": c.exit_code,
            "reason": c.reason,
            "startedAt": iso(c.started_at) if c.started_at else None,
            "finishedAt": iso(c.finished_at) if c.finished_at else None,
            "containerID": container_id(pod, c),
        }
    }


def container_id(pod: dict[str, Any], c: ContainerRun) -> str:
    return "containerd://" + hex_hash(f"{uid_of(pod)}/{c.name}/{c.restarts}")


def unready_status(world: LabWorld, pod: dict[str, Any]) -> dict[str, Any] | None:
    """The status of a pod whose node stopped reporting: Ready/ContainersReady False (None: unchanged)."""
    status = dict(pod.get("status") or {})
    conditions = status.get("conditions") or []
    if not conditions:
        return None
    iso = world.clock.iso()
    for ctype in ("Ready", "ContainersReady"):
        current = next((c for c in conditions if c.get("type") == ctype), None)
        if current is not None and current.get("status") == "True":
            conditions = set_condition(
                conditions,
                ctype,
                "False",
                iso,
                "NodeNotReady" if ctype == "Ready" else None,
                None,
                probe=True,
            )
    status["conditions"] = conditions
    return status


def container_status(world: LabWorld, pod: dict[str, Any], c: ContainerRun, now: float) -> dict[str, Any]:
    """One ``containerStatuses`` / ``initContainerStatuses`` entry."""
    iso = world.clock.iso
    ready = c.state == "running" and c.ready_at is not None and now >= c.ready_at and not c.beh.crashes
    if c.state == "terminated" and c.exit_code == 0 and c.reason == "Completed":
        ready = False
    entry: dict[str, Any] = {
        "name": c.name,
        "image": c.image,
        "imageID": "",
        "ready": ready,
        "restartCount": c.restarts,
        "started": c.state == "running",
        "lastState": c.last_term or {},
    }
    if c.pulled:
        entry["imageID"] = full_image(c.image).rsplit(":", 1)[0] + "@sha256:" + hex_hash(c.image)
    if c.state == "running":
        entry["state"] = {"running": {"startedAt": iso(c.started_at)}}
        entry["containerID"] = container_id(pod, c)
    elif c.state == "terminated":
        entry["state"] = terminated_state(world, pod, c)
        entry["containerID"] = container_id(pod, c)
    else:
        waiting: dict[str, Any] = {"reason": c.reason}
        if c.message:
            waiting["message"] = c.message
        entry["state"] = {"waiting": waiting}
        if c.restarts:
            entry["containerID"] = container_id(pod, c)
    return entry


def pod_status(world: LabWorld, pod: dict[str, Any], run: PodRun, node: dict[str, Any]) -> dict[str, Any]:
    now = world.clock.now()
    iso = world.clock.iso
    old = pod.get("status") or {}
    policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
    statuses = [container_status(world, pod, c, now) for c in run.containers]
    init_statuses = [container_status(world, pod, c, now) for c in run.init]
    all_ready = bool(statuses) and all(s["ready"] for s in statuses)
    terminated = [c for c in run.containers if c.state == "terminated"]
    phase = "Pending"
    init_pending = [c.name for c in run.init if not (c.state == "terminated" and c.exit_code == 0)]
    init_failed = policy == "Never" and any(c.state == "terminated" and c.exit_code != 0 for c in run.init)
    if init_failed:
        phase = "Failed"
    elif run.containers and len(terminated) == len(run.containers) and policy != "Always":
        phase = "Succeeded" if all(c.exit_code == 0 for c in terminated) else "Failed"
    elif any(c.started_at is not None for c in run.containers):
        phase = "Running"
    stamp = iso(now)
    conds = list(old.get("conditions") or [])
    conds = set_condition(conds, "PodReadyToStartContainers", "True", stamp, probe=True)
    if init_pending:
        conds = set_condition(
            conds,
            "Initialized",
            "False",
            stamp,
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(init_pending)}]",
            probe=True,
        )
    else:
        conds = set_condition(conds, "Initialized", "True", stamp, probe=True)
    if phase in ("Succeeded", "Failed"):
        conds = set_condition(conds, "Ready", "False", stamp, "PodCompleted", None, probe=True)
        conds = set_condition(conds, "ContainersReady", "False", stamp, "PodCompleted", None, probe=True)
    else:
        not_ready = [s["name"] for s in statuses if not s["ready"]]
        msg = f"containers with unready status: [{' '.join(not_ready)}]" if not_ready else None
        conds = set_condition(
            conds,
            "Ready",
            "True" if all_ready else "False",
            stamp,
            None if all_ready else "ContainersNotReady",
            msg,
            probe=True,
        )
        conds = set_condition(
            conds,
            "ContainersReady",
            "True" if all_ready else "False",
            stamp,
            None if all_ready else "ContainersNotReady",
            msg,
            probe=True,
        )
    conds = set_condition(conds, "PodScheduled", "True", stamp, probe=True)
    order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    conds.sort(key=lambda c: order.index(c["type"]) if c["type"] in order else 99)
    status = dict(old)
    host_ip = next(
        (
            a.get("address")
            for a in (node.get("status") or {}).get("addresses") or []
            if a.get("type") == "InternalIP"
        ),
        None,
    )
    ip = pod_ip(pod, node)
    status.update(
        {
            "phase": phase,
            "conditions": conds,
            "containerStatuses": statuses,
            **({"initContainerStatuses": init_statuses} if init_statuses else {}),
            "startTime": iso(run.bound_at),
            "podIP": ip,
            "podIPs": [{"ip": ip}],
        }
    )
    if host_ip:
        status["hostIP"] = host_ip
        status["hostIPs"] = [{"ip": host_ip}]
    return status


def pod_ip(pod: dict[str, Any], node: dict[str, Any]) -> str:
    cidr = str((node.get("spec") or {}).get("podCIDR") or "10.42.0.0/24")
    base = cidr.split("/", 1)[0].rsplit(".", 1)[0]
    return f"{base}.{2 + zlib.crc32(uid_of(pod).encode()) % 250}"
