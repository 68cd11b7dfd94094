"""PV binding, the Proxmox CSI provisioner (disk allocated in the simulated Proxmox), attach, expansion,
reclaim, and ResourceQuota status and enforcement."""

from __future__ import annotations

from typing import Any

import pytest

from hks_tui.lab.kube.errors import ApiError
from tests.unit.lab.test_controllers_workloads import Lab

GIB = 2**30


def storage_class(
    name: str, storage: str, binding: str = "WaitForFirstConsumer", expand: bool = True
) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "provisioner": "csi.proxmox.sinextra.dev",
        "parameters": {"storage": storage},
        "volumeBindingMode": binding,
        "allowVolumeExpansion": expand,
    }


def claim(name: str, sc: str, size: str = "1Gi") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": sc,
            "resources": {"requests": {"storage": size}},
        },
    }


def user(name: str, pvc: str, **extra: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}
            ],
            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": pvc}}],
            **extra,
        },
    }


def test_csi_provisioning_allocates_and_attaches_a_proxmox_disk() -> None:
    lab = Lab()
    lab.store.create("storageclasses", storage_class("pve-local", "local-lvm"))
    lab.store.create("persistentvolumeclaims", claim("data", "pve-local", "3Gi"), "default")
    lab.run(2)
    pvc = lab.store.get("persistentvolumeclaims", "data", "default")
    assert pvc["status"]["phase"] == "Pending"  # WaitForFirstConsumer
    assert "WaitForFirstConsumer" in lab.events("data")
    lab.store.create("pods", user("app", "data"), "default")
    lab.run(6)
    pvc = lab.store.get("persistentvolumeclaims", "data", "default")
    assert pvc["status"]["phase"] == "Bound" and pvc["status"]["capacity"]["storage"] == "3Gi"
    pod = lab.store.get("pods", "app", "default")
    assert pod["status"]["phase"] == "Running"
    node = lab.store.get("nodes", pod["spec"]["nodeName"])
    vmid = int(node["spec"]["providerID"].rsplit("/", 1)[1])
    vm = lab.world.pve.vms[vmid]
    pv = lab.store.get("persistentvolumes", pvc["spec"]["volumeName"])
    disk = f"vm-9999-pvc-{pvc['metadata']['uid']}"
    region = lab.world.pve.region_of(vm.node)
    assert pv["spec"]["csi"]["driver"] == "csi.proxmox.sinextra.dev"
    assert pv["spec"]["csi"]["volumeHandle"] == f"{region}/{vm.node}/local-lvm/{disk}"
    exprs = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"]
    assert {e["key"]: e["values"] for e in exprs} == {
        "topology.kubernetes.io/region": [region],
        "topology.kubernetes.io/zone": [vm.node],
    }
    assert pv["spec"]["claimRef"]["name"] == "data" and pv["status"]["phase"] == "Bound"
    volid = f"local-lvm:{disk}"
    assert lab.world.pve.volume_size(volid) == 3 * GIB
    assert lab.world.pve.volume_users(volid) == [vmid]
    assert "ProvisioningSucceeded" in lab.events("data")


def test_expansion_resizes_the_disk_and_walks_the_conditions() -> None:
    lab = Lab()
    lab.store.create("storageclasses", storage_class("pve", "local-lvm"))
    lab.store.create("persistentvolumeclaims", claim("grow", "pve", "1Gi"), "default")
    lab.store.create("pods", user("g", "grow"), "default")
    lab.run(6)
    lab.store.patch(
        "persistentvolumeclaims",
        "grow",
        "default",
        {"spec": {"resources": {"requests": {"storage": "4Gi"}}}},
        "merge",
    )
    lab.ctl.reconcile()
    pvc = lab.store.get("persistentvolumeclaims", "grow", "default")
    assert pvc["status"]["allocatedResourceStatuses"]["storage"] == "NodeResizePending"
    assert any(c["type"] == "FileSystemResizePending" for c in pvc["status"]["conditions"])
    volid = f"local-lvm:vm-9999-pvc-{pvc['metadata']['uid']}"
    assert lab.world.pve.volume_size(volid) == 4 * GIB
    lab.run(4)
    pvc = lab.store.get("persistentvolumeclaims", "grow", "default")
    assert pvc["status"]["capacity"]["storage"] == "4Gi" and "conditions" not in pvc["status"]
    assert (
        lab.store.get("persistentvolumes", pvc["spec"]["volumeName"])["spec"]["capacity"]["storage"] == "4Gi"
    )
    with pytest.raises(ApiError) as shrink:
        lab.store.patch(
            "persistentvolumeclaims",
            "grow",
            "default",
            {"spec": {"resources": {"requests": {"storage": "1Gi"}}}},
            "merge",
        )
    assert shrink.value.code == 422


