"""vCluster syncer: host nodes → vCluster nodes (``sync.fromHost.nodes.selector.labels``) and vCluster
pods → host pods (``<pod>-x-<namespace>-x-<vcluster>`` in the workspace's host namespace), with node
name and status synced back and host-side deletions (evictions, drains) deleting the virtual pod.

Node selectors: a Dedicated-plan workspace syncs the host nodes labelled ``hks.io/workspace=<ws>`` and its
pods get that label as an enforced ``nodeSelector`` (tolerations are NOT added: the app must tolerate the
workspace taint); a Shared-plan workspace syncs the shared workers (``hks.io/plan=shared``) and its pods are
pinned to them. ``world.extra["vcluster_node_selectors"][ws]`` overrides the selector.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.common import (
    VC_MANAGED_BY,
    VC_NAMESPACE,
    VC_OBJECT_KIND,
    VC_OBJECT_NAME,
    VC_OBJECT_NAMESPACE,
    VC_OBJECT_UID,
    Recorder,
    annotations_of,
    controller_uid,
    hex_hash,
    is_deleting,
    labels_of,
    name_of,
    ns_of,
    patch_merge,
    peek,
    safe_delete,
    snapshot,
    uid_of,
    write_status,
)
from hks_tui.lab.controllers.scheduler import is_terminal
from hks_tui.lab.kube.errors import ApiError
from hks_tui.lab.kube.selectors import labels_match

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld, WorkspaceInfo

SHARED_LABEL = "hks.io/plan"


def translate_name(name: str, namespace: str, vcluster: str) -> str:
    """vCluster's host name for a namespaced object, hashed when longer than 63 characters."""
    full = f"{name}-x-{namespace}-x-{vcluster}"
    if len(full) <= 63:
        return full
    return f"{full[:52]}-{hex_hash(full, 10)}"


def node_selector(world: LabWorld, ws: str, info: WorkspaceInfo) -> dict[str, str]:
    override = (world.extra.get("vcluster_node_selectors") or {}).get(ws)
    if override:
        return dict(override)
    return {"hks.io/workspace": ws} if info.plan == "dedicated" else {SHARED_LABEL: "shared"}


