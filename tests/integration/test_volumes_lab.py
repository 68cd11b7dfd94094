"""Storage volumes against the lab over real HTTP: create (PVE disk with the CSI name, SC + PV), an app
claims it, expand while attached (and refused while unattached), delete releases the disk; PVE failure
leaves no Kubernetes objects; a Kubernetes failure releases the disk; the quota ceiling rule."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients.errors import HksError, InvalidError
from hks_tui.config import profile_from_lab
from hks_tui.lab.faults import FaultRule
from hks_tui.lab.server import start_lab_in_thread
from hks_tui.manifests.volumes import VolumeSpec, build_volume_claim
from hks_tui.models import WorkflowStatus
from hks_tui.services import Services
from hks_tui.services.volumes import VolumeService
from hks_tui.services.workspaces import refs_from_lab
from hks_tui.store import Store
from hks_tui.validation import ValidationProblem

GI = 2**30


@pytest.fixture(scope="module")
def vlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = start_lab_in_thread(state_dir=tmp_path_factory.mktemp("vlab"), seed="demo", time_scale=20.0)
    try:
        yield running
    finally:
        running.stop()


def build_services(lab: Any, db: Path, workspace: str = "prod") -> Services:
    info = dict(lab.info)
    return Services.build(
        profile=profile_from_lab(info, workspace), store=Store.open(db), workspaces=refs_from_lab(info)
    )


@pytest.fixture
async def svc(vlab: Any, tmp_path: Path) -> AsyncIterator[VolumeService]:
    services = build_services(vlab, tmp_path / "hks.db")
    volumes = VolumeService(services, price_gib_month=0.1, wait_timeout=30.0)
    yield volumes
    await volumes.aclose()
    services.close()
    services.store.close()


def disk(lab: Any, volid: str) -> Any:
    return lab.call(lambda: lab.world.pve.find_volume(volid))


def raw(kube: Any, fn: Any, *args: Any) -> dict[str, Any] | None:
    from hks_tui.workflows.storage.common import read_raw

    return read_raw(kube, fn, *args)


def wait(probe: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached")


def claim_with_pod(kube: Any, spec: VolumeSpec, namespace: str = "default") -> None:
    kube.call(
        kube.core.create_namespaced_persistent_volume_claim, namespace, build_volume_claim(spec, namespace)
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{spec.name}-app", "namespace": namespace},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "docker.io/library/nginx:1.27",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": spec.name}}],
            "nodeSelector": {"hks.io/workspace": "prod"},
            "tolerations": [
                {"key": "hks.io/workspace", "operator": "Equal", "value": "prod", "effect": "NoSchedule"}
            ],
        },
    }
    kube.call(kube.core.create_namespaced_pod, namespace, pod)


async def test_volume_lifecycle_create_claim_expand_delete(vlab: Any, svc: VolumeService) -> None:
    kube = svc.clients.vcluster
    record = await svc.create("data1", "2Gi", region="jp-east", storage="local-lvm")
    assert record.status == WorkflowStatus.SUCCEEDED, record.error
    node = record.params["node"]
    volid = "local-lvm:vm-9999-hks-prod-data1"
    found = disk(vlab, volid)
    assert found is not None and found.size == 2 * GI and found.vmid == 9999 and found.node == node

    sc = raw(kube, kube.storage.read_storage_class, "hks-prod-data1")
    assert sc is not None and sc["provisioner"] == "csi.proxmox.sinextra.dev"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer" and sc["allowVolumeExpansion"] is True
    pv = raw(kube, kube.core.read_persistent_volume, "hks-prod-data1")
    assert pv is not None
    assert pv["spec"]["csi"]["volumeHandle"] == f"jp-east/{node}/local-lvm/vm-9999-hks-prod-data1"
    assert pv["metadata"]["labels"]["hks.io/volume"] == "data1"
    assert pv["metadata"]["labels"]["hks.io/workspace"] == "prod"
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"]
    assert {e["key"]: e["values"] for e in terms} == {
        "topology.kubernetes.io/region": ["jp-east"],
        "topology.kubernetes.io/zone": [node],
    }
    summary = await svc.list()
    row = next(r for r in summary.volumes if r.name == "data1")
    assert row.status == "Available" and row.monthly_cost == 0.2 and row.pve_node == node
    assert {r.name for r in summary.volumes} >= {"media", "backups", "data1"}
    media = next(r for r in summary.volumes if r.name == "media")  # mounted: kubelet stats know its use
    assert media.used_bytes == 12 * GI and media.used_percent == 60.0
    lines = svc.store.billing.list("prod")
    assert [(line.ref, line.quantity, line.amount) for line in lines] == [("volume:prod/data1", 2.0, 0.0)]

    # unattached: refused with the explanation
    with pytest.raises(InvalidError, match="attach it to a running app first"):
        await svc.expand("data1", "3Gi")
    with pytest.raises(ValidationProblem, match="only grow"):
        await svc.expand("data1", "1Gi")

    spec = VolumeSpec(
        name="data1", workspace="prod", size="2Gi", region="jp-east", zone=node, storage="local-lvm"
    )
    await svc.executor.run(claim_with_pod, kube, spec)
    wait(lambda: vlab.call(lambda: vlab.world.pve.volume_users(volid)))
    row = await svc.get("data1")
    assert row.status == "Bound to default/data1" and row.claim == "default/data1"

    record = await svc.expand("data1", "3Gi")
    assert record.status == WorkflowStatus.SUCCEEDED, record.error
    assert disk(vlab, volid).size == 3 * GI
    pvc = raw(kube, kube.core.read_namespaced_persistent_volume_claim, "data1", "default")
    assert pvc is not None and pvc["status"]["capacity"]["storage"] == "3Gi"
    pv = raw(kube, kube.core.read_persistent_volume, "hks-prod-data1")
    assert pv is not None and pv["spec"]["capacity"]["storage"] == "3Gi"
    open_lines = [line for line in svc.store.billing.list("prod") if line.period_end == line.period_start]
    assert [line.quantity for line in open_lines] == [2.0, 3.0]  # the 2 GiB line was closed

    with pytest.raises(InvalidError, match="bound to default/data1"):
        await svc.delete("data1", confirm="data1")
    with pytest.raises(ValidationProblem, match="type the volume name"):
        await svc.delete("data1", confirm="data")
    record = await svc.delete("data1", confirm="data1", bound_claim="default/data1")
    assert record.status == WorkflowStatus.SUCCEEDED, record.error
    assert disk(vlab, volid) is None
    assert raw(kube, kube.core.read_persistent_volume, "hks-prod-data1") is None
    assert raw(kube, kube.storage.read_storage_class, "hks-prod-data1") is None
    assert "data1" not in {r.name for r in (await svc.list()).volumes}
    refs = [line for line in svc.store.billing.list("prod") if line.period_end > line.period_start]
    assert len(refs) == 2  # both running lines closed


async def test_bad_input_is_refused_at_the_field(svc: VolumeService) -> None:
    with pytest.raises(ValidationProblem, match="unit"):
        await svc.create("ok-name", "500")
    with pytest.raises(ValidationProblem) as name_err:
        await svc.create("Bad_Name", "1Gi")
    assert name_err.value.field == "name"
    with pytest.raises(ValidationProblem, match="free on local-lvm"):
        await svc.create("huge", "15Ti", region="jp-east", storage="local-lvm")
    with pytest.raises(ValidationProblem, match="unknown region"):
        await svc.create("ok-name", "1Gi", region="mars")


async def test_shared_plan_is_refused(vlab: Any, tmp_path: Path) -> None:
    services = build_services(vlab, tmp_path / "dev.db", "dev")
    volumes = VolumeService(services)
    try:
        with pytest.raises(InvalidError, match="Dedicated plan"):
            await volumes.create("dev-vol", "1Gi")
    finally:
        await volumes.aclose()
        services.close()
        services.store.close()


async def test_pve_failure_leaves_no_kubernetes_objects(vlab: Any, svc: VolumeService) -> None:
    rule = vlab.call(
        vlab.world.faults.add,
        FaultRule("pve", method="POST", path=r"/storage/local-lvm/content$", error=500, count=20),
    )
    try:
        record = await svc.create("pvefail", "1Gi", region="jp-east", storage="local-lvm")
    finally:
        vlab.call(vlab.world.faults.remove, rule.id)
    assert record.status == WorkflowStatus.COMPENSATED
    kube = svc.clients.vcluster
    assert raw(kube, kube.core.read_persistent_volume, "hks-prod-pvefail") is None
    assert raw(kube, kube.storage.read_storage_class, "hks-prod-pvefail") is None
    assert svc.store.billing.list("prod") == []


async def test_kubernetes_failure_releases_the_disk(vlab: Any, svc: VolumeService) -> None:
    rule = vlab.call(
        vlab.world.faults.add,
        FaultRule("kube:prod", method="POST", path=r"/api/v1/persistentvolumes$", error=500, count=20),
    )
    try:
        record = await svc.create("kubefail", "1Gi", region="jp-east", storage="shared-nfs")
    finally:
        vlab.call(vlab.world.faults.remove, rule.id)
    assert record.status == WorkflowStatus.COMPENSATED, record.error
    assert disk(vlab, "shared-nfs:vm-9999-hks-prod-kubefail") is None  # compensation released it
    kube = svc.clients.vcluster
    assert raw(kube, kube.storage.read_storage_class, "hks-prod-kubefail") is None


async def test_quota_sum_may_not_exceed_provisioned_volumes(svc: VolumeService) -> None:
    summary = await svc.list()
    assert summary.provisioned_bytes >= 70 * GI  # media 20Gi + backups 50Gi
    row = await svc.set_quota("default", storage="40Gi", pvcs=5)
    assert row.requests_storage == "40Gi" and row.persistent_volume_claims == "5"
    kube = svc.clients.vcluster
    await svc.executor.run(
        lambda: kube.call(kube.core.create_namespace, {"metadata": {"name": "shop"}}, _preload_content=False)
    )
    too_much = summary.provisioned_bytes - 40 * GI + GI
    with pytest.raises(ValidationProblem, match="more than the") as err:
        await svc.set_quota("shop", storage=f"{too_much // GI}Gi")
    assert err.value.rule == "quota-ceiling"
    await svc.set_quota("shop", storage="10Gi")
    summary = await svc.list()
    assert summary.quota_bytes == 50 * GI <= summary.provisioned_bytes
    assert {(q.namespace, q.requests_storage) for q in summary.quotas} >= {
        ("default", "40Gi"),
        ("shop", "10Gi"),
    }
    with pytest.raises(HksError):
        await svc.get("nope")


def cli(lab: Any, data_dir: Path, *args: str) -> Any:
    from click.testing import CliRunner

    from hks_tui.cli import main

    lab_dir = str(Path(lab.info["kubeconfig"]).parent)
    base = ["--lab-dir", lab_dir, "--data-dir", str(data_dir), "--workspace", "prod"]
    return CliRunner().invoke(main, [*base, *args], catch_exceptions=False)


def test_headless_volumes_and_quotas(vlab: Any, tmp_path: Path) -> None:
    import json

    result = cli(
        vlab, tmp_path, "volumes", "create", "cli-vol", "--size", "1Gi", "--storage", "shared-nfs", "--json"
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["kind"] == "volume.create" and created["status"] == "succeeded"
    assert [s["name"] for s in created["steps"]] == [
        "verify_plan",
        "allocate",
        "kubernetes",
        "billing",
        "available",
    ]

    listed = json.loads(cli(vlab, tmp_path, "volumes", "list", "--json").output)
    row = next(v for v in listed["volumes"] if v["name"] == "cli-vol")
    assert row["status"] == "Available" and row["storage"] == "shared-nfs" and row["pve_node"] is None
    assert listed["provisioned_bytes"] >= 71 * GI

    bad = cli(vlab, tmp_path, "volumes", "create", "cli-vol2", "--size", "12")
    assert bad.exit_code == 1 and "size needs a unit" in bad.output
    refused = cli(vlab, tmp_path, "volumes", "expand", "cli-vol", "--size", "2Gi")
    assert refused.exit_code == 1 and "attach it to a running app first" in refused.output
    quota = cli(
        vlab,
        tmp_path,
        "quotas",
        "set",
        "default",
        "--storage",
        "30Gi",
        "--class",
        "hks-prod-media=20Gi",
        "--json",
    )
    assert quota.exit_code == 0, quota.output
    assert json.loads(quota.output)["per_class"] == {"hks-prod-media": "20Gi"}
    over = cli(vlab, tmp_path, "quotas", "set", "default", "--storage", "100Ti")
    assert over.exit_code == 1 and "requests.storage: the namespace storage quotas add up to" in over.output
    table = cli(vlab, tmp_path, "quotas", "list")
    assert table.exit_code == 0 and "provisioned" in table.output

    gone = cli(vlab, tmp_path, "volumes", "delete", "cli-vol", "--confirm", "cli-vol", "--json")
    assert gone.exit_code == 0, gone.output
    assert json.loads(gone.output)["status"] == "succeeded"
    assert disk(vlab, "shared-nfs:vm-9999-hks-prod-cli-vol") is None