def test_expansion_needs_a_class_that_allows_it() -> None:
    lab = Lab()
    lab.store.create(
        "storageclasses", storage_class("fixed", "shared-nfs", binding="Immediate", expand=False)
    )
    lab.store.create("persistentvolumeclaims", claim("f", "fixed"), "default")
    lab.run(2)
    assert lab.store.get("persistentvolumeclaims", "f", "default")["status"]["phase"] == "Bound"
    pv = lab.store.list("persistentvolumes")[0]
    assert "//shared-nfs/" in pv["spec"]["csi"]["volumeHandle"]  # shared storage: no zone
    with pytest.raises(ApiError) as refused:
        lab.store.patch(
            "persistentvolumeclaims",
            "f",
            "default",
            {"spec": {"resources": {"requests": {"storage": "2Gi"}}}},
            "merge",
        )
    assert refused.value.code == 403 and "must support resize" in refused.value.message


def test_static_pv_binds_by_claim_ref_and_delete_reclaims_the_disk() -> None:
    lab = Lab()
    pve = lab.world.pve
    volid = pve.allocate_volume("pve2", "local-lvm", "vm-9999-static", 2 * GIB, 9999)
    lab.store.create("storageclasses", storage_class("pve", "local-lvm", binding="Immediate"))
    lab.store.create(
        "persistentvolumes",
        {
            "metadata": {"name": "static"},
            "spec": {
                "capacity": {"storage": "2Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "pve",
                "persistentVolumeReclaimPolicy": "Delete",
                "claimRef": {"namespace": "default", "name": "mine"},
                "csi": {
                    "driver": "csi.proxmox.sinextra.dev",
                    "volumeHandle": "jp-east/pve2/local-lvm/vm-9999-static",
                },
            },
        },
    )
    lab.store.create("persistentvolumeclaims", claim("mine", "pve", "2Gi"), "default")
    lab.run(2)
    assert lab.store.get("persistentvolumeclaims", "mine", "default")["spec"]["volumeName"] == "static"
    lab.store.delete("persistentvolumeclaims", "mine", "default")
    lab.run(2)
    assert lab.store.find("persistentvolumes", "static") is None
    assert pve.find_volume(volid) is None


def quota(hard: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": "compute"}, "spec": {"hard": hard}}


def small_pod(name: str, cpu: str | None = "500m") -> dict[str, Any]:
    resources = {"requests": {"cpu": cpu, "memory": "128Mi"}} if cpu else {}
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "nginx", "resources": resources}]},
    }


def test_quota_status_tracks_usage_and_enforces_limits() -> None:
    lab = Lab()
    lab.store.create(
        "resourcequotas",
        quota(
            {
                "requests.cpu": "1",
                "pods": "5",
                "requests.memory": "1Gi",
                "persistentvolumeclaims": "1",
                "count/deployments.apps": "3",
            }
        ),
        "default",
    )
    lab.store.create("pods", small_pod("a"), "default")
    lab.ctl.reconcile()
    used = lab.store.get("resourcequotas", "compute", "default")["status"]["used"]
    assert used == {
        "requests.cpu": "500m",
        "pods": "1",
        "requests.memory": "128Mi",
        "persistentvolumeclaims": "0",
        "count/deployments.apps": "0",
    }
    lab.store.create("pods", small_pod("b", "400m"), "default")
    with pytest.raises(ApiError) as exceeded:
        lab.store.create("pods", small_pod("c", "200m"), "default")
    assert exceeded.value.code == 403 and exceeded.value.reason == "Forbidden"
    assert exceeded.value.message == (
        'pods "c" is forbidden: exceeded quota: compute, requested: requests.cpu=200m, '
        "used: requests.cpu=900m, limited: requests.cpu=1"
    )
    with pytest.raises(ApiError) as unspecified:
        lab.store.create("pods", small_pod("d", None), "default")
    assert "failed quota: compute: must specify requests.cpu for: app" in unspecified.value.message
    lab.store.create("persistentvolumeclaims", claim("one", "local-path"), "default")
    with pytest.raises(ApiError, match="exceeded quota: compute, requested: persistentvolumeclaims=1"):
        lab.store.create("persistentvolumeclaims", claim("two", "local-path"), "default")


