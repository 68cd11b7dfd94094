"""A real kubectl against the lab's Kubernetes API: get/describe/create -f/apply/scale/rollout status/
logs -f/delete and get --watch."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hks_tui.lab.kube.cluster import KubeCluster
from hks_tui.lab.kube.standalone import RunningKube, start_kube_only_lab
from tests.conftest import require_binary

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
"""


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningKube]:
    require_binary("kubectl")
    running = start_kube_only_lab(tmp_path_factory.mktemp("kube-kubectl"), time_scale=1.0)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def env(kube: RunningKube, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("kubectl-home")
    return {
        **os.environ,
        "KUBECONFIG": str(kube.kubeconfig),
        "HOME": str(home),
        "KUBECACHEDIR": str(home / "cache"),
    }


def kubectl(env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True) -> str:
    done = subprocess.run(
        ["kubectl", *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    if check:
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout + (done.stderr if not check else "")


def host(kube: RunningKube) -> KubeCluster:
    return kube.world.clusters["host"]


def test_create_get_describe_scale_apply_delete(
    kube: RunningKube, env: dict[str, str], tmp_path: Path
) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(DEPLOYMENT)
    assert kubectl(env, "create", "-f", str(manifest)).strip() == "deployment.apps/web created"
    table = kubectl(env, "get", "deployments").splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:2] == ["web", "0/2"]
    assert "deployment.apps/web scaled" in kubectl(env, "scale", "deployment/web", "--replicas=3")
    got = json.loads(kubectl(env, "get", "deploy", "web", "-o", "json"))
    assert got["spec"]["replicas"] == 3 and got["metadata"]["generation"] == 2
    assert "deployment.apps/web configured" in kubectl(env, "apply", "-f", str(manifest))
    got = json.loads(kubectl(env, "get", "deploy", "web", "-o", "json"))
    assert got["spec"]["replicas"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in got["metadata"]["annotations"]
    described = kubectl(env, "describe", "deployment", "web")
    assert "Name:" in described and "nginx:1.27" in described and "RollingUpdate" in described
    out = kubectl(env, "create", "-f", str(manifest), check=False)
    assert 'deployments.apps "web" already exists' in out
    assert 'deployment.apps "web" deleted' in kubectl(env, "delete", "deployment", "web")
    out = kubectl(env, "get", "deployment", "web", check=False)
    assert 'deployments.apps "web" not found' in out


def test_rollout_status_follows_the_deployment_status(kube: RunningKube, env: dict[str, str]) -> None:
    kubectl(env, "create", "-f", "-", stdin=DEPLOYMENT.replace("name: web", "name: roll", 1))
    proc = subprocess.Popen(
        ["kubectl", "rollout", "status", "deployment/roll", "--timeout=50s"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    status = {
        "observedGeneration": 1,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "ok"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ok"},
        ],
    }
    kube.call(
        host(kube).store.update_status,
        "deployments",
        {"metadata": {"name": "roll", "namespace": "default"}, "status": status},
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert 'deployment "roll" successfully rolled out' in out


def test_pods_logs_follow_and_watch(kube: RunningKube, env: dict[str, str]) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "chatty", "labels": {"app": "chatty"}},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }
    watcher = subprocess.Popen(
        ["kubectl", "get", "pods", "--watch", "-o", "name"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        kubectl(env, "create", "-f", "-", stdin=json.dumps(pod))
        assert watcher.stdout is not None
        assert watcher.stdout.readline().strip() == "pod/chatty"  # listed or ADDED, whichever came first
        for i in range(3):
            kube.call(host(kube).logs.append, "default", "chatty", "main", f"hello {i}")
        assert kubectl(env, "logs", "chatty", "--tail=2") == "hello 1\nhello 2\n"
        follower = subprocess.Popen(
            ["kubectl", "logs", "-f", "chatty"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert follower.stdout is not None
        assert [follower.stdout.readline() for _ in range(3)] == ["hello 0\n", "hello 1\n", "hello 2\n"]
        kube.call(host(kube).logs.append, "default", "chatty", "main", "live line")
        assert follower.stdout.readline() == "live line\n"
        pods = kubectl(env, "get", "pods").splitlines()
        assert pods[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        assert kubectl(env, "describe", "pod", "chatty").count("busybox:1.36") >= 1
        assert 'pod "chatty" deleted' in kubectl(env, "delete", "pod", "chatty", "--wait=false")
        follower.wait(timeout=30)  # the log stream ends with the pod
        assert follower.returncode == 0
        assert watcher.stdout.readline().strip() == "pod/chatty"  # the DELETED event
    finally:
        watcher.kill()
        watcher.wait(timeout=10)


def test_api_resources_and_version(env: dict[str, str]) -> None:
    resources = kubectl(env, "api-resources", "-o", "name").split()
    for name in (
        "pods",
        "deployments.apps",
        "cronjobs.batch",
        "poddisruptionbudgets.policy",
        "storageclasses.storage.k8s.io",
        "ingresses.networking.k8s.io",
    ):
        assert name in resources
    version = json.loads(kubectl(env, "version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"] == "v1.31.4+k3s1"


def test_kubectl_reports_unknown_fields(env: dict[str, str], tmp_path: Path) -> None:
    manifest = tmp_path / "typo.yaml"
    manifest.write_text(
        DEPLOYMENT.replace("name: web", "name: typo", 1).replace("replicas: 2", "replicaz: 2")
    )
    out = kubectl(env, "create", "-f", str(manifest), check=False)
    assert 'strict decoding error: unknown field "spec.replicaz"' in out
    assert kubectl(env, "get", "deployments", "-o", "name", check=False).count("typo") == 0


def test_cordon_drain_and_top(kube: RunningKube, env: dict[str, str]) -> None:
    store = host(kube).store
    node_status = {
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ready"}],
    }

    def setup() -> None:
        store.create("nodes", {"metadata": {"name": "worker-1"}, "status": node_status})
        for i in range(2):
            pod = store.create(
                "pods",
                {
                    "metadata": {"name": f"on-worker-{i}"},
                    "spec": {
                        "nodeName": "worker-1",
                        "containers": [
                            {"name": "c", "image": "i:1", "resources": {"requests": {"cpu": "200m"}}}
                        ],
                    },
                },
                "default",
            )
            ready = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
            store.update_status("pods", {"metadata": pod["metadata"], "status": ready})

    kube.call(setup)
    top = kubectl(env, "top", "node", "worker-1").splitlines()
    assert top[0].split()[:2] == ["NAME", "CPU(cores)"] and top[1].split()[0] == "worker-1"
    assert "on-worker-0" in kubectl(env, "top", "pod")
    assert "node/worker-1 cordoned" in kubectl(env, "cordon", "worker-1")
    assert "Ready,SchedulingDisabled" in kubectl(env, "get", "node", "worker-1")
    out = kubectl(env, "drain", "worker-1", "--force", "--timeout=30s")
    assert "pod/on-worker-0 evicted" in out and "node/worker-1 drained" in out
    assert kubectl(env, "get", "pods", "--field-selector", "spec.nodeName=worker-1", "-o", "name") == ""
    assert "Lease:" in kubectl(env, "describe", "node", "worker-1")
