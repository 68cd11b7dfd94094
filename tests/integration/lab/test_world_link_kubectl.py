"""A real kubectl against the lab's kubeconfig: draining a dedicated host node evicts the tenant's
mirrored pods and the vCluster reschedules them on the other dedicated nodes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.lab.server import start_lab_in_thread
from tests.conftest import require_binary
from tests.integration.lab.test_world_link import poll


@pytest.fixture(scope="module")
def own_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = start_lab_in_thread(state_dir=tmp_path_factory.mktemp("drainlab"), seed="demo", time_scale=20.0)
    try:
        yield running
    finally:
        running.stop()


def kubectl(kubeconfig: str, *args: str) -> str:
    done = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kubectl_drain_reschedules_tenant_pods(own_lab: Any) -> None:
    require_binary("kubectl")
    cfg = str(Path(own_lab.info["kubeconfig"]))
    prod = own_lab.info["vcluster_contexts"]["prod"]

    def running_checkout() -> list[dict[str, Any]]:
        pods = json.loads(
            kubectl(
                cfg,
                "--context",
                prod,
                "get",
                "pods",
                "-l",
                "app.kubernetes.io/name=checkout-api",
                "-o",
                "json",
            )
        )["items"]
        ready = [
            p
            for p in pods
            if p["status"].get("phase") == "Running"
            and all(c["ready"] for c in p["status"].get("containerStatuses", []))
        ]
        return ready if len(ready) == 2 and len(pods) == 2 else []

    before = poll(running_checkout)
    victim = before[0]["spec"]["nodeName"]
    out = kubectl(cfg, "drain", victim, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s")
    assert f"node/{victim} drained" in out and "evicted" in out
    after = poll(
        lambda: (pods := running_checkout()) and all(p["spec"]["nodeName"] != victim for p in pods) and pods
    )
    assert {p["metadata"]["name"] for p in after} != {p["metadata"]["name"] for p in before}
    nodes = json.loads(kubectl(cfg, "--context", prod, "get", "nodes", "-o", "json"))["items"]
    assert next(n for n in nodes if n["metadata"]["name"] == victim)["spec"]["unschedulable"] is True