def test_quota_blocked_replicaset_reports_failed_create() -> None:
    lab = Lab()
    lab.store.create("resourcequotas", quota({"requests.cpu": "250m"}), "default")
    labels = {"app": "q"}
    lab.store.create(
        "deployments",
        {
            "metadata": {"name": "q"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100m"}}}
                        ]
                    },
                },
            },
        },
        "default",
    )
    lab.run(3)
    assert len(lab.pods("q-")) == 2
    rs = lab.store.list("replicasets", "default")[0]
    assert "FailedCreate" in lab.events(rs["metadata"]["name"])
    deploy = lab.store.get("deployments", "q", "default")
    assert any(c["type"] == "ReplicaFailure" for c in deploy["status"]["conditions"])


def test_pod_waits_while_its_disk_is_missing() -> None:
    lab = Lab()
    lab.store.create("storageclasses", storage_class("pve", "local-lvm", binding="Immediate"))
    lab.store.create(
        "persistentvolumes",
        {
            "metadata": {"name": "ghost"},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "pve",
                "claimRef": {"namespace": "default", "name": "ghost"},
                "csi": {
                    "driver": "csi.proxmox.sinextra.dev",
                    "volumeHandle": "jp-east/pve2/local-lvm/vm-9999-nowhere",
                },
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {
                                        "key": "topology.kubernetes.io/zone",
                                        "operator": "In",
                                        "values": ["pve2"],
                                    }
                                ]
                            }
                        ]
                    }
                },
            },
        },
    )
    lab.store.create("persistentvolumeclaims", claim("ghost", "pve"), "default")
    lab.store.create("pods", user("stuck", "ghost"), "default")
    lab.run(6)
    pod = lab.store.get("pods", "stuck", "default")
    assert pod["spec"]["nodeName"] == "k3s-shared-1"  # the only node in zone pve2
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    assert "FailedAttachVolume" in lab.events("stuck")
    lab.world.pve.allocate_volume("pve2", "local-lvm", "vm-9999-nowhere", 2**30, 9999)
    lab.run(5)
    assert lab.store.get("pods", "stuck", "default")["status"]["phase"] == "Running"
    assert lab.world.pve.volume_users("local-lvm:vm-9999-nowhere") == [101]


def test_database_pods_fill_their_volumes() -> None:
    from hks_tui.lab.controllers.volumeuse import GROWTH_BYTES_PER_MINUTE
    from hks_tui.lab.usage import pvc_usage

    lab = Lab()
    lab.store.create("persistentvolumeclaims", claim("pgdata", "local-path", "10Gi"), "default")
    db = user("db", "pgdata")
    db["spec"]["containers"][0]["image"] = "postgres:16.4"
    lab.store.create("pods", db, "default")
    lab.run(5)
    start, capacity = pvc_usage(lab.world, "host", "default", "pgdata")
    assert capacity == 10 * GIB
    lab.run(600, step=30.0)
    grown = lab.world.pvc_used_bytes[("host", "default", "pgdata")]
    assert grown - start == pytest.approx(10 * GROWTH_BYTES_PER_MINUTE, rel=0.01)


def test_static_volume_grown_by_the_console_needs_no_attachment() -> None:
    lab = Lab()
    pve = lab.world.pve
    volid = pve.allocate_volume("pve2", "local-lvm", "vm-9999-hks-x-vol", 2 * GIB, 9999)
    lab.store.create("storageclasses", storage_class("hks-x-vol", "local-lvm", binding="Immediate"))
    lab.store.create(
        "persistentvolumes",
        {
            "metadata": {"name": "hks-x-vol"},
            "spec": {
                "capacity": {"storage": "2Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "hks-x-vol",
                "claimRef": {"namespace": "default", "name": "vol"},
                "csi": {
                    "driver": "csi.proxmox.sinextra.dev",
                    "volumeHandle": "jp-east/pve2/local-lvm/vm-9999-hks-x-vol",
                },
            },
        },
    )
    lab.store.create("persistentvolumeclaims", claim("vol", "hks-x-vol", "2Gi"), "default")
    lab.run(2)
    pve.resize_volume(volid, 5 * GIB)  # the console resizes the disk through the Proxmox API ...
    lab.store.patch(
        "persistentvolumes", "hks-x-vol", None, {"spec": {"capacity": {"storage": "5Gi"}}}, "merge"
    )
    lab.store.patch(
        "persistentvolumeclaims",
        "vol",
        "default",
        {"spec": {"resources": {"requests": {"storage": "5Gi"}}}},
        "merge",
    )  # ... then asks for it
    lab.run(4)
    assert lab.store.get("persistentvolumeclaims", "vol", "default")["status"]["capacity"]["storage"] == "5Gi"
    assert "VolumeResizeFailed" not in lab.events("vol")
