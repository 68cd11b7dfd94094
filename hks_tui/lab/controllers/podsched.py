"""Binds pending pods to nodes with :func:`hks_tui.lab.controllers.scheduler.schedule`, writing the
``PodScheduled`` condition and the ``Scheduled`` / ``FailedScheduling`` events like kube-scheduler.
Volume rules: a missing PVC or an unbound PVC whose StorageClass binds ``Immediate`` keeps the pod
Pending; a bound PVC restricts nodes to its PV's ``nodeAffinity``; an unbound ``WaitForFirstConsumer``
PVC gets the ``volume.kubernetes.io/selected-node`` annotation once the pod is bound."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.common import (
    Recorder,
    claims_of,
    is_deleting,
    name_of,
    ns_of,
    patch_merge,
    peek,
    set_condition,
    snapshot,
    uid_of,
    write_status,
)
from hks_tui.lab.controllers.scheduler import Usage, node_selector_terms_match, schedule
from hks_tui.lab.kube.errors import ApiError

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

SELECTED_NODE = "volume.kubernetes.io/selected-node"
RETRY_SECONDS = 2.0  # first back-off (lab seconds) before an unschedulable pod is tried again; doubles to 30


def storage_class_of(cluster: KubeCluster, pvc: dict[str, Any]) -> dict[str, Any] | None:
    name = (pvc.get("spec") or {}).get("storageClassName")
    if name == "":
        return None
    if name:
        return peek(cluster.store, "storageclasses", name)
    for sc in cluster.store.iter_objects("storageclasses"):
        if ((sc.get("metadata") or {}).get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        ) == "true":
            return dict(sc)
    return None


class PodScheduler:
    def __init__(self, world: LabWorld, cluster: KubeCluster, recorder: Recorder) -> None:
        self.world, self.cluster, self.recorder = world, cluster, recorder
        self._retry_at: dict[str, float] = {}  # unschedulable pods are retried after a back-off
        self._attempts: dict[str, int] = {}

    def reconcile(self) -> None:
        store = self.cluster.store
        now = self.world.clock.now()
        pending = [
            p
            for p in store.iter_objects("pods")
            if not (p.get("spec") or {}).get("nodeName")
            and not is_deleting(p)
            and (p.get("status") or {}).get("phase", "Pending") == "Pending"
            and (p.get("spec") or {}).get("schedulerName", "default-scheduler") == "default-scheduler"
            and self._retry_at.get(uid_of(p), 0.0) <= now
        ]
        live = {uid_of(p) for p in store.iter_objects("pods")}
        self._retry_at = {uid: at for uid, at in self._retry_at.items() if uid in live}
        self._attempts = {uid: n for uid, n in self._attempts.items() if uid in live}
        if not pending:
            return
        nodes = snapshot(store, "nodes")
        usage = Usage(store.iter_objects("pods"))
        for pod in pending:
            problem = self._volume_problem(pod)
            if problem:
                self._backoff(pod, now)
                self._unschedulable(
                    pod,
                    f"0/{len(nodes)} nodes are available: {problem}. preemption: 0/{len(nodes)} "
                    f"nodes are available: {len(nodes)} Preemption is not helpful for scheduling.",
                )
                continue
            decision = schedule(pod, nodes, usage, self._volume_fits)
            if decision.node is None:
                self._backoff(pod, now)
                self._unschedulable(pod, decision.message)
                continue
            bound = self._bind(pod, decision.node)
            if bound is not None:
                usage.add(decision.node, bound)

    def requeue(self) -> None:
        """Retry every unschedulable pod on the next pass (a node or the set of pods changed)."""
        self._retry_at.clear()

    def _backoff(self, pod: dict[str, Any], now: float) -> None:
        uid = uid_of(pod)
        self._attempts[uid] = self._attempts.get(uid, 0) + 1
        self._retry_at[uid] = now + min(30.0, RETRY_SECONDS * 2 ** (self._attempts[uid] - 1))

    def _volume_problem(self, pod: dict[str, Any]) -> str | None:
        for vcluster, namespace, claim, _vol in claims_of(self.world, self.cluster, pod):
            pvc = peek(vcluster.store, "persistentvolumeclaims", claim, namespace)
            if pvc is None:
                return f'persistentvolumeclaim "{claim}" not found'
            if (pvc.get("status") or {}).get("phase") == "Bound":
                continue
            sc = storage_class_of(vcluster, pvc)
            if sc is None or sc.get("volumeBindingMode", "Immediate") != "WaitForFirstConsumer":
                return "pod has unbound immediate PersistentVolumeClaims"
        return None

    def _volume_fits(self, pod: dict[str, Any], node: dict[str, Any]) -> bool:
        for vcluster, namespace, claim, _vol in claims_of(self.world, self.cluster, pod):
            pvc = peek(vcluster.store, "persistentvolumeclaims", claim, namespace)
            if pvc is None:
                return False
            volume = (pvc.get("spec") or {}).get("volumeName")
            if (pvc.get("status") or {}).get("phase") == "Bound" and volume:
                pv = peek(vcluster.store, "persistentvolumes", volume)
                terms = (
                    (((pv or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}
                ).get("nodeSelectorTerms") or []
                if terms and not node_selector_terms_match(terms, node):
                    return False
                continue
            sc = storage_class_of(vcluster, pvc) or {}
            allowed = sc.get("allowedTopologies") or []
            if allowed:
                terms = [
                    {
                        "matchExpressions": [
                            {"key": e.get("key"), "operator": "In", "values": e.get("values") or []}
                            for e in t.get("matchLabelExpressions") or []
                        ]
                    }
                    for t in allowed
                ]
                if not node_selector_terms_match(terms, node):
                    return False
            if sc.get("provisioner") == "csi.proxmox.sinextra.dev" and not (node.get("spec") or {}).get(
                "providerID"
            ):
                return False
        return True

    def _unschedulable(self, pod: dict[str, Any], message: str) -> None:
        status = dict(pod.get("status") or {})
        status["phase"] = "Pending"
        status["conditions"] = set_condition(
            status.get("conditions") or [],
            "PodScheduled",
            "False",
            self.world.clock.iso(),
            "Unschedulable",
            message,
            probe=True,
        )
        write_status(self.cluster.store, "pods", pod, status)
        self.recorder.record(
            self.cluster, pod, "Warning", "FailedScheduling", message, "default-scheduler", min_interval=60.0
        )

    def _bind(self, pod: dict[str, Any], node: str) -> dict[str, Any] | None:
        try:
            bound = self.cluster.store.patch(
                "pods", name_of(pod), ns_of(pod), {"spec": {"nodeName": node}}, "merge"
            )
        except ApiError:
            return None
        status = dict(bound.get("status") or {})
        status["conditions"] = set_condition(
            status.get("conditions") or [], "PodScheduled", "True", self.world.clock.iso(), probe=True
        )
        write_status(self.cluster.store, "pods", bound, status)
        self.recorder.record(
            self.cluster,
            bound,
            "Normal",
            "Scheduled",
            f"Successfully assigned {ns_of(pod)}/{name_of(pod)} to {node}",
            "default-scheduler",
        )
        for vcluster, namespace, claim, _vol in claims_of(self.world, self.cluster, bound):
            pvc = peek(vcluster.store, "persistentvolumeclaims", claim, namespace)
            if (
                pvc is not None
                and (pvc.get("status") or {}).get("phase") != "Bound"
                and not ((pvc.get("metadata") or {}).get("annotations") or {}).get(SELECTED_NODE)
            ):
                patch_merge(
                    vcluster.store,
                    "persistentvolumeclaims",
                    pvc,
                    {"metadata": {"annotations": {SELECTED_NODE: node}}},
                )
        return bound
