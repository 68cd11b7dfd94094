"""The seeds: what ``empty`` and ``demo`` contain, that ``demo`` converges (every pod Running except the
intentionally failing ones), and that every object in every cluster validates against the kubernetes
client's models."""

from __future__ import annotations

from collections import Counter

import kubernetes.client as k8s
import pytest

from hks_tui.lab.clock import LabClock
from hks_tui.lab.controllers import LabControllers
from hks_tui.lab.kube.resources import BY_PLURAL
from hks_tui.lab.seed import build_world
from hks_tui.lab.usage import pvc_usage
from hks_tui.lab.world import LabWorld


@pytest.fixture(scope="module")
def demo() -> LabWorld:
    clock = LabClock(time_scale=1e-9, start=1_795_305_660.0)  # fixed: deterministic schedules
    world = build_world("demo", clock)
    ctl = LabControllers(world)
    for _ in range(12):
        ctl.reconcile()
        clock.advance(1.0)
    return world


def test_unknown_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown seed"):
        build_world("full", LabClock())


def test_empty_seed_has_infrastructure_only() -> None:
    world = build_world("empty", LabClock())
    assert world.workspaces == {} and set(world.clusters) == {"host"}
    nodes = {n["metadata"]["name"]: n for n in world.host.store.list("nodes")}
    assert set(nodes) == {"k3s-server-1", "k3s-shared-1", "k3s-shared-2"}
    assert {n["metadata"]["labels"]["topology.kubernetes.io/region"] for n in nodes.values()} == {
        "jp-east",
        "jp-west",
    }
    assert {vm.name for vm in world.pve.vms.values() if not vm.template} == set(nodes)
    assert not [vm for vm in world.pve.vms.values() if "hks-managed" in vm.tags]


def test_demo_workspaces_and_dedicated_nodes(demo: LabWorld) -> None:
    assert demo.extra["org"] == "acme"
    assert {ws: (i.plan, i.vcluster, i.host_namespace) for ws, i in demo.workspaces.items()} == {
        "dev": ("shared", "vc-dev", "vcluster-dev"),
        "prod": ("dedicated", "vc-prod", "vcluster-prod"),
    }
    managed = [vm for vm in demo.pve.vms.values() if vm.tags == ["hks-managed", "hks-ws-prod"]]
    assert len(managed) == 3
    assert {demo.pve.region_of(vm.node) for vm in managed} == {"jp-east", "jp-west"}
    for vm in managed:
        node = demo.host.store.get("nodes", vm.name)
        assert node["metadata"]["labels"]["hks.io/workspace"] == "prod"
        assert node["metadata"]["labels"]["hks.io/pool"] == "default"
        assert {"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"} in node["spec"]["taints"]


def test_demo_converges(demo: LabWorld) -> None:
    phases: Counter[tuple[str, str]] = Counter()
    for name, cluster in demo.clusters.items():
        for pod in cluster.store.list("pods"):
            pod_name = pod["metadata"]["name"]
            phase = pod["status"]["phase"]
            if pod_name.startswith("preview-"):
                assert phase == "Pending"  # image tag "missing": ImagePullBackOff
                continue
            if pod_name.startswith("backup-media-"):
                assert phase == "Failed"
                continue
            assert phase == "Running", (name, pod_name, pod["status"])
            phases[(name, phase)] += 1
    assert phases[("dev", "Running")] == 6 and phases[("prod", "Running")] == 5
    for deploy in demo.clusters["prod"].store.list("deployments"):
        assert deploy["status"]["readyReplicas"] == deploy["spec"]["replicas"]


def test_demo_quota_is_near_full(demo: LabWorld) -> None:
    quota = demo.clusters["dev"].store.get("resourcequotas", "hks-quota", "default")
    assert (
        quota["status"]["used"]["requests.cpu"] == "3200m" and quota["status"]["hard"]["requests.cpu"] == "4"
    )


def test_demo_storage(demo: LabWorld) -> None:
    prod = demo.clusters["prod"].store
    claims = {c["metadata"]["name"]: c for c in prod.list("persistentvolumeclaims", "default")}
    assert set(claims) == {"media", "backups", "data-postgres-0"}
    assert all(c["status"]["phase"] == "Bound" for c in claims.values())
    used, capacity = pvc_usage(demo, "prod", "default", "backups")
    assert round(used / capacity, 2) == 0.87
    assert demo.pve.find_volume("local-lvm:vm-9999-hks-prod-media") is not None
    pg = prod.get("persistentvolumes", claims["data-postgres-0"]["spec"]["volumeName"])
    assert pg["spec"]["csi"]["volumeHandle"].split("/")[3].startswith("vm-9999-pvc-")
    for pv in prod.list("persistentvolumes"):
        assert pv["spec"]["csi"]["driver"] == "csi.proxmox.sinextra.dev"


