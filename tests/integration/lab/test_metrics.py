"""The metrics exposition: format, names/labels, values derived from the world, monotonic counters.

Built on a small hand-made world (host cluster + one vCluster with a mirrored pod) so every value is
known; test_metrics_lab.py checks the same endpoint on the seeded lab over HTTP.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from hks_tui.lab.clock import LabClock
from hks_tui.lab.faults import FaultRegistry
from hks_tui.lab.kube.cluster import KubeCluster
from hks_tui.lab.metrics import render_metrics
from hks_tui.lab.pve.infra import build_infrastructure
from hks_tui.lab.usage import container_usage, node_usage, parse_quantity, pod_usage, pvc_usage
from hks_tui.lab.world import LabCredentials, LabWorld, WorkspaceInfo

GIB = 2**30
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')

Sample = tuple[str, dict[str, str], float]


def parse_exposition(text: str) -> tuple[list[Sample], dict[str, str], dict[str, str]]:
    """Parse text format 0.0.4 strictly: every sample line well-formed, HELP/TYPE before samples."""
    samples: list[Sample] = []
    types: dict[str, str] = {}
    helps: dict[str, str] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, doc = line[7:].partition(" ")
            helps[name] = doc
            continue
        if line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}, line
            types[name] = kind
            continue
        assert line and not line.startswith("#"), f"unexpected line {line!r}"
        match = _SAMPLE.match(line)
        assert match, f"malformed sample {line!r}"
        name, _, raw_labels, value = match.groups()
        assert name in types and name in helps, f"{name} has no TYPE/HELP before its samples"
        labels: dict[str, str] = {}
        pos = 0
        while raw_labels and pos < len(raw_labels):
            lm = _LABEL.match(raw_labels, pos)
            assert lm, f"malformed labels in {line!r}"
            labels[lm.group(1)] = lm.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
            pos = lm.end()
        samples.append((name, labels, float(value)))
    return samples, types, helps


def find(samples: list[Sample], name: str, **labels: str) -> list[Sample]:
    return [s for s in samples if s[0] == name and all(s[1].get(k) == v for k, v in labels.items())]


def _ns(store: Any, name: str) -> None:
    store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def _node(name: str, ready: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}],
        },
    }


def _pod(name: str, ns: str, node: str, claim: str | None = None, **meta: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "nodeName": node,
        "containers": [
            {
                "name": "app",
                "image": "nginx:1.27",
                "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
            }
        ],
    }
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, **meta},
        "spec": spec,
        "status": {"phase": "Running", "hostIP": "10.0.0.1", "podIP": "10.42.0.5"},
    }


def _pvc(name: str, ns: str, size: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns, **meta},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
        "status": {"phase": "Bound", "capacity": {"storage": size}},
    }


class FrozenClock(LabClock):
    """Lab time that moves only by advance(), so two reads of the same usage agree exactly."""

    def now(self) -> float:
        return self._epoch0 + self._offset


@pytest.fixture
def world() -> LabWorld:
    clock = FrozenClock(time_scale=1.0, start=1_800_000_000.0)
    host = KubeCluster("host", "host", clock)
    vc = KubeCluster("prod", "vcluster", clock, workspace="prod")
    w = LabWorld(
        clock=clock,
        pve=build_infrastructure(clock),
        clusters={"host": host, "prod": vc},
        faults=FaultRegistry(),
        credentials=LabCredentials(),
        workspaces={"prod": WorkspaceInfo("prod", "dedicated", "vc-prod", "vcluster-prod")},
    )
    for store in (host.store, vc.store):
        for ns in ("default", "vcluster-prod", "apps"):
            if store.find("namespaces", ns) is None:
                _ns(store, ns)
    host.store.create("nodes", _node("prod-a"))
    host.store.create("nodes", _node("prod-b", ready=False))
    vc.store.create("nodes", _node("prod-a"))
    vc.store.create("persistentvolumeclaims", _pvc("data-db-0", "apps", "10Gi"))
    vpod = vc.store.create("pods", _pod("db-0", "apps", "prod-a", claim="data-db-0"))
    host_pvc = "data-db-0-x-apps-x-vc-prod"
    synced = {"vcluster.loft.sh/object-name": "data-db-0", "vcluster.loft.sh/object-namespace": "apps"}
    host.store.create("persistentvolumeclaims", _pvc(host_pvc, "vcluster-prod", "10Gi", annotations=synced))
    notes = {
        "vcluster.loft.sh/object-name": "db-0",
        "vcluster.loft.sh/object-namespace": "apps",
        "vcluster.loft.sh/object-uid": vpod["metadata"]["uid"],
    }
    host.store.create(
        "pods",
        _pod(
            "db-0-x-apps-x-vc-prod",
            "vcluster-prod",
            "prod-a",
            claim=host_pvc,
            annotations=notes,
            labels={"vcluster.loft.sh/managed-by": "vc-prod"},
        ),
    )
    host.store.create("pods", _pod("coredns", "default", "prod-a"))
    w.pvc_used_bytes[("prod", "apps", "data-db-0")] = int(10 * GIB * 0.87)
    vc.store.create(
        "resourcequotas",
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "compute", "namespace": "apps"},
            "spec": {"hard": {"requests.cpu": "4", "requests.memory": "8Gi"}},
            "status": {
                "hard": {"requests.cpu": "4", "requests.memory": "8Gi"},
                "used": {"requests.cpu": "3200m", "requests.memory": "2Gi"},
            },
        },
    )
    vc.store.create(
        "cronjobs",
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "backup-db", "namespace": "apps"},
            "spec": {
                "schedule": "0 * * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "b", "image": "busybox"}],
                            }
                        }
                    }
                },
            },
            "status": {
                "lastScheduleTime": "2027-01-15T08:00:00Z",
                "lastSuccessfulTime": "2027-01-15T07:00:05Z",
            },
        },
    )
    return w


def test_exposition_is_well_formed_with_real_names(world: LabWorld) -> None:
    samples, types, helps = parse_exposition(render_metrics(world))
    names = {s[0] for s in samples}
    for expected in (
        "kubelet_volume_stats_used_bytes",
        "kubelet_volume_stats_capacity_bytes",
        "kubelet_volume_stats_available_bytes",
        "kube_resourcequota",
        "kube_pod_info",
        "kube_node_status_condition",
        "kube_cronjob_status_last_successful_time",
        "node_cpu_seconds_total",
        "node_memory_MemTotal_bytes",
        "node_memory_MemAvailable_bytes",
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
    ):
        assert expected in names, expected
    assert types["node_cpu_seconds_total"] == "counter"
    assert types["container_cpu_usage_seconds_total"] == "counter"
    assert types["kube_resourcequota"] == "gauge"
    assert set(helps) == set(types)


def test_pvc_stats_use_host_names_and_world_usage(world: LabWorld) -> None:
    samples, _, _ = parse_exposition(render_metrics(world))
    used = find(
        samples, "kubelet_volume_stats_used_bytes", persistentvolumeclaim="data-db-0-x-apps-x-vc-prod"
    )
    cap = find(
        samples, "kubelet_volume_stats_capacity_bytes", persistentvolumeclaim="data-db-0-x-apps-x-vc-prod"
    )
    avail = find(
        samples, "kubelet_volume_stats_available_bytes", persistentvolumeclaim="data-db-0-x-apps-x-vc-prod"
    )
    assert len(used) == len(cap) == len(avail) == 1
    assert used[0][1]["namespace"] == "vcluster-prod" and used[0][1]["node"] == "prod-a"
    assert cap[0][2] == 10 * GIB
    assert used[0][2] == int(10 * GIB * 0.87)
    assert avail[0][2] == cap[0][2] - used[0][2]
    assert used[0][2] / cap[0][2] >= 0.85
    # the vCluster-side name never appears in kubelet metrics (the kubelet only knows host objects)
    assert not find(samples, "kubelet_volume_stats_used_bytes", persistentvolumeclaim="data-db-0")
    assert pvc_usage(world, "prod", "apps", "data-db-0") == (int(10 * GIB * 0.87), 10 * GIB)
    with pytest.raises(KeyError):
        pvc_usage(world, "prod", "apps", "nope")


def test_ksm_series(world: LabWorld) -> None:
    samples, _, _ = parse_exposition(render_metrics(world))
    quota = {
        (s[1]["resource"], s[1]["type"]): s[2]
        for s in find(
            samples, "kube_resourcequota", cluster="prod", namespace="apps", resourcequota="compute"
        )
    }
    assert quota == {
        ("requests.cpu", "hard"): 4.0,
        ("requests.memory", "hard"): 8 * GIB,
        ("requests.cpu", "used"): 3.2,
        ("requests.memory", "used"): 2 * GIB,
    }
    ready = find(samples, "kube_node_status_condition", cluster="host", node="prod-b", condition="Ready")
    assert {s[1]["status"]: s[2] for s in ready} == {"true": 0, "false": 0, "unknown": 1}
    info = find(samples, "kube_pod_info", cluster="host", pod="db-0-x-apps-x-vc-prod")
    assert len(info) == 1 and info[0][1]["namespace"] == "vcluster-prod" and info[0][1]["node"] == "prod-a"
    assert find(samples, "kube_pod_info", cluster="prod", pod="db-0", namespace="apps")
    last = find(samples, "kube_cronjob_status_last_successful_time", cluster="prod", cronjob="backup-db")
    assert [s[2] for s in last] == [parse_iso("2027-01-15T07:00:05Z")]


def parse_iso(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def test_usage_is_deterministic_and_shared_by_mirrors(world: LabWorld) -> None:
    host, vc = world.clusters["host"].store, world.clusters["prod"].store
    vpod = vc.get("pods", "db-0", "apps")
    hpod = host.get("pods", "db-0-x-apps-x-vc-prod", "vcluster-prod")
    assert container_usage(world, "prod", vpod, "app") == container_usage(world, "host", hpod, "app")
    cpu, mem = pod_usage(world, "prod", vpod)
    assert 0 < cpu <= 0.5 * 0.9 + 1e-9 and 0 < mem <= 512 * 2**20
    node_cpu, node_mem = node_usage(world, "host", host.get("nodes", "prod-a"))
    assert node_cpu > cpu and node_mem > mem
    assert node_usage(world, "prod", vc.get("nodes", "prod-a")) == (node_cpu, node_mem)
    assert node_usage(world, "host", host.get("nodes", "prod-b")) == (0.0, 0)
    assert parse_quantity("250m") == 0.25 and parse_quantity("1.5Gi") == 1.5 * GIB and parse_quantity(3) == 3


def test_counters_are_monotonic_over_lab_time(world: LabWorld) -> None:
    def counters() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        samples, types, _ = parse_exposition(render_metrics(world))
        return {(n, tuple(sorted(lab.items()))): v for n, lab, v in samples if types[n] == "counter"}

    first = counters()
    world.clock.advance(120)
    second = counters()
    assert first and set(first) == set(second)
    assert all(second[k] >= first[k] for k in first)
    idle = [k for k in first if k[0] == "node_cpu_seconds_total" and ("mode", "idle") in k[1]]
    assert len(idle) == 4  # prod-a has 4 CPUs; NotReady prod-b exports nothing
    assert all(second[k] - first[k] > 60 for k in idle)  # a mostly idle CPU: > 60 of 120 s idle
    ctr = next(k for k in first if k[0] == "container_cpu_usage_seconds_total")
    assert 0 < second[ctr] - first[ctr] <= 120 * 0.5


def test_pvc_stats_fall_back_to_the_vcluster_side(world: LabWorld) -> None:
    """If the host copy of a PVC is missing, the mirrored pod still reports the vCluster PVC's usage."""
    world.clusters["host"].store.delete(
        "persistentvolumeclaims", "data-db-0-x-apps-x-vc-prod", "vcluster-prod"
    )
    samples, _, _ = parse_exposition(render_metrics(world))
    used = find(
        samples, "kubelet_volume_stats_used_bytes", persistentvolumeclaim="data-db-0-x-apps-x-vc-prod"
    )
    assert [s[2] for s in used] == [int(10 * GIB * 0.87)]


def test_idle_bound_volumes_are_reported_under_host_names(world: LabWorld) -> None:
    vc = world.clusters["prod"].store
    vc.create("persistentvolumeclaims", _pvc("backups", "apps", "50Gi"))
    world.pvc_used_bytes[("prod", "apps", "backups")] = int(50 * GIB * 0.87)
    samples, _, _ = parse_exposition(render_metrics(world))
    used = find(samples, "kubelet_volume_stats_used_bytes", persistentvolumeclaim="backups-x-apps-x-vc-prod")
    assert len(used) == 1 and used[0][1]["namespace"] == "vcluster-prod" and "node" not in used[0][1]
    assert used[0][2] == int(50 * GIB * 0.87)
    # the mounted one is reported once, with its node
    mounted = find(
        samples, "kubelet_volume_stats_used_bytes", persistentvolumeclaim="data-db-0-x-apps-x-vc-prod"
    )
    assert [s[1].get("node") for s in mounted] == ["prod-a"]
