"""Deployments, ReplicaSets, StatefulSets and the pod lifecycle, driven pass by pass on a lab clock
that only moves when the test advances it (the ``empty`` seed: one server and two shared workers)."""

from __future__ import annotations

from typing import Any

import pytest

from hks_tui.lab.clock import LabClock
from hks_tui.lab.controllers import LabControllers
from hks_tui.lab.seed import build_world
from hks_tui.lab.world import LabWorld


class Lab:
    def __init__(self) -> None:
        # A fixed start one minute past a five-minute boundary (2026-11-22T00:01:00Z), so schedules on the
        # lab clock fire at the same offsets in every run, whatever the wall-clock time.
        self.clock = LabClock(time_scale=1e-9, start=1_795_305_660.0)
        self.world: LabWorld = build_world("empty", self.clock)
        self.ctl = LabControllers(self.world)
        self.store = self.world.host.store

    def run(self, seconds: float, step: float = 1.0) -> None:
        self.ctl.reconcile()
        elapsed = 0.0
        while elapsed < seconds:
            self.clock.advance(step)
            elapsed += step
            self.ctl.reconcile()

    def pods(self, prefix: str, namespace: str = "default") -> list[dict[str, Any]]:
        return [p for p in self.store.list("pods", namespace) if p["metadata"]["name"].startswith(prefix)]

    def events(self, name: str) -> list[str]:
        return [e["reason"] for e in self.store.list("events") if e["involvedObject"]["name"] == name]


@pytest.fixture
def lab() -> Lab:
    return Lab()


def deployment(name: str, image: str, replicas: int = 2, **strategy: Any) -> dict[str, Any]:
    labels = {"app": name}
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": image,
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    }
                ]
            },
        },
    }
    if strategy:
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": strategy}
    return {"metadata": {"name": name}, "spec": spec}


def test_deployment_rolls_out_to_running_ready_pods(lab: Lab) -> None:
    lab.store.create("deployments", deployment("web", "nginx:1.27"), "default")
    lab.run(6)
    pods = lab.pods("web-")
    assert len(pods) == 2
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert pod["spec"]["nodeName"] in ("k3s-shared-1", "k3s-shared-2")
        assert pod["status"]["containerStatuses"][0]["ready"] is True
        assert pod["status"]["podIP"].startswith("10.42.")
        assert pod["metadata"]["labels"]["pod-template-hash"]
    deploy = lab.store.get("deployments", "web", "default")
    status = deploy["status"]
    assert (
        status["replicas"],
        status["readyReplicas"],
        status["updatedReplicas"],
        status["availableReplicas"],
    ) == (2, 2, 2, 2)
    assert status["observedGeneration"] == deploy["metadata"]["generation"]
    conds = {c["type"]: c for c in status["conditions"]}
    assert (
        conds["Available"]["status"] == "True" and conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    )
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    reasons = lab.events(pods[0]["metadata"]["name"])
    for reason in ("Scheduled", "Pulling", "Pulled", "Created", "Started"):
        assert reason in reasons
    lines = lab.world.host.logs.lines("default", pods[0]["metadata"]["name"], "main")
    assert len(lines) > 3  # start-up lines plus steady access-log lines


