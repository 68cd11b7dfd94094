"""PersistentVolume controller and the Proxmox CSI provisioner/attacher (expansion: resize.py).

* binding: pre-bound (``spec.volumeName`` / PV ``claimRef``) and matching static PVs (class, size,
  access modes, selector) bind at once; dynamic claims bind ``Immediate`` or, for
  ``WaitForFirstConsumer``, once the scheduler set ``volume.kubernetes.io/selected-node``;
* ``csi.proxmox.sinextra.dev``: allocates ``vm-9999-pvc-<uid>`` on the StorageClass ``storage`` of the
  selected node's Proxmox node, PV ``volumeHandle`` ``region/zone/storage/disk`` (``region//storage/disk``
  on shared storage), ``nodeAffinity`` on ``topology.kubernetes.io/region``/``zone``; hot-attaches the disk
  to the VM of the node running a pod that mounts it; expansion resizes the Proxmox disk (refused while
  unattached, like the real plugin) and walks the resize conditions;
* ``rancher.io/local-path``: hostPath PVs pinned to the node (K3s' default class);
* reclaim: PVs whose claim is gone are deleted with their disk (``Delete``) or ``Released`` (``Retain``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.common import (
    Recorder,
    annotations_of,
    is_deleting,
    labels_of,
    name_of,
    ns_of,
    patch_merge,
    peek,
    snapshot,
    uid_of,
    write_status,
)
from hks_tui.lab.controllers.podsched import SELECTED_NODE, storage_class_of
from hks_tui.lab.controllers.pvutil import (
    CSI_DRIVER,
    MIB,
    capacity_bytes,
    parse_provider_id,
    requested_bytes,
    volid_of,
)
from hks_tui.lab.controllers.quantity import format_bytes
from hks_tui.lab.controllers.resize import VolumeResizer
from hks_tui.lab.controllers.scheduler import is_terminal, node_ready
from hks_tui.lab.kube.errors import ApiError
from hks_tui.lab.kube.selectors import labels_match
from hks_tui.lab.pve.errors import PveError

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

LOCAL_PATH = "rancher.io/local-path"
CSI_VMID = 9999
REGION, ZONE = "topology.kubernetes.io/region", "topology.kubernetes.io/zone"


class VolumeController:
    def __init__(self, world: LabWorld, cluster: KubeCluster, recorder: Recorder) -> None:
        self.world, self.cluster, self.recorder = world, cluster, recorder
        self._retry_at: dict[str, float] = {}
        self.resizer = VolumeResizer(world, cluster, recorder)

    @property
    def store(self) -> Any:
        return self.cluster.store

    def reconcile(self) -> None:
        pvs = snapshot(self.store, "persistentvolumes")
        for pv in pvs:
            if not (pv.get("status") or {}).get("phase") or pv["status"]["phase"] == "Pending":
                write_status(
                    self.store,
                    "persistentvolumes",
                    pv,
                    {"phase": "Bound" if (pv["spec"].get("claimRef") or {}).get("uid") else "Available"},
                )
        pvcs = snapshot(self.store, "persistentvolumeclaims")
        for pvc in pvcs:
            if is_deleting(pvc):
                continue
            if (pvc.get("status") or {}).get("phase") != "Bound":
                self._bind(pvc)
            else:
                self.resizer.resize(pvc)
        self._reclaim()
        self._attach()

    # -- binding and provisioning ---------------------------------------------------------------------
    def _bind(self, pvc: dict[str, Any]) -> None:
        pvs = snapshot(self.store, "persistentvolumes")
        key = (ns_of(pvc), name_of(pvc))
        wanted = (pvc.get("spec") or {}).get("volumeName")
        sc = storage_class_of(self.cluster, pvc)
        sc_name = (pvc.get("spec") or {}).get("storageClassName") or (name_of(sc) if sc else "")
        for pv in pvs:
            ref = pv["spec"].get("claimRef") or {}
            if wanted and name_of(pv) != wanted:
                continue
            if ref:
                if (ref.get("namespace"), ref.get("name")) != key or ref.get("uid") not in (
                    None,
                    "",
                    uid_of(pvc),
                ):
                    continue
            elif not wanted and not self._matches(pvc, pv, sc_name):
                continue
            if (pv.get("status") or {}).get("phase") in ("Released", "Failed"):
                continue
            self._do_bind(pvc, pv)
            return
        if wanted or sc is None:
            return
        mode = sc.get("volumeBindingMode", "Immediate")
        node_name = annotations_of(pvc).get(SELECTED_NODE)
        if mode == "WaitForFirstConsumer" and not node_name:
            self.recorder.record(
                self.cluster,
                pvc,
                "Normal",
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
                "persistentvolume-controller",
                min_interval=60.0,
            )
            return
        if self.world.clock.now() < self._retry_at.get(uid_of(pvc), 0):
            return
        provisioner = sc.get("provisioner")
        if provisioner not in (CSI_DRIVER, LOCAL_PATH):
            self.recorder.record(
                self.cluster,
                pvc,
                "Normal",
                "ExternalProvisioning",
                f'Waiting for a volume to be created either by the external provisioner "{provisioner}" '
                "or manually by the system administrator.",
                "persistentvolume-controller",
                min_interval=60.0,
            )
            return
        node = self._pick_node(sc, node_name)
        if node is None:
            self._fail(pvc, "no ready node with a Proxmox provider ID is available for topology")
            return
        self.recorder.record(
            self.cluster,
            pvc,
            "Normal",
            "Provisioning",
            f'External provisioner is provisioning volume for claim "{ns_of(pvc)}/{name_of(pvc)}"',
            f"{provisioner}_{name_of(node)}",
        )
        try:
            pv = self._provision(pvc, sc, node)
        except (PveError, ApiError) as exc:
            self._fail(pvc, str(getattr(exc, "message", exc)))
            return
        self.recorder.record(
            self.cluster,
            pvc,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {name_of(pv)}",
            f"{provisioner}_{name_of(node)}",
        )
        self._do_bind(pvc, pv)

    def _fail(self, pvc: dict[str, Any], message: str) -> None:
        self._retry_at[uid_of(pvc)] = self.world.clock.now() + 15.0
        self.recorder.record(
            self.cluster,
            pvc,
            "Warning",
            "ProvisioningFailed",
            f"failed to provision volume with StorageClass "
            f'"{(pvc.get("spec") or {}).get("storageClassName", "")}": {message}',
            "persistentvolume-controller",
            min_interval=30.0,
        )

    def _matches(self, pvc: dict[str, Any], pv: dict[str, Any], sc_name: str) -> bool:
        spec = pv.get("spec") or {}
        if (spec.get("storageClassName") or "") != (sc_name or ""):
            return False
        if capacity_bytes(pv, "spec") < requested_bytes(pvc):
            return False
        if not set((pvc.get("spec") or {}).get("accessModes") or []) <= set(spec.get("accessModes") or []):
            return False
        selector = (pvc.get("spec") or {}).get("selector")
        return not selector or labels_match(selector, labels_of(pv))

    def _pick_node(self, sc: dict[str, Any], selected: str | None) -> dict[str, Any] | None:
        if selected:
            return peek(self.store, "nodes", selected)
        if sc.get("provisioner") == LOCAL_PATH:
            return None
        for node in snapshot(self.store, "nodes"):
            if node_ready(node) and parse_provider_id(str((node.get("spec") or {}).get("providerID", ""))):
                return node
        return None

    def _provision(self, pvc: dict[str, Any], sc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
        size = max(MIB, math.ceil(requested_bytes(pvc) / MIB) * MIB)
        pv_name = f"pvc-{uid_of(pvc)}"
        spec: dict[str, Any] = {
            "capacity": {"storage": format_bytes(size)},
            "accessModes": list((pvc.get("spec") or {}).get("accessModes") or ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
            "storageClassName": name_of(sc),
            "volumeMode": (pvc.get("spec") or {}).get("volumeMode", "Filesystem"),
        }
        if sc.get("provisioner") == LOCAL_PATH:
            spec["hostPath"] = {
                "path": f"/var/lib/rancher/k3s/storage/{pv_name}_{ns_of(pvc)}_{name_of(pvc)}",
                "type": "DirectoryOrCreate",
            }
            spec["nodeAffinity"] = {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/hostname", "operator": "In", "values": [name_of(node)]}
                            ]
                        }
                    ]
                }
            }
            annotations = {"pv.kubernetes.io/provisioned-by": LOCAL_PATH}
        else:
            parsed = parse_provider_id(str(node["spec"].get("providerID", "")))
            if parsed is None:
                raise ApiError(500, "InternalError", f"node {name_of(node)} has no Proxmox provider ID")
            region, vmid = parsed
            vm = self.world.pve.get_vm(vmid)
            storage = str((sc.get("parameters") or {}).get("storage", "local-lvm"))
            filename = f"vm-{CSI_VMID}-{pv_name}"
            volid = self.world.pve.allocate_volume(vm.node, storage, filename, size, CSI_VMID)
            shared = self.world.pve.storages[storage].shared
            handle = f"{region}/{'' if shared else vm.node}/{storage}/{filename}"
            exprs = [{"key": REGION, "operator": "In", "values": [region]}]
            if not shared:
                exprs.append({"key": ZONE, "operator": "In", "values": [vm.node]})
            spec["csi"] = {
                "driver": CSI_DRIVER,
                "volumeHandle": handle,
                "fsType": str((sc.get("parameters") or {}).get("csi.storage.k8s.io/fstype", "ext4")),
                "volumeAttributes": {"storage": storage},
            }
            spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": exprs}]}}
            annotations = {
                "pv.kubernetes.io/provisioned-by": CSI_DRIVER,
                "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
            }
            if annotations_of(pvc).get(SELECTED_NODE):
                try:
                    self.world.pve.attach_volume(vmid, volid)
                except PveError:
                    pass
        pv = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": pv_name, "annotations": annotations},
            "spec": spec,
        }
        return self.store.create("persistentvolumes", pv)

    def _do_bind(self, pvc: dict[str, Any], pv: dict[str, Any]) -> None:
        ref = {
            "kind": "PersistentVolumeClaim",
            "namespace": ns_of(pvc),
            "name": name_of(pvc),
            "uid": uid_of(pvc),
            "apiVersion": "v1",
            "resourceVersion": str(pvc["metadata"].get("resourceVersion", "")),
        }
        pv = self.store.patch("persistentvolumes", name_of(pv), None, {"spec": {"claimRef": ref}}, "merge")
        write_status(self.store, "persistentvolumes", pv, {"phase": "Bound"})
        patch: dict[str, Any] = {
            "metadata": {
                "annotations": {
                    "pv.kubernetes.io/bind-completed": "yes",
                    "pv.kubernetes.io/bound-by-controller": "yes",
                }
            }
        }
        if not (pvc.get("spec") or {}).get("volumeName"):
            patch["spec"] = {"volumeName": name_of(pv)}
        if not (pvc.get("spec") or {}).get("storageClassName") and pv["spec"].get("storageClassName"):
            patch.setdefault("spec", {})["storageClassName"] = pv["spec"]["storageClassName"]
        bound = patch_merge(self.store, "persistentvolumeclaims", pvc, patch)
        if bound is None:
            return
        write_status(
            self.store,
            "persistentvolumeclaims",
            bound,
            {
                "phase": "Bound",
                "accessModes": list(pv["spec"].get("accessModes") or []),
                "capacity": {"storage": pv["spec"]["capacity"]["storage"]},
            },
        )

    # -- expansion --------------------------------------------------------------------------------------    # -- reclaim and attach ----------------------------------------------------------------------------------
    def _reclaim(self) -> None:
        for pv in snapshot(self.store, "persistentvolumes"):
            ref = pv["spec"].get("claimRef") or {}
            if not ref.get("uid") or (pv.get("status") or {}).get("phase") in ("Released", "Failed"):
                continue
            claim = peek(self.store, "persistentvolumeclaims", ref.get("name", ""), ref.get("namespace"))
            if claim is not None and uid_of(claim) == ref.get("uid"):
                continue
            if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
                volid = volid_of(pv)
                if volid and annotations_of(pv).get("csi.proxmox.sinextra.dev/lifecycle") != "keep":
                    for vmid in self.world.pve.volume_users(volid):
                        self.world.pve.detach_volume(vmid, volid)
                    if self.world.pve.find_volume(volid) is not None:
                        self.world.pve.free_volume(volid)
                try:
                    self.store.delete("persistentvolumes", name_of(pv))
                except ApiError:
                    pass
            else:
                write_status(self.store, "persistentvolumes", pv, {"phase": "Released"})

    def _attach(self) -> None:
        pve = self.world.pve
        for pod in self.store.iter_objects("pods"):
            node_name = (pod.get("spec") or {}).get("nodeName")
            if not node_name or is_terminal(pod):
                continue
            for vol in (pod.get("spec") or {}).get("volumes") or []:
                claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
                if not claim:
                    continue
                pvc = peek(self.store, "persistentvolumeclaims", claim, ns_of(pod))
                pv = peek(
                    self.store, "persistentvolumes", ((pvc or {}).get("spec") or {}).get("volumeName", "")
                )
                volid = volid_of(pv) if pv else None
                node = peek(self.store, "nodes", node_name)
                parsed = parse_provider_id(str(((node or {}).get("spec") or {}).get("providerID", "")))
                if volid is None or parsed is None or parsed[1] not in pve.vms:
                    continue
                if pve.find_volume(volid) is None:
                    self.recorder.record(
                        self.cluster,
                        pod,
                        "Warning",
                        "FailedAttachVolume",
                        f'AttachVolume.Attach failed for volume "{name_of(pv or {})}" : rpc error: code = NotFound '
                        f"desc = volume {volid} not found",
                        "attachdetach-controller",
                        min_interval=60.0,
                    )
                    continue
                users = pve.volume_users(volid)
                if parsed[1] in users:
                    continue
                try:
                    for vmid in users:
                        pve.detach_volume(vmid, volid)
                    pve.attach_volume(parsed[1], volid)
                except PveError as exc:
                    self.recorder.record(
                        self.cluster,
                        pod,
                        "Warning",
                        "FailedAttachVolume",
                        f'AttachVolume.Attach failed for volume "{name_of(pv or {})}" : {exc.message}',
                        "attachdetach-controller",
                        min_interval=60.0,
                    )
