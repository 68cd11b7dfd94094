"""PVC expansion: admission (shrink → 422, class without ``allowVolumeExpansion`` → 403) and the
external-resizer + kubelet steps (Proxmox disk resize, ``allocatedResourceStatuses``, the ``Resizing`` /
``FileSystemResizePending`` conditions, then ``status.capacity``). Unattached CSI volumes cannot be expanded
("cannot resize unpublished volume"), like the real plugin."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.common import Recorder, name_of, peek, set_condition, uid_of, write_status
from hks_tui.lab.controllers.podsched import storage_class_of
from hks_tui.lab.controllers.pvutil import CSI_DRIVER, MIB, capacity_bytes, requested_bytes, volid_of
from hks_tui.lab.controllers.quantity import format_bytes
from hks_tui.lab.kube.errors import forbidden, invalid
from hks_tui.lab.pve.errors import PveError

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld


def install_pvc_admission(cluster: KubeCluster) -> None:
    def admit(op: str, resource: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if op != "UPDATE" or resource != "persistentvolumeclaims" or old is None:
            return
        new_size, old_size = requested_bytes(obj), requested_bytes(old)
        if new_size == old_size:
            return
        name = name_of(obj)
        bound_cap = capacity_bytes(old)
        if new_size < old_size and new_size < max(bound_cap, 1):
            raise invalid(
                "PersistentVolumeClaim",
                name,
                [
                    {
                        "reason": "FieldValueForbidden",
                        "field": "spec.resources.requests.storage",
                        "message": "Forbidden: field can not be less than status.capacity",
                    }
                ],
            )
        if new_size > old_size:
            sc = storage_class_of(cluster, old)
            if (old.get("status") or {}).get("phase") != "Bound" or not (sc or {}).get(
                "allowVolumeExpansion"
            ):
                raise forbidden(
                    f'persistentvolumeclaims "{name}" is forbidden: only dynamically provisioned pvc can '
                    "be resized and the storageclass that provisions the pvc must support resize",
                    "persistentvolumeclaims",
                    name,
                )

    cluster.store.add_admission(admit)


class VolumeResizer:
    def __init__(self, world: LabWorld, cluster: KubeCluster, recorder: Recorder) -> None:
        self.world, self.cluster, self.recorder = world, cluster, recorder
        self.store = cluster.store
        self._resize_done_at: dict[str, float] = {}

    def resize(self, pvc: dict[str, Any]) -> None:
        """Drive one bound PVC through an expansion when its request exceeds its capacity."""
        want, have = requested_bytes(pvc), capacity_bytes(pvc)
        uid = uid_of(pvc)
        if want <= have:
            return
        pv = peek(self.store, "persistentvolumes", (pvc.get("spec") or {}).get("volumeName", ""))
        if pv is None:
            return
        now = self.world.clock.now()
        iso = self.world.clock.iso()
        status = dict(pvc.get("status") or {})
        volid = volid_of(pv)
        new_size = math.ceil(want / MIB) * MIB
        if uid not in self._resize_done_at:
            # like the external-resizer: a PV already as large as the request needs no controller expansion
            # (the console resizes a static volume's disk itself and patches the PV capacity first)
            pv_big_enough = capacity_bytes(pv, "spec") >= want
            if volid is not None and not pv_big_enough:
                if not self.world.pve.volume_users(volid):
                    status["allocatedResources"] = {"storage": format_bytes(want)}
                    status["allocatedResourceStatuses"] = {"storage": "ControllerResizeInProgress"}
                    status["conditions"] = set_condition(
                        status.get("conditions") or [], "Resizing", "True", iso, probe=True
                    )
                    write_status(self.store, "persistentvolumeclaims", pvc, status)
                    self.recorder.record(
                        self.cluster,
                        pvc,
                        "Warning",
                        "VolumeResizeFailed",
                        f'resize volume "{name_of(pv)}" by resizer "{CSI_DRIVER}" failed: rpc error: '
                        "code = Internal desc = cannot resize unpublished volume",
                        f"external-resizer {CSI_DRIVER}",
                        min_interval=60.0,
                    )
                    return
                try:
                    self.world.pve.resize_volume(volid, new_size)
                except PveError as exc:
                    self.recorder.record(
                        self.cluster,
                        pvc,
                        "Warning",
                        "VolumeResizeFailed",
                        exc.message,
                        f"external-resizer {CSI_DRIVER}",
                        min_interval=60.0,
                    )
                    return
            self.recorder.record(
                self.cluster,
                pvc,
                "Normal",
                "Resizing",
                f"External resizer is resizing volume {name_of(pv)}",
                f"external-resizer {CSI_DRIVER}",
            )
            if not pv_big_enough:
                self.store.patch(
                    "persistentvolumes",
                    name_of(pv),
                    None,
                    {"spec": {"capacity": {"storage": format_bytes(new_size)}}},
                    "merge",
                )
            status["allocatedResources"] = {"storage": format_bytes(want)}
            status["allocatedResourceStatuses"] = {"storage": "NodeResizePending"}
            conds = [c for c in status.get("conditions") or [] if c.get("type") != "Resizing"]
            status["conditions"] = set_condition(
                conds,
                "FileSystemResizePending",
                "True",
                iso,
                message="Waiting for user to (re-)start a pod to finish file system "
                "resize of volume on node.",
                probe=True,
            )
            write_status(self.store, "persistentvolumeclaims", pvc, status)
            self.recorder.record(
                self.cluster,
                pvc,
                "Normal",
                "FileSystemResizeRequired",
                "Require file system resize of volume on node",
                f"external-resizer {CSI_DRIVER}",
            )
            self._resize_done_at[uid] = now + 2.0
            return
        if now < self._resize_done_at[uid]:
            return
        del self._resize_done_at[uid]
        status["capacity"] = {"storage": format_bytes(max(new_size, capacity_bytes(pv, "spec")))}
        status.pop("allocatedResourceStatuses", None)
        status["allocatedResources"] = {"storage": format_bytes(want)}
        status["conditions"] = [
            c
            for c in status.get("conditions") or []
            if c.get("type") not in ("FileSystemResizePending", "Resizing")
        ]
        if not status["conditions"]:
            del status["conditions"]
        write_status(self.store, "persistentvolumeclaims", pvc, status)
        self.recorder.record(
            self.cluster,
            pvc,
            "Normal",
            "FileSystemResizeSuccessful",
            f'MountVolume.NodeExpandVolume succeeded for volume "{name_of(pv)}"',
            "kubelet",
        )
