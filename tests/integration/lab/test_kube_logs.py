"""Pod logs (plain, tail, since, timestamps, container choice, follow, stall) and eviction with
PodDisruptionBudgets, over real HTTPS with the official client."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from hks_tui.lab.kube.cluster import KubeCluster
from hks_tui.lab.kube.standalone import RunningKube, start_kube_only_lab


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningKube]:
    running = start_kube_only_lab(tmp_path_factory.mktemp("kube-logs"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def v1(kube: RunningKube) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(kube.kubeconfig), context="host"))


def host(kube: RunningKube) -> KubeCluster:
    return kube.world.clusters["host"]


def make_pod(
    v1: client.CoreV1Api,
    name: str,
    containers: tuple[str, ...] = ("app",),
    labels: dict[str, str] | None = None,
) -> Any:
    return v1.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": c, "image": "busybox:1.36"} for c in containers]},
        },
    )


def set_running(kube: RunningKube, name: str) -> None:
    status = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [
            {
                "name": "app",
                "ready": True,
                "restartCount": 0,
                "image": "busybox:1.36",
                "imageID": "docker.io/library/busybox@sha256:0",
                "state": {"running": {}},
            }
        ],
    }
    kube.call(
        host(kube).store.update_status,
        "pods",
        {"metadata": {"name": name, "namespace": "default"}, "status": status},
    )


def test_read_logs_with_tail_since_and_timestamps(kube: RunningKube, v1: client.CoreV1Api) -> None:
    make_pod(v1, "logger")
    now = kube.world.clock.now()
    for i, age in enumerate((3600, 600, 30)):
        kube.call(host(kube).logs.append, "default", "logger", "app", f"line {i}", now - age)
    assert v1.read_namespaced_pod_log("logger", "default") == "line 0\nline 1\nline 2\n"
    assert v1.read_namespaced_pod_log("logger", "default", tail_lines=2) == "line 1\nline 2\n"
    assert v1.read_namespaced_pod_log("logger", "default", tail_lines=0) == ""
    assert v1.read_namespaced_pod_log("logger", "default", since_seconds=900) == "line 1\nline 2\n"
    stamped = v1.read_namespaced_pod_log("logger", "default", timestamps=True, tail_lines=1)
    stamp, text = stamped.rstrip("\n").split(" ", 1)
    assert text == "line 2" and stamp.endswith("Z") and len(stamp.split(".")[1]) == 10  # RFC 3339 nanoseconds


def test_container_must_be_named_when_ambiguous(v1: client.CoreV1Api, kube: RunningKube) -> None:
    make_pod(v1, "twins", containers=("web", "proxy"))
    kube.call(host(kube).logs.append, "default", "twins", "proxy", "from proxy")
    with pytest.raises(ApiException) as info:
        v1.read_namespaced_pod_log("twins", "default")
    body = json.loads(info.value.body)
    assert info.value.status == 400 and body["reason"] == "BadRequest"
    assert body["message"] == "a container name must be specified for pod twins, choose one of: [web proxy]"
    assert v1.read_namespaced_pod_log("twins", "default", container="proxy") == "from proxy\n"
    with pytest.raises(ApiException) as info:
        v1.read_namespaced_pod_log("twins", "default", container="nope")
    assert info.value.status == 400 and "container nope is not valid for pod twins" in info.value.body
    with pytest.raises(ApiException) as info:
        v1.read_namespaced_pod_log("ghost", "default")
    assert info.value.status == 404


def test_waiting_container_has_no_logs_yet(v1: client.CoreV1Api, kube: RunningKube) -> None:
    make_pod(v1, "starting")
    kube.call(
        host(kube).store.update_status,
        "pods",
        {
            "metadata": {"name": "starting", "namespace": "default"},
            "status": {
                "phase": "Pending",
                "containerStatuses": [
                    {
                        "name": "app",
                        "ready": False,
                        "restartCount": 0,
                        "image": "busybox:1.36",
                        "imageID": "",
                        "state": {"waiting": {"reason": "ContainerCreating"}},
                    }
                ],
            },
        },
    )
    with pytest.raises(ApiException) as info:
        v1.read_namespaced_pod_log("starting", "default")
    assert info.value.status == 400
    message = json.loads(info.value.body)["message"]
    assert message == 'container "app" in pod "starting" is waiting to start: ContainerCreating'


def _follow(v1: client.CoreV1Api, name: str, lines: queue.Queue[str | None]) -> None:
    resp = v1.read_namespaced_pod_log(name, "default", follow=True, _preload_content=False)
    buffer = b""
    for chunk in resp.stream(64):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            lines.put(line.decode())
    lines.put(None)  # the server ended the stream


def test_follow_streams_until_the_pod_is_deleted(kube: RunningKube, v1: client.CoreV1Api) -> None:
    make_pod(v1, "follower")
    kube.call(host(kube).logs.append, "default", "follower", "app", "before")
    lines: queue.Queue[str | None] = queue.Queue()
    thread = threading.Thread(target=_follow, args=(v1, "follower", lines), daemon=True)
    thread.start()
    assert lines.get(timeout=10) == "before"
    for i in range(3):
        kube.call(host(kube).logs.append, "default", "follower", "app", f"live {i}")
        assert lines.get(timeout=10) == f"live {i}"
    rule = kube.call(kube.world.faults.add, "kube:host:/api/v1/namespaces/default/pods/follower/log:stall")
    kube.call(host(kube).logs.append, "default", "follower", "app", "held back")
    with pytest.raises(queue.Empty):  # nothing is emitted while the stream is stalled...
        lines.get(timeout=0.5)
    kube.call(kube.world.faults.remove, rule.id)
    assert lines.get(timeout=10) == "held back"  # ...and the line comes once it is released
    v1.delete_namespaced_pod("follower", "default")
    assert lines.get(timeout=10) is None
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_eviction_honours_disruption_budgets(kube: RunningKube, v1: client.CoreV1Api) -> None:
    policy = client.PolicyV1Api(v1.api_client)
    policy.create_namespaced_pod_disruption_budget(
        "default",
        {"metadata": {"name": "db"}, "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}}},
    )
    for n in range(2):
        make_pod(v1, f"db-{n}", labels={"app": "db"})
        set_running(kube, f"db-{n}")
    pdb = policy.read_namespaced_pod_disruption_budget("db", "default")
    assert (
        pdb.status.current_healthy,
        pdb.status.desired_healthy,
        pdb.status.disruptions_allowed,
        pdb.status.expected_pods,
    ) == (2, 2, 0, 2)
    eviction = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "db-0", "namespace": "default"},
    }
    with pytest.raises(ApiException) as info:
        v1.create_namespaced_pod_eviction("db-0", "default", eviction)
    body = json.loads(info.value.body)
    assert info.value.status == 429 and body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"][0]["reason"] == "DisruptionBudget"
    assert v1.read_namespaced_pod("db-0", "default")
    make_pod(v1, "db-2", labels={"app": "db"})
    set_running(kube, "db-2")
    assert policy.read_namespaced_pod_disruption_budget("db", "default").status.disruptions_allowed == 1
    v1.create_namespaced_pod_eviction("db-0", "default", eviction)
    with pytest.raises(ApiException) as info:
        v1.read_namespaced_pod("db-0", "default")
    assert info.value.status == 404
    assert policy.read_namespaced_pod_disruption_budget("db", "default").status.disruptions_allowed == 0
    # a pod no budget covers is always evictable
    make_pod(v1, "free")
    v1.create_namespaced_pod_eviction("free", "default", {"metadata": {"name": "free"}})
    with pytest.raises(ApiException):
        v1.read_namespaced_pod("free", "default")


def test_percentage_budget(kube: RunningKube, v1: client.CoreV1Api) -> None:
    policy = client.PolicyV1Api(v1.api_client)
    for n in range(4):
        make_pod(v1, f"web-{n}", labels={"app": "web"})
        set_running(kube, f"web-{n}")
    pdb = policy.create_namespaced_pod_disruption_budget(
        "default",
        {
            "metadata": {"name": "web"},
            "spec": {"maxUnavailable": "25%", "selector": {"matchLabels": {"app": "web"}}},
        },
    )
    assert pdb.metadata.generation == 1
    status = policy.read_namespaced_pod_disruption_budget("web", "default").status
    assert (status.expected_pods, status.desired_healthy, status.disruptions_allowed) == (4, 3, 1)
    assert status.conditions[0].type == "DisruptionAllowed" and status.conditions[0].status == "True"


def test_previous_container_logs(kube: RunningKube, v1: client.CoreV1Api) -> None:
    make_pod(v1, "crashy")
    kube.call(host(kube).logs.append, "default", "crashy", "app", "first life")
    with pytest.raises(ApiException) as info:
        v1.read_namespaced_pod_log("crashy", "default", previous=True)
    assert info.value.status == 400
    assert (
        json.loads(info.value.body)["message"]
        == 'previous terminated container "app" in pod "crashy" not found'
    )
    kube.call(host(kube).logs.restart, "default", "crashy", "app")
    kube.call(host(kube).logs.append, "default", "crashy", "app", "second life")
    assert v1.read_namespaced_pod_log("crashy", "default", previous=True) == "first life\n"
    assert v1.read_namespaced_pod_log("crashy", "default") == "second life\n"
