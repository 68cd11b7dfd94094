"""Deployment controller: one ReplicaSet per pod-template hash, rolling updates honouring
maxSurge/maxUnavailable (or ``Recreate``), scaling, revision history and status/conditions as the real
deployment controller writes them."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.apps import REVISION, resolve, template_hash
from hks_tui.lab.controllers.common import (
    Recorder,
    condition,
    is_deleting,
    name_of,
    ns_of,
    owned_by,
    owner_ref,
    parse_iso,
    safe_delete,
    set_condition,
    snapshot,
    write_status,
)
from hks_tui.lab.kube.errors import ApiError

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld


class DeploymentController:
    def __init__(self, world: LabWorld, cluster: KubeCluster, recorder: Recorder) -> None:
        self.world, self.cluster, self.recorder = world, cluster, recorder

    def reconcile(self) -> None:
        store = self.cluster.store
        all_rs = snapshot(store, "replicasets")
        for deploy in snapshot(store, "deployments"):
            if not is_deleting(deploy):
                self._sync(deploy, owned_by(all_rs, deploy))

    def _scale(self, rs: dict[str, Any], replicas: int, deploy: dict[str, Any]) -> None:
        if int(rs["spec"].get("replicas", 0)) == replicas:
            return
        old = int(rs["spec"].get("replicas", 0))
        self.cluster.store.patch(
            "replicasets", name_of(rs), ns_of(rs), {"spec": {"replicas": replicas}}, "merge"
        )
        rs["spec"]["replicas"] = replicas
        verb = "up" if replicas > old else "down"
        self.recorder.record(
            self.cluster,
            deploy,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {name_of(rs)} from {old} to {replicas}",
            "deployment-controller",
            min_interval=0,
        )

    def _sync(self, deploy: dict[str, Any], owned: list[dict[str, Any]]) -> None:
        store = self.cluster.store
        owned = [{**rs, "spec": dict(rs["spec"])} for rs in owned]  # _scale updates spec.replicas locally
        spec = deploy["spec"]
        want = int(spec.get("replicas", 1))
        template = copy.deepcopy(spec["template"])
        thash = template_hash(template)
        new_rs = next(
            (rs for rs in owned if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == thash),
            None,
        )
        olds = [rs for rs in owned if rs is not new_rs]
        revisions = [int((rs["metadata"].get("annotations") or {}).get(REVISION, "0") or 0) for rs in owned]
        revision = str(max(revisions, default=0) + (0 if new_rs is not None else 1))
        if new_rs is not None:
            revision = (new_rs["metadata"].get("annotations") or {}).get(REVISION, revision)
            newest = max(
                (int((rs["metadata"].get("annotations") or {}).get(REVISION, "0") or 0) for rs in olds),
                default=0,
            )
            if (
                int(revision or 0) < newest
            ):  # a rollback: the old template's ReplicaSet becomes the newest revision
                revision = str(newest + 1)
                store.patch(
                    "replicasets",
                    name_of(new_rs),
                    ns_of(new_rs),
                    {"metadata": {"annotations": {REVISION: revision}}},
                    "merge",
                )
        if spec.get("paused"):
            pass
        elif new_rs is None:
            template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = thash
            selector = copy.deepcopy(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = thash
            rs_obj = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{name_of(deploy)}-{thash}",
                    "namespace": ns_of(deploy),
                    "labels": dict(template["metadata"]["labels"]),
                    "ownerReferences": [owner_ref(deploy)],
                    "annotations": {
                        REVISION: revision,
                        "deployment.kubernetes.io/desired-replicas": str(want),
                        "deployment.kubernetes.io/max-replicas": str(want + self._surge(spec, want)),
                    },
                },
                "spec": {
                    "replicas": 0,
                    "selector": selector,
                    "template": template,
                    "minReadySeconds": spec.get("minReadySeconds", 0),
                },
            }
            try:
                new_rs = store.create("replicasets", rs_obj, ns_of(deploy))
            except ApiError:
                return
            self.recorder.record(
                self.cluster,
                deploy,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {name_of(new_rs)} from 0 to 0",
                "deployment-controller",
                min_interval=0,
            )
        else:
            self._rollout(deploy, new_rs, olds, want)
        if new_rs is not None:
            self._status(deploy, new_rs, olds, want, revision)

    def _surge(self, spec: dict[str, Any], want: int) -> int:
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        surge = resolve(rolling.get("maxSurge", "25%"), want, True)
        unavailable = resolve(rolling.get("maxUnavailable", "25%"), want, False)
        return 1 if surge == 0 and unavailable == 0 else surge

    def _rollout(
        self, deploy: dict[str, Any], new_rs: dict[str, Any], olds: list[dict[str, Any]], want: int
    ) -> None:
        spec = deploy["spec"]
        strategy = (spec.get("strategy") or {}).get("type", "RollingUpdate")
        ready_of = lambda rs: int((rs.get("status") or {}).get("availableReplicas", 0))  # noqa: E731
        if strategy == "Recreate":
            for rs in olds:
                self._scale(rs, 0, deploy)
            if all(int((rs.get("status") or {}).get("replicas", 0)) == 0 for rs in olds):
                self._scale(new_rs, want, deploy)
            return
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        surge = resolve(rolling.get("maxSurge", "25%"), want, True)
        max_unavailable = resolve(rolling.get("maxUnavailable", "25%"), want, False)
        if surge == 0 and max_unavailable == 0:
            max_unavailable = 1
        total = sum(int(rs["spec"].get("replicas", 0)) for rs in [new_rs, *olds])
        new_count = int(new_rs["spec"].get("replicas", 0))
        if not olds or all(int(rs["spec"].get("replicas", 0)) == 0 for rs in olds):
            self._scale(new_rs, want, deploy)
        elif new_count < want and total < want + surge:
            self._scale(new_rs, min(want, new_count + want + surge - total), deploy)
        # scale old replica sets down while keeping want - maxUnavailable available
        available = sum(ready_of(rs) for rs in [new_rs, *olds])
        can_remove = available - (want - max_unavailable)
        for rs in sorted(olds, key=lambda r: name_of(r)):
            current = int(rs["spec"].get("replicas", 0))
            if current == 0:
                continue
            unhealthy = max(0, current - ready_of(rs))
            remove = min(current, unhealthy + max(0, can_remove))
            if remove > 0:
                can_remove -= max(0, remove - unhealthy)
                self._scale(rs, current - remove, deploy)
        self._cleanup(olds, int(spec.get("revisionHistoryLimit", 10)))

    def _cleanup(self, olds: list[dict[str, Any]], limit: int) -> None:
        idle = [
            rs
            for rs in olds
            if int(rs["spec"].get("replicas", 0)) == 0
            and int((rs.get("status") or {}).get("replicas", 0)) == 0
        ]
        idle.sort(key=lambda rs: int((rs["metadata"].get("annotations") or {}).get(REVISION, "0") or 0))
        for rs in idle[: max(0, len(idle) - limit)]:
            safe_delete(self.cluster.store, "replicasets", name_of(rs), ns_of(rs))

    def _status(
        self,
        deploy: dict[str, Any],
        new_rs: dict[str, Any],
        olds: list[dict[str, Any]],
        want: int,
        revision: str,
    ) -> None:
        every = [new_rs, *olds]
        st = lambda rs, k: int((rs.get("status") or {}).get(k, 0))  # noqa: E731
        replicas = sum(st(rs, "replicas") for rs in every)
        updated = st(new_rs, "replicas")
        ready = sum(st(rs, "readyReplicas") for rs in every)
        available = sum(st(rs, "availableReplicas") for rs in every)
        rolling = (deploy["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        max_unavailable = resolve(rolling.get("maxUnavailable", "25%"), want, False)
        now = self.world.clock.iso()
        conds = list((deploy.get("status") or {}).get("conditions") or [])
        if available >= want - max_unavailable:
            conds = set_condition(
                conds,
                "Available",
                "True",
                now,
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                update_time=True,
            )
        else:
            conds = set_condition(
                conds,
                "Available",
                "False",
                now,
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                update_time=True,
            )
        complete = (
            updated == want
            and replicas == want
            and available == want
            and st(new_rs, "availableReplicas") == want
        )
        failure = condition(new_rs, "ReplicaFailure")
        if failure and failure.get("status") == "True":
            conds = set_condition(
                conds, "ReplicaFailure", "True", now, "FailedCreate", failure.get("message"), update_time=True
            )
        else:
            conds = [c for c in conds if c.get("type") != "ReplicaFailure"]
        if complete:
            msg = f'ReplicaSet "{name_of(new_rs)}" has successfully progressed.'
            conds = set_condition(
                conds, "Progressing", "True", now, "NewReplicaSetAvailable", msg, update_time=True
            )
        else:
            msg = f'ReplicaSet "{name_of(new_rs)}" is progressing.'
            current = next((c for c in conds if c.get("type") == "Progressing"), None)
            started = parse_iso((current or {}).get("lastUpdateTime")) or self.world.clock.now()
            deadline = float(deploy["spec"].get("progressDeadlineSeconds", 600))
            if current and current.get("reason") == "ProgressDeadlineExceeded":
                pass
            elif (
                current
                and self.world.clock.now() - started > deadline
                and current.get("reason") == "ReplicaSetUpdated"
            ):
                conds = set_condition(
                    conds,
                    "Progressing",
                    "False",
                    now,
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{name_of(new_rs)}" has timed out progressing.',
                    update_time=True,
                )
            elif not current or current.get("message") != msg:
                conds = set_condition(
                    conds, "Progressing", "True", now, "ReplicaSetUpdated", msg, update_time=True
                )
        order = {"Available": 0, "Progressing": 1, "ReplicaFailure": 2}
        conds.sort(key=lambda c: order.get(c["type"], 9))
        status: dict[str, Any] = {
            "observedGeneration": deploy["metadata"].get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(0, replicas - available),
            "conditions": conds,
        }
        for key in (
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ):
            if not status[key]:
                del status[key]
        write_status(self.cluster.store, "deployments", deploy, status)
        annotations = deploy["metadata"].get("annotations") or {}
        if annotations.get(REVISION) != revision:
            self.cluster.store.patch(
                "deployments",
                name_of(deploy),
                ns_of(deploy),
                {"metadata": {"annotations": {REVISION: revision}}},
                "merge",
            )
