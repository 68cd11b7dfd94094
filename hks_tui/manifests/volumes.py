"""``VolumeSpec`` → StorageClass + PersistentVolume (+ optional pre-bound PVC), Proxmox CSI conventions.

Naming (shared with the lab seed): StorageClass and PV ``hks-<ws>-<name>``; the Proxmox disk
``vm-9999-hks-<ws>-<name>`` (owner VMID 9999 = the CSI's ``DefaultControllerVMID``); volumeHandle
``<region>/<zone>/<storage>/<disk>``, or ``<region>//<storage>/<disk>`` on shared storage (no zone).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

from hks_tui.manifests.labels import (
    CSI_DRIVER,
    CSI_VMID,
    MANAGED_BY,
    MANAGER,
    REGION,
    VOLUME,
    WORKSPACE,
    ZONE,
)
from hks_tui.validation import (
    bytes_to_mib,
    quantity_to_bytes,
    validate_dns1123_label,
    validate_label_value,
    validate_pve_storage_id,
    validate_size,
)

_Label = Annotated[str, AfterValidator(lambda v: validate_dns1123_label(v, "name"))]
_Topology = Annotated[str, AfterValidator(lambda v: validate_label_value(v, "topology") or _empty())]
_Storage = Annotated[str, AfterValidator(lambda v: validate_pve_storage_id(v, "storage"))]


def _empty() -> str:
    raise ValueError("topology value must not be empty")


class VolumeSpec(BaseModel):
    """A Storage Volume: one Proxmox disk exposed as a StorageClass + PV in the workspace's vCluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: _Label
    workspace: _Label
    size: Annotated[str, AfterValidator(lambda v: validate_size(v))]
    region: _Topology
    zone: _Topology | None = None  # the PVE node; None for shared storage (ceph, nfs)
    storage: _Storage
    fs_type: Literal["ext4", "xfs"] = "ext4"
    reclaim_policy: Literal["Retain", "Delete"] = "Retain"
    binding_mode: Literal["WaitForFirstConsumer", "Immediate"] = "WaitForFirstConsumer"

    @property
    def object_name(self) -> str:
        """StorageClass and PersistentVolume name."""
        return f"hks-{self.workspace}-{self.name}"

    @property
    def disk_name(self) -> str:
        return f"vm-{CSI_VMID}-hks-{self.workspace}-{self.name}"

    @property
    def volume_handle(self) -> str:
        return f"{self.region}/{self.zone or ''}/{self.storage}/{self.disk_name}"

    @property
    def size_bytes(self) -> int:
        return quantity_to_bytes(self.size)

    @property
    def size_mib(self) -> int:
        """The disk size for Proxmox (MiB, rounded up)."""
        return bytes_to_mib(self.size_bytes)


def volume_labels(spec: VolumeSpec) -> dict[str, str]:
    return {VOLUME: spec.name, WORKSPACE: spec.workspace, MANAGED_BY: MANAGER}


def build_storage_class(spec: VolumeSpec) -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": spec.object_name, "labels": volume_labels(spec)},
        "provisioner": CSI_DRIVER,
        "parameters": {"storage": spec.storage, "csi.storage.k8s.io/fstype": spec.fs_type},
        "reclaimPolicy": spec.reclaim_policy,
        "volumeBindingMode": spec.binding_mode,
        "allowVolumeExpansion": True,
        "allowedTopologies": [{"matchLabelExpressions": [{"key": REGION, "values": [spec.region]}]}],
    }


def build_persistent_volume(
    spec: VolumeSpec, *, claim_namespace: str | None = None, claim_name: str | None = None
) -> dict[str, Any]:
    """The PV; with ``claim_namespace``/``claim_name`` it is pre-bound (``claimRef``) to that PVC."""
    exprs = [{"key": REGION, "operator": "In", "values": [spec.region]}]
    if spec.zone:
        exprs.append({"key": ZONE, "operator": "In", "values": [spec.zone]})
    body: dict[str, Any] = {
        "capacity": {"storage": spec.size},
        "accessModes": ["ReadWriteOnce"],
        "persistentVolumeReclaimPolicy": spec.reclaim_policy,
        "storageClassName": spec.object_name,
        "volumeMode": "Filesystem",
        "csi": {"driver": CSI_DRIVER, "volumeHandle": spec.volume_handle, "fsType": spec.fs_type},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": exprs}]}},
    }
    if claim_name:
        validate_dns1123_label(claim_namespace or "", "claim namespace")
        body["claimRef"] = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "namespace": claim_namespace,
            "name": claim_name,
        }
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": spec.object_name,
            "labels": volume_labels(spec),
            "annotations": {"pv.kubernetes.io/provisioned-by": CSI_DRIVER},
        },
        "spec": body,
    }


def build_volume_claim(spec: VolumeSpec, namespace: str, claim_name: str | None = None) -> dict[str, Any]:
    """A PVC bound to exactly this volume (``volumeName``) in ``namespace``."""
    name = validate_dns1123_label(claim_name or spec.name, "claim name")
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": validate_dns1123_label(namespace, "namespace"),
            "labels": volume_labels(spec),
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": spec.object_name,
            "volumeName": spec.object_name,
            "resources": {"requests": {"storage": spec.size}},
        },
    }


def build_volume(spec: VolumeSpec) -> list[dict[str, Any]]:
    """StorageClass then PV (apply order)."""
    return [build_storage_class(spec), build_persistent_volume(spec)]


def claim_resize_patch(new_size: str) -> dict[str, Any]:
    """Merge patch that asks Kubernetes to expand a PVC (the CSI then resizes the Proxmox disk)."""
    return {"spec": {"resources": {"requests": {"storage": validate_size(new_size)}}}}


def volume_capacity_patch(new_size: str) -> dict[str, Any]:
    """Merge patch for a static PV's ``spec.capacity`` after the disk was resized."""
    return {"spec": {"capacity": {"storage": validate_size(new_size)}}}