def test_rolling_update_replaces_pods_through_a_new_replicaset(lab: Lab) -> None:
    lab.store.create(
        "deployments",
        deployment("api", "ghcr.io/acme/api:1", replicas=4, maxSurge=1, maxUnavailable=0),
        "default",
    )
    lab.run(6)
    old_pods = {p["metadata"]["name"] for p in lab.pods("api-")}
    lab.store.patch(
        "deployments",
        "api",
        "default",
        {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "ghcr.io/acme/api:2"}]}}}},
        "strategic",
    )
    lab.ctl.reconcile()
    during = lab.store.list("pods", "default")
    assert len([p for p in during if p["metadata"]["name"].startswith("api-")]) <= 5  # replicas + maxSurge
    lab.run(30)
    rs = lab.store.list("replicasets", "default")
    assert sorted(r["spec"]["replicas"] for r in rs) == [0, 4]
    pods = lab.pods("api-")
    assert len(pods) == 4 and not old_pods & {p["metadata"]["name"] for p in pods}
    assert all(p["spec"]["containers"][0]["image"] == "ghcr.io/acme/api:2" for p in pods)
    deploy = lab.store.get("deployments", "api", "default")
    assert deploy["status"]["updatedReplicas"] == 4 and deploy["status"]["observedGeneration"] == 2
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert "ScalingReplicaSet" in lab.events("api")
    lab.store.patch(
        "deployments",
        "api",
        "default",
        {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "ghcr.io/acme/api:1"}]}}}},
        "strategic",
    )
    lab.run(30)
    rolled_back = lab.store.get("deployments", "api", "default")
    assert rolled_back["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert all(p["spec"]["containers"][0]["image"] == "ghcr.io/acme/api:1" for p in lab.pods("api-"))
    assert len(lab.store.list("replicasets", "default")) == 2  # the old ReplicaSet was reused


def test_scale_down_deletes_pods(lab: Lab) -> None:
    lab.store.create("deployments", deployment("s", "nginx", replicas=3), "default")
    lab.run(5)
    before = {p["metadata"]["name"] for p in lab.pods("s-")}
    lab.store.patch("deployments", "s", "default", {"spec": {"replicas": 1}}, "merge")
    lab.run(2)
    assert len(lab.pods("s-")) == 1
    gone = before - {p["metadata"]["name"] for p in lab.pods("s-")}
    assert all("Killing" in lab.events(name) for name in gone)
    assert lab.store.get("deployments", "s", "default")["status"]["replicas"] == 1


def test_image_pull_failure_and_crash_loop(lab: Lab) -> None:
    lab.store.create("deployments", deployment("ghost", "ghcr.io/acme/ghost:missing", replicas=1), "default")
    lab.store.create("deployments", deployment("crash", "ghcr.io/acme/crashloop:1", replicas=1), "default")
    lab.run(60)
    ghost = lab.pods("ghost-")[0]
    waiting = ghost["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] in ("ImagePullBackOff", "ErrImagePull")
    assert ghost["status"]["phase"] == "Pending"
    assert "Failed" in lab.events(ghost["metadata"]["name"])
    crash = lab.pods("crash-")[0]
    status = crash["status"]["containerStatuses"][0]
    assert status["restartCount"] >= 2
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert "BackOff" in lab.events(crash["metadata"]["name"])
    deploy = lab.store.get("deployments", "crash", "default")
    assert deploy["status"].get("readyReplicas", 0) == 0


def test_unschedulable_pod_gets_condition_and_event(lab: Lab) -> None:
    big = deployment("huge", "nginx", replicas=1)
    big["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "64"
    lab.store.create("deployments", big, "default")
    lab.run(3)
    pod = lab.pods("huge-")[0]
    cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable"
    assert "Insufficient cpu" in cond["message"]
    assert "FailedScheduling" in lab.events(pod["metadata"]["name"])


def test_statefulset_creates_ordered_pods_and_claims(lab: Lab) -> None:
    labels = {"app": "db"}
    sts = {
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 3,
            "serviceName": "db",
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]},
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "local-path",
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
        },
    }
    lab.store.create("statefulsets", sts, "default")
    lab.ctl.reconcile()
    assert [p["metadata"]["name"] for p in lab.pods("db-")] == ["db-0"]  # OrderedReady: one at a time
    lab.run(20)
    pods = lab.pods("db-")
    assert [p["metadata"]["name"] for p in pods] == ["db-0", "db-1", "db-2"]
    assert all(p["status"]["phase"] == "Running" for p in pods)
    claims = {c["metadata"]["name"]: c for c in lab.store.list("persistentvolumeclaims", "default")}
    assert set(claims) == {"data-db-0", "data-db-1", "data-db-2"}
    assert all(c["status"]["phase"] == "Bound" for c in claims.values())
    pv = lab.store.get("persistentvolumes", claims["data-db-0"]["spec"]["volumeName"])
    assert pv["spec"]["hostPath"]["path"].startswith("/var/lib/rancher/k3s/storage/")
    assert pods[0]["spec"]["hostname"] == "db-0"
    status = lab.store.get("statefulsets", "db", "default")["status"]
    assert status["readyReplicas"] == 3 and status["currentRevision"] == status["updateRevision"]
    lab.store.patch("statefulsets", "db", "default", {"spec": {"replicas": 1}}, "merge")
    lab.run(10)
    assert [p["metadata"]["name"] for p in lab.pods("db-")] == ["db-0"]
    assert len(lab.store.list("persistentvolumeclaims", "default")) == 3  # claims are retained