class VClusterSync:
    def __init__(self, world: LabWorld, recorder: Recorder) -> None:
        self.world, self.recorder = world, recorder
        self.synced: set[str] = set()

    def reconcile(self) -> None:
        for ws, info in self.world.workspaces.items():
            vcluster = self.world.clusters.get(ws)
            if vcluster is None or "host" not in self.world.clusters:
                continue
            self._namespace(info)
            selector = node_selector(self.world, ws, info)
            self._nodes(vcluster, selector)
            self._pods(vcluster, info, selector)

    def _namespace(self, info: WorkspaceInfo) -> None:
        store = self.world.host.store
        if peek(store, "namespaces", info.host_namespace) is None:
            store.create("namespaces", {"metadata": {"name": info.host_namespace}})

    def _nodes(self, vcluster: KubeCluster, selector: dict[str, str]) -> None:
        wanted = {
            name_of(n): n
            for n in self.world.host.store.iter_objects("nodes")
            if labels_match(selector, labels_of(n))
        }
        store = vcluster.store
        for virtual in snapshot(store, "nodes"):
            if name_of(virtual) not in wanted:
                safe_delete(store, "nodes", name_of(virtual), None)
        for name, host_node in wanted.items():
            current = peek(store, "nodes", name)
            body: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": dict(labels_of(host_node)),
                    "annotations": dict(annotations_of(host_node)),
                },
                "spec": copy.deepcopy(host_node.get("spec") or {}),
            }
            if current is None:
                current = store.create("nodes", body)
            elif (labels_of(current), annotations_of(current), current.get("spec")) != (
                body["metadata"]["labels"],
                body["metadata"]["annotations"],
                body["spec"],
            ):
                body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                current = store.replace("nodes", body)
            write_status(store, "nodes", current, host_node.get("status") or {})

    def _host_pod(
        self, vpod: dict[str, Any], info: WorkspaceInfo, selector: dict[str, str]
    ) -> dict[str, Any]:
        ns, vc = ns_of(vpod) or "default", info.vcluster
        spec = copy.deepcopy(vpod.get("spec") or {})
        spec.pop("nodeName", None)
        spec["nodeSelector"] = {**(spec.get("nodeSelector") or {}), **selector}
        spec["serviceAccountName"] = spec["serviceAccount"] = "default"
        spec["automountServiceAccountToken"] = False
        for vol in spec.get("volumes") or []:
            if vol.get("persistentVolumeClaim"):
                vol["persistentVolumeClaim"]["claimName"] = translate_name(
                    vol["persistentVolumeClaim"]["claimName"], ns, vc
                )
            if vol.get("configMap") and vol["configMap"].get("name"):
                vol["configMap"]["name"] = translate_name(vol["configMap"]["name"], ns, vc)
            if vol.get("secret") and vol["secret"].get("secretName"):
                vol["secret"]["secretName"] = translate_name(vol["secret"]["secretName"], ns, vc)
        labels = {**labels_of(vpod), VC_NAMESPACE: ns, VC_MANAGED_BY: vc}
        # like vCluster's syncer: owned by the vCluster's Service, as controller when the virtual pod has one
        # (so `kubectl drain` on the host evicts tenant pods without --force)
        owner = peek(self.world.host.store, "services", vc, info.host_namespace)
        owners = []
        if owner is not None:
            ref: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "name": vc, "uid": uid_of(owner)}
            if controller_uid(vpod):
                ref["controller"] = True
            owners.append(ref)
        annotations = {
            **annotations_of(vpod),
            VC_OBJECT_NAME: name_of(vpod),
            VC_OBJECT_NAMESPACE: ns,
            VC_OBJECT_UID: uid_of(vpod),
            VC_OBJECT_KIND: "/v1, Kind=Pod",
        }
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": translate_name(name_of(vpod), ns, vc),
                "namespace": info.host_namespace,
                "labels": labels,
                "annotations": annotations,
                **({"ownerReferences": owners} if owners else {}),
            },
            "spec": spec,
        }

    def _pods(self, vcluster: KubeCluster, info: WorkspaceInfo, selector: dict[str, str]) -> None:
        host = self.world.host.store
        host_pods = {
            name_of(p): p for p in snapshot(host, "pods", info.host_namespace, {VC_MANAGED_BY: info.vcluster})
        }
        live: set[str] = set()
        for vpod in snapshot(vcluster.store, "pods"):
            uid = uid_of(vpod)
            live.add(uid)
            hname = translate_name(name_of(vpod), ns_of(vpod) or "default", info.vcluster)
            hpod = host_pods.pop(hname, None)
            if hpod is not None and annotations_of(hpod).get(VC_OBJECT_UID) != uid:
                safe_delete(
                    host, "pods", hname, info.host_namespace
                )  # left over from an older pod of that name
                hpod = None
            if is_deleting(vpod):
                if hpod is not None:
                    safe_delete(host, "pods", hname, info.host_namespace)
                continue
            if hpod is None:
                if uid in self.synced or ((vpod.get("spec") or {}).get("nodeName") and not is_terminal(vpod)):
                    self.synced.discard(uid)
                    safe_delete(
                        vcluster.store, "pods", name_of(vpod), ns_of(vpod)
                    )  # host pod gone → virtual pod gone
                elif not is_terminal(vpod):
                    try:
                        host.create("pods", self._host_pod(vpod, info, selector), info.host_namespace)
                        self.synced.add(uid)
                    except ApiError:
                        pass
                continue
            self.synced.add(uid)
            node = (hpod.get("spec") or {}).get("nodeName")
            if node and (vpod.get("spec") or {}).get("nodeName") != node:
                updated = patch_merge(vcluster.store, "pods", vpod, {"spec": {"nodeName": node}})
                if updated is None:
                    continue
                vpod = updated
            write_status(vcluster.store, "pods", vpod, hpod.get("status") or {})
        for hname in host_pods:
            safe_delete(host, "pods", hname, info.host_namespace)  # its virtual pod is gone
        self.synced &= live