def test_demo_backup_last_run_failed(demo: LabWorld) -> None:
    prod = demo.clusters["prod"]
    cj = prod.store.get("cronjobs", "backup-media", "default")
    assert cj["status"]["lastScheduleTime"] > cj["status"]["lastSuccessfulTime"]
    jobs = prod.store.list("jobs", "default")
    assert len(jobs) == 1
    failed = next(c for c in jobs[0]["status"]["conditions"] if c["type"] == "Failed")
    assert failed["status"] == "True" and failed["reason"] == "BackoffLimitExceeded"
    pod = next(
        p for p in prod.store.list("pods", "default") if p["metadata"]["name"].startswith("backup-media-")
    )
    lines = [line for _, line in prod.logs.lines("default", pod["metadata"]["name"], "backup")]
    assert any("No space left on device" in line for line in lines)


def test_every_object_validates_against_the_client_models(demo: LabWorld) -> None:
    checked = 0
    for cluster in demo.clusters.values():
        for plural, rt in BY_PLURAL.items():
            model = getattr(k8s, rt.model)
            for obj in cluster.store.list(plural):
                model.model_validate(obj)
                checked += 1
    assert checked > 100


def test_demo_next_backup_fails_until_the_target_is_expanded() -> None:
    from croniter import croniter

    clock = LabClock(time_scale=1e-9, start=1_795_305_660.0)  # fixed: deterministic schedules
    world = build_world("demo", clock)
    ctl = LabControllers(world)
    ctl.reconcile()
    prod = world.clusters["prod"]

    def run_next_backup() -> dict:
        next_run = croniter("0 2 * * *", clock.now()).get_next(float)
        clock.advance(next_run - clock.now() + 1)
        for _ in range(40):
            ctl.reconcile()
            clock.advance(1.0)
        jobs = sorted(prod.store.list("jobs", "default"), key=lambda j: j["metadata"]["name"])
        return jobs[-1]

    failed = run_next_backup()
    assert next(c for c in failed["status"]["conditions"] if c["type"] == "Failed")["status"] == "True"
    pod = next(
        p
        for p in prod.store.list("pods", "default")
        if p["metadata"]["name"].startswith(failed["metadata"]["name"])
    )
    assert pod["spec"]["nodeName"] == "prod-default-1"  # pve1, where the media disk lives
    assert pod["metadata"]["labels"]["hks.io/backup"] == "backup-media"
    lines = [line for _, line in prod.logs.lines("default", pod["metadata"]["name"], "backup")]
    assert any("No space left on device" in line for line in lines)

    prod.store.patch("storageclasses", "hks-prod-backups", None, {"allowVolumeExpansion": True}, "merge")
    prod.store.patch(
        "persistentvolumeclaims",
        "backups",
        "default",
        {"spec": {"resources": {"requests": {"storage": "100Gi"}}}},
        "merge",
    )
    for _ in range(5):
        ctl.reconcile()
        clock.advance(1.0)
    assert (
        prod.store.get("persistentvolumeclaims", "backups", "default")["status"]["capacity"]["storage"]
        == "100Gi"
    )
    assert world.pve.volume_size("shared-nfs:vm-9999-hks-prod-backups") == 100 * 2**30
    before = world.pvc_used_bytes[("prod", "default", "backups")]
    succeeded = run_next_backup()
    assert next(c for c in succeeded["status"]["conditions"] if c["type"] == "Complete")["status"] == "True"
    assert world.pvc_used_bytes[("prod", "default", "backups")] == before + 12 * 2**30  # media's 12 GiB
    assert prod.store.get("cronjobs", "backup-media", "default")["status"]["lastSuccessfulTime"]


def test_demo_is_reproducible() -> None:
    def pod_names() -> list[str]:
        clock = LabClock(time_scale=1e-9, start=1_795_000_000.0)
        world = build_world("demo", clock)
        ctl = LabControllers(world)
        for _ in range(6):
            ctl.reconcile()
            clock.advance(1.0)
        return sorted(p["metadata"]["name"] for c in world.clusters.values() for p in c.store.list("pods"))

    assert pod_names() == pod_names()