def test_deleted_node_pods_are_rescheduled(lab: Lab) -> None:
    lab.store.create("deployments", deployment("mover", "nginx", replicas=2), "default")
    lab.run(5)
    victim = lab.pods("mover-")[0]["spec"]["nodeName"]
    lab.store.patch("nodes", victim, None, {"spec": {"unschedulable": True}}, "merge")
    lab.store.delete("nodes", victim)
    lab.run(8)
    pods = lab.pods("mover-")
    assert len(pods) == 2 and all(p["spec"]["nodeName"] != victim for p in pods)
    assert all(p["status"]["phase"] == "Running" for p in pods)


def test_service_endpoints_follow_ready_pods(lab: Lab) -> None:
    lab.store.create("deployments", deployment("ep", "nginx", replicas=2), "default")
    lab.store.create(
        "services",
        {
            "metadata": {"name": "ep"},
            "spec": {"selector": {"app": "ep"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        },
        "default",
    )
    lab.run(6)
    endpoints = lab.store.get("endpoints", "ep", "default")
    subset = endpoints["subsets"][0]
    pods = {p["metadata"]["name"]: p for p in lab.pods("ep-")}
    assert {a["targetRef"]["name"] for a in subset["addresses"]} == set(pods)
    assert {a["ip"] for a in subset["addresses"]} == {p["status"]["podIP"] for p in pods.values()}
    assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    lab.store.patch("deployments", "ep", "default", {"spec": {"replicas": 0}}, "merge")
    lab.run(2)
    assert lab.store.get("endpoints", "ep", "default")["subsets"] == []


def test_events_expire_after_an_hour(lab: Lab) -> None:
    lab.store.create("deployments", deployment("old", "nginx", replicas=1), "default")
    lab.run(5)
    assert lab.events("old")
    lab.run(3700, step=100.0)
    assert lab.events("old") == []


def test_init_containers_run_first(lab: Lab) -> None:
    spec = {
        "containers": [{"name": "app", "image": "nginx"}],
        "initContainers": [
            {
                "name": "migrate",
                "image": "busybox",
                "command": ["sh", "-c", "echo ok"],
                "env": [{"name": "HKS_LAB_DURATION", "value": "4"}],
            }
        ],
    }
    lab.store.create("pods", {"metadata": {"name": "with-init"}, "spec": spec}, "default")
    lab.run(3)
    pod = lab.store.get("pods", "with-init", "default")
    assert pod["status"]["phase"] == "Pending"
    initialized = next(c for c in pod["status"]["conditions"] if c["type"] == "Initialized")
    assert initialized["status"] == "False" and initialized["reason"] == "ContainersNotInitialized"
    assert "running" in pod["status"]["initContainerStatuses"][0]["state"]
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "PodInitializing"
    lab.run(8)
    pod = lab.store.get("pods", "with-init", "default")
    assert pod["status"]["phase"] == "Running"
    assert pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    init_end = pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["finishedAt"]
    assert pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] >= init_end
    failing = {
        "restartPolicy": "Never",
        "containers": [{"name": "app", "image": "nginx"}],
        "initContainers": [{"name": "check", "image": "busybox", "command": ["sh", "-c", "exit 3"]}],
    }
    lab.store.create("pods", {"metadata": {"name": "bad-init"}, "spec": failing}, "default")
    lab.run(6)
    bad = lab.store.get("pods", "bad-init", "default")
    assert bad["status"]["phase"] == "Failed"
    assert bad["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 3
