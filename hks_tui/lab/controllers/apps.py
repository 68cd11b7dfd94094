"""ReplicaSet → Pod controller and the helpers shared by the workload controllers (pod templates,
readiness, template hashes, int-or-percent values)."""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.common import (
    Recorder,
    condition,
    generate_suffix,
    is_deleting,
    name_of,
    ns_of,
    owned_by,
    owner_ref,
    parse_iso,
    safe_delete,
    set_condition,
    snapshot,
    stable_hash,
    write_status,
)
from hks_tui.lab.controllers.scheduler import is_terminal
from hks_tui.lab.kube.errors import ApiError

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

REVISION = "deployment.kubernetes.io/revision"


def pod_ready(pod: dict[str, Any]) -> bool:
    return (condition(pod, "Ready") or {}).get("status") == "True" and not is_deleting(pod)


def template_hash(template: dict[str, Any]) -> str:
    clean = copy.deepcopy(template)
    (clean.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    return stable_hash(clean, 10)


def resolve(value: Any, total: int, round_up: bool) -> int:
    """An int-or-percent (``"25%"``) against ``total``."""
    if isinstance(value, str) and value.endswith("%"):
        fraction = float(value[:-1]) * total / 100
        return math.ceil(fraction) if round_up else math.floor(fraction)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def create_pod_from_template(
    cluster: KubeCluster,
    recorder: Recorder,
    owner: dict[str, Any],
    template: dict[str, Any],
    name: str,
    extra_labels: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """Create one pod from a pod template; quota/admission refusals become a ``FailedCreate`` event."""
    tmeta = template.get("metadata") or {}
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns_of(owner),
            "labels": {**(tmeta.get("labels") or {}), **(extra_labels or {})},
            "ownerReferences": [owner_ref(owner)],
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
    }
    if tmeta.get("annotations"):
        pod["metadata"]["annotations"] = dict(tmeta["annotations"])
    controller = owner.get("kind", "ReplicaSet")
    component = {
        "ReplicaSet": "replicaset-controller",
        "StatefulSet": "statefulset-controller",
        "Job": "job-controller",
    }.get(controller, "controller-manager")
    try:
        created = cluster.store.create("pods", pod, ns_of(owner))
    except ApiError as exc:
        recorder.record(
            cluster,
            owner,
            "Warning",
            "FailedCreate",
            f"Error creating: {exc.message}",
            component,
            min_interval=30.0,
        )
        return None
    recorder.record(
        cluster, owner, "Normal", "SuccessfulCreate", f"Created pod: {name}", component, min_interval=0
    )
    return created


class ReplicaSetController:
    def __init__(self, world: LabWorld, cluster: KubeCluster, recorder: Recorder) -> None:
        self.world, self.cluster, self.recorder = world, cluster, recorder
        self._serial: dict[str, int] = {}

    def reconcile(self) -> None:
        store = self.cluster.store
        pods = [p for p in snapshot(store, "pods") if not is_terminal(p)]
        for rs in snapshot(store, "replicasets"):
            if is_deleting(rs):
                continue
            mine = owned_by(pods, rs)
            active = [p for p in mine if not is_deleting(p)]
            want = int((rs.get("spec") or {}).get("replicas", 1))
            failure = None
            if len(active) < want:
                taken = {name_of(p) for p in store.iter_objects("pods", ns_of(rs))}
                for _ in range(want - len(active)):
                    key = f"{self.cluster.name}/{ns_of(rs)}/{name_of(rs)}"
                    self._serial[key] = self._serial.get(key, 0) + 1
                    # deterministic for the same history (seeded worlds render the same pod names every run)
                    name = generate_suffix(f"{key}/{self._serial[key]}", taken, f"{name_of(rs)}-")
                    taken.add(name)
                    if (
                        create_pod_from_template(
                            self.cluster, self.recorder, rs, rs["spec"]["template"], name
                        )
                        is None
                    ):
                        failure = "pods creation failed (see events)"
                        break
            elif len(active) > want:
                # delete unscheduled, then not-ready, then newest pods first (like the real controller)
                def rank(p: dict[str, Any]) -> tuple[int, int, float]:
                    return (
                        0 if not p["spec"].get("nodeName") else 1,
                        1 if pod_ready(p) else 0,
                        -(parse_iso(p["metadata"].get("creationTimestamp")) or 0),
                    )

                ordered = sorted(active, key=rank)
                victims, active = ordered[: len(active) - want], ordered[len(active) - want :]
                for victim in victims:
                    if safe_delete(store, "pods", name_of(victim), ns_of(victim)):
                        self.recorder.record(
                            self.cluster,
                            rs,
                            "Normal",
                            "SuccessfulDelete",
                            f"Deleted pod: {name_of(victim)}",
                            "replicaset-controller",
                            min_interval=0,
                        )
            ready = sum(1 for p in active if pod_ready(p))
            status: dict[str, Any] = {
                "replicas": len(active),
                "fullyLabeledReplicas": len(active),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": rs["metadata"].get("generation", 1),
            }
            conds = (rs.get("status") or {}).get("conditions") or []
            if failure:
                conds = set_condition(
                    conds, "ReplicaFailure", "True", self.world.clock.iso(), "FailedCreate", failure
                )
            elif len(active) >= want:
                conds = [c for c in conds if c.get("type") != "ReplicaFailure"]
            if conds:
                status["conditions"] = conds
            for key in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
                if not status[key]:
                    del status[key]
            write_status(store, "replicasets", rs, status)
