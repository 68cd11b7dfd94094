"""Volume → StorageClass + PV (Proxmox CSI conventions) and storage quotas."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hks_tui.manifests import (
    VolumeSpec,
    build_persistent_volume,
    build_storage_class,
    build_storage_quota,
    build_volume,
    build_volume_claim,
    check_quota_ceiling,
)
from hks_tui.validation import ValidationProblem


def volume(**overrides: Any) -> VolumeSpec:
    data: dict[str, Any] = {
        "name": "media",
        "workspace": "prod",
        "size": "500Gi",
        "region": "jp-east",
        "zone": "pve1",
        "storage": "local-lvm",
    }
    data.update(overrides)
    return VolumeSpec(**data)


def test_storage_class() -> None:
    sc = build_storage_class(volume())
    assert sc["metadata"]["name"] == "hks-prod-media"
    assert sc["provisioner"] == "csi.proxmox.sinextra.dev"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["allowVolumeExpansion"] is True
    assert sc["parameters"] == {"storage": "local-lvm", "csi.storage.k8s.io/fstype": "ext4"}
    assert sc["metadata"]["labels"]["hks.io/volume"] == "media"


def test_persistent_volume_csi_conventions() -> None:
    spec = volume()
    assert spec.disk_name == "vm-9999-hks-prod-media"
    assert spec.size_mib == 500 * 1024
    pv = build_persistent_volume(spec)
    assert pv["spec"]["csi"] == {
        "driver": "csi.proxmox.sinextra.dev",
        "volumeHandle": "jp-east/pve1/local-lvm/vm-9999-hks-prod-media",
        "fsType": "ext4",
    }
    assert pv["spec"]["capacity"] == {"storage": "500Gi"}
    assert pv["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pv["spec"]["storageClassName"] == "hks-prod-media"
    exprs = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"]
    assert exprs == [
        {"key": "topology.kubernetes.io/region", "operator": "In", "values": ["jp-east"]},
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["pve1"]},
    ]
    assert pv["metadata"]["labels"]["hks.io/workspace"] == "prod"
    assert "claimRef" not in pv["spec"]


def test_shared_storage_and_prebinding() -> None:
    spec = volume(zone=None, storage="shared-nfs", size="1.5Ti")
    assert spec.volume_handle == "jp-east//shared-nfs/vm-9999-hks-prod-media"
    assert spec.size == "1536Gi"
    pv = build_persistent_volume(spec, claim_namespace="team-a", claim_name="media")
    exprs = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"]
    assert [e["key"] for e in exprs] == ["topology.kubernetes.io/region"]
    assert pv["spec"]["claimRef"]["namespace"] == "team-a"
    pvc = build_volume_claim(spec, "team-a")
    assert pvc["spec"]["volumeName"] == "hks-prod-media"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "1536Gi"
    assert [o["kind"] for o in build_volume(spec)] == ["StorageClass", "PersistentVolume"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Media"}, "DNS-1123"),
        ({"size": "500"}, "needs a unit"),
        ({"size": "5GB"}, "quantity"),
        ({"storage": "local lvm"}, "storage"),
        ({"region": ""}, "topology"),
        ({"fs_type": "btrfs"}, "ext4"),
    ],
)
def test_bad_volume_specs(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        volume(**overrides)


def test_storage_quota() -> None:
    quota = build_storage_quota(
        "team-a", requests_storage="200Gi", persistent_volume_claims=10, per_class={"hks-prod-media": "100Gi"}
    )
    assert quota["kind"] == "ResourceQuota"
    assert quota["metadata"] == {
        "name": "hks-storage",
        "namespace": "team-a",
        "labels": {"app.kubernetes.io/managed-by": "hks-tui"},
    }
    assert quota["spec"]["hard"] == {
        "requests.storage": "200Gi",
        "persistentvolumeclaims": "10",
        "hks-prod-media.storageclass.storage.k8s.io/requests.storage": "100Gi",
    }
    with pytest.raises(ValidationProblem, match="at least one limit"):
        build_storage_quota("team-a")
    with pytest.raises(ValidationProblem):
        build_storage_quota("team-a", persistent_volume_claims=-1)
    with pytest.raises(ValidationProblem):
        build_storage_quota("Team", requests_storage="1Gi")


def test_quota_ceiling() -> None:
    check = check_quota_ceiling({"team-a": "200Gi", "team-b": "300Gi"}, "500Gi")
    assert check.free_bytes == 0
    assert check_quota_ceiling({}, "1Ti").free_bytes == 2**40
    with pytest.raises(ValidationProblem) as info:
        check_quota_ceiling({"team-a": "200Gi", "team-b": 400 * 2**30}, "500Gi")
    assert info.value.rule == "quota-ceiling"
    assert (
        "600Gi" in info.value.message
        and "500Gi" in info.value.message
        and "over by 100Gi" in info.value.message
    )


def test_resize_patches() -> None:
    from hks_tui.manifests import claim_resize_patch, volume_capacity_patch

    assert claim_resize_patch("1.5Ti") == {"spec": {"resources": {"requests": {"storage": "1536Gi"}}}}
    assert volume_capacity_patch("30Gi") == {"spec": {"capacity": {"storage": "30Gi"}}}
    with pytest.raises(ValidationProblem):
        claim_resize_patch("30")
