"""StatefulSet controller: ordinal pods ``<name>-0..N-1`` (OrderedReady or Parallel), PVCs from
``volumeClaimTemplates`` (``<template>-<name>-<ordinal>``), rolling updates from the highest ordinal
(honouring ``partition``), ordered scale-down, and status with current/update revisions."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.apps import create_pod_from_template, pod_ready, template_hash
from hks_tui.lab.controllers.common import (
    Recorder,
    is_deleting,
    labels_of,
    name_of,
    ns_of,
    owned_by,
    peek,
    safe_delete,
    snapshot,
    write_status,
)
from hks_tui.lab.controllers.scheduler import is_terminal
from hks_tui.lab.kube.errors import ApiError

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

REVISION_LABEL = "controller-revision-hash"


def ordinal_of(sts_name: str, pod: dict[str, Any]) -> int | None:
    suffix = name_of(pod)[len(sts_name) + 1 :]
    return int(suffix) if name_of(pod).startswith(sts_name + "-") and suffix.isdigit() else None


class StatefulSetController:
    def __init__(self, world: LabWorld, cluster: KubeCluster, recorder: Recorder) -> None:
        self.world, self.cluster, self.recorder = world, cluster, recorder

    def reconcile(self) -> None:
        pods = snapshot(self.cluster.store, "pods")
        for sts in snapshot(self.cluster.store, "statefulsets"):
            if not is_deleting(sts):
                self._sync(sts, owned_by(pods, sts))

    def _claims(self, sts: dict[str, Any], ordinal: int) -> None:
        store = self.cluster.store
        for tpl in sts["spec"].get("volumeClaimTemplates") or []:
            claim = f"{name_of(tpl)}-{name_of(sts)}-{ordinal}"
            if peek(store, "persistentvolumeclaims", claim, ns_of(sts)) is not None:
                continue
            labels = dict((sts["spec"].get("selector") or {}).get("matchLabels") or {})
            labels.update(labels_of(tpl))
            pvc: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": claim,
                    "namespace": ns_of(sts),
                    "labels": labels,
                    "annotations": dict((tpl.get("metadata") or {}).get("annotations") or {}),
                },
                "spec": copy.deepcopy(tpl.get("spec") or {}),
            }
            if not pvc["metadata"]["annotations"]:
                del pvc["metadata"]["annotations"]
            try:
                store.create("persistentvolumeclaims", pvc, ns_of(sts))
                self.recorder.record(
                    self.cluster,
                    sts,
                    "Normal",
                    "SuccessfulCreate",
                    f"create Claim {claim} Pod {name_of(sts)}-{ordinal} in StatefulSet {name_of(sts)} success",
                    "statefulset-controller",
                    min_interval=0,
                )
            except ApiError as exc:
                self.recorder.record(
                    self.cluster,
                    sts,
                    "Warning",
                    "FailedCreate",
                    f"create Claim {claim} for Pod {name_of(sts)}-{ordinal} in StatefulSet "
                    f"{name_of(sts)} failed error: {exc.message}",
                    "statefulset-controller",
                    min_interval=30.0,
                )

    def _create(self, sts: dict[str, Any], ordinal: int, revision: str) -> None:
        self._claims(sts, ordinal)
        template = copy.deepcopy(sts["spec"]["template"])
        spec = template.setdefault("spec", {})
        name = f"{name_of(sts)}-{ordinal}"
        spec["hostname"] = name
        if sts["spec"].get("serviceName"):
            spec["subdomain"] = sts["spec"]["serviceName"]
        volumes = [
            v
            for v in spec.get("volumes") or []
            if v.get("name") not in {name_of(t) for t in sts["spec"].get("volumeClaimTemplates") or []}
        ]
        for tpl in sts["spec"].get("volumeClaimTemplates") or []:
            volumes.append(
                {
                    "name": name_of(tpl),
                    "persistentVolumeClaim": {"claimName": f"{name_of(tpl)}-{name_of(sts)}-{ordinal}"},
                }
            )
        if volumes:
            spec["volumes"] = volumes
        extra = {
            REVISION_LABEL: revision,
            "statefulset.kubernetes.io/pod-name": name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
        create_pod_from_template(self.cluster, self.recorder, sts, template, name, extra)

    def _sync(self, sts: dict[str, Any], owned: list[dict[str, Any]]) -> None:
        store = self.cluster.store
        spec = sts["spec"]
        want = int(spec.get("replicas", 1))
        revision = f"{name_of(sts)}-{template_hash(spec['template'])}"
        by_ordinal: dict[int, dict[str, Any]] = {}
        for pod in owned:
            ordinal = ordinal_of(name_of(sts), pod)
            if ordinal is not None:
                by_ordinal[ordinal] = pod
        parallel = spec.get("podManagementPolicy") == "Parallel"
        busy = False
        for ordinal in range(want):
            member = by_ordinal.get(ordinal)
            if member is None:
                self._create(sts, ordinal, revision)
                busy = True
                if not parallel:
                    break
                continue
            if is_deleting(member):
                busy = True
                if not parallel:
                    break
                continue
            if is_terminal(member):
                safe_delete(store, "members", name_of(member), ns_of(member))
                busy = True
                if not parallel:
                    break
                continue
            if not pod_ready(member):
                busy = True
                if not parallel:
                    break
        extra = sorted((o for o in by_ordinal if o >= want), reverse=True)
        if extra and (parallel or not busy):
            for ordinal in extra if parallel else extra[:1]:
                victim = by_ordinal[ordinal]
                if safe_delete(store, "pods", name_of(victim), ns_of(victim)):
                    self.recorder.record(
                        self.cluster,
                        sts,
                        "Normal",
                        "SuccessfulDelete",
                        f"delete Pod {name_of(victim)} in StatefulSet {name_of(sts)} successful",
                        "statefulset-controller",
                        min_interval=0,
                    )
            busy = True
        strategy = spec.get("updateStrategy") or {}
        partition = int((strategy.get("rollingUpdate") or {}).get("partition", 0) or 0)
        if not busy and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            for ordinal in sorted(by_ordinal, reverse=True):
                pod = by_ordinal[ordinal]
                if ordinal < want and ordinal >= partition and labels_of(pod).get(REVISION_LABEL) != revision:
                    safe_delete(store, "pods", name_of(pod), ns_of(pod))
                    break
        live = [p for p in by_ordinal.values() if not is_deleting(p)]
        status_old = sts.get("status") or {}
        current_rev = status_old.get("currentRevision") or revision
        updated = sum(1 for p in live if labels_of(p).get(REVISION_LABEL) == revision)
        if updated == want and len(live) == want:
            current_rev = revision
        ready = sum(1 for p in live if pod_ready(p))
        status: dict[str, Any] = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(live),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentReplicas": sum(1 for p in live if labels_of(p).get(REVISION_LABEL) == current_rev),
            "updatedReplicas": updated,
            "currentRevision": current_rev,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        for key in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[key]:
                del status[key]
        write_status(store, "statefulsets", sts, status)
