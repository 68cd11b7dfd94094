"""Pure controller logic: quantities, the scheduler's filters and messages, container behaviour rules,
and the K3s join-script grammar."""

from __future__ import annotations

from typing import Any

import pytest

from hks_tui.lab.controllers.behaviour import behaviour, full_image, log_line
from hks_tui.lab.controllers.joinscript import JoinScriptError, parse_join_script
from hks_tui.lab.controllers.quantity import format_bytes, format_millis, millis, render, units
from hks_tui.lab.controllers.scheduler import pod_resources, schedule, tolerates


def node(
    name: str,
    cpu: str = "4",
    memory: str = "8Gi",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    ready: bool = True,
    unschedulable: bool = False,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"taints": taints or [], **({"unschedulable": True} if unschedulable else {})},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def pod(cpu: str = "100m", memory: str = "64Mi", node_name: str | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu, "memory": memory}}}
            ],
            **({"nodeName": node_name} if node_name else {}),
            **spec,
        },
        "status": {"phase": "Running"},
    }


def test_quantities_are_exact_and_canonical() -> None:
    assert millis("250m") == 250 and millis("1.5") == 1500 and millis(2) == 2000
    assert units("1Gi") == 2**30 and units("1G") == 10**9 and units("128974848") == 128974848
    assert format_millis(3200) == "3200m" and format_millis(4000) == "4"
    assert format_bytes(2560 * 2**20) == "2560Mi" and format_bytes(8 * 2**30) == "8Gi"
    assert render("pods", 7) == "7" and render("requests.storage", 0) == "0"


def test_effective_requests_take_the_larger_of_containers_and_init() -> None:
    p = pod("300m", "100Mi")
    p["spec"]["initContainers"] = [{"name": "i", "image": "x", "resources": {"requests": {"cpu": "1"}}}]
    assert pod_resources(p) == {"cpu": 1000, "memory": 100 * 2**20}


def test_tolerations_match_like_the_scheduler() -> None:
    taint = {"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"}
    assert tolerates([{"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"}], taint)
    assert tolerates([{"key": "hks.io/workspace", "operator": "Exists"}], taint)
    assert tolerates([{"operator": "Exists"}], taint)
    assert not tolerates([{"key": "hks.io/workspace", "value": "dev"}], taint)
    assert not tolerates([{"key": "hks.io/workspace", "operator": "Exists", "effect": "NoExecute"}], taint)


def test_scheduler_picks_least_allocated_fitting_node() -> None:
    nodes = [node("a"), node("b")]
    busy = [pod("3", node_name="a")]
    assert schedule(pod("500m"), nodes, busy).node == "b"


def test_scheduler_explains_why_nothing_fits() -> None:
    nodes = [
        node(
            "tainted",
            labels={"pool": "x"},
            taints=[{"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"}],
        ),
        node("small", cpu="1", labels={"pool": "x"}),
        node("other", labels={"pool": "y"}),
        node("cordoned", unschedulable=True),
    ]
    decision = schedule(pod("2", nodeSelector={"pool": "x"}), nodes, [])
    assert decision.node is None
    assert decision.message.startswith("0/4 nodes are available: ")
    assert "1 Insufficient cpu" in decision.message
    assert "1 node(s) had untolerated taint {hks.io/workspace: prod}" in decision.message
    assert "1 node(s) didn't match Pod's node affinity/selector" in decision.message
    assert "1 node(s) were unschedulable" in decision.message
    assert decision.message.endswith("4 Preemption is not helpful for scheduling.")


def test_scheduler_honours_required_node_affinity() -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["pve3"]}
                        ]
                    }
                ]
            }
        }
    }
    nodes = [
        node("a", labels={"topology.kubernetes.io/zone": "pve1"}),
        node("c", labels={"topology.kubernetes.io/zone": "pve3"}),
    ]
    assert schedule(pod(affinity=affinity), nodes, []).node == "c"


def test_behaviour_rules() -> None:
    assert behaviour({"image": "nginx:doesnotexist"}).pull_fails
    assert behaviour({"image": "ghcr.io/acme/app:missing"}).pull_fails
    assert not behaviour({"image": "ghcr.io/acme/app:1.0"}).pull_fails
    assert behaviour({"image": "ghcr.io/acme/crashloop:1"}).crashes
    assert behaviour({"image": "busybox", "env": [{"name": "HKS_LAB_CRASH", "value": "1"}]}).crashes
    assert behaviour({"image": "busybox", "command": ["sh", "-c", "exit 3"]}).exit_code == 3
    assert behaviour({"image": "busybox", "args": ["false"]}).exit_code == 1
    assert behaviour({"image": "busybox"}).exit_code == 0
    assert full_image("nginx:1.27") == "docker.io/library/nginx:1.27"
    assert full_image("ghcr.io/acme/api:1") == "ghcr.io/acme/api:1"


def test_log_lines_are_deterministic_and_flavoured() -> None:
    first = log_line("access", "web-1", "web", 3, 1_700_000_000.0)
    assert first == log_line("access", "web-1", "web", 3, 1_700_000_000.0)
    assert '"GET ' in first or '"POST ' in first
    assert log_line("json", "api-1", "api", 1, 1_700_000_000.0).startswith('{"ts": ')


SCRIPT = """#!/bin/sh
set -eu
export K3S_URL="https://127.0.0.1:6443"
export K3S_TOKEN='K10abc::server:secret'
curl -sfL https://get.k3s.io | sh -s - agent \\
  --node-label hks.io/workspace=prod --node-label=hks.io/pool=gpu \\
  --node-taint hks.io/workspace=prod:NoSchedule --node-name prod-gpu-1
"""


def test_join_script_export_form() -> None:
    req = parse_join_script(SCRIPT)
    assert req.url == "https://127.0.0.1:6443" and req.token == "K10abc::server:secret"
    assert req.node_name == "prod-gpu-1"
    assert req.labels == {"hks.io/workspace": "prod", "hks.io/pool": "gpu"}
    assert req.taints == [{"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"}]


def test_join_script_env_prefix_and_install_exec_forms() -> None:
    docs_form = parse_join_script("curl -sfL https://get.k3s.io | K3S_URL=https://h:6443 K3S_TOKEN=t sh -")
    assert (docs_form.url, docs_form.token) == ("https://h:6443", "t")
    with pytest.raises(JoinScriptError):
        parse_join_script("echo k3s")
    req = parse_join_script(
        "T=abc\ncurl -sfL https://get.k3s.io | K3S_URL=https://h:6443 K3S_TOKEN=$T "
        'INSTALL_K3S_EXEC="agent --node-label a=b --node-taint k:NoExecute" sh -s -'
    )
    assert req.url == "https://h:6443" and req.token == "abc"
    assert req.labels == {"a": "b"} and req.taints == [{"key": "k", "effect": "NoExecute"}]
    direct = parse_join_script("k3s agent --server https://h:6443 --token=xyz --node-name n1")
    assert (direct.url, direct.token, direct.node_name) == ("https://h:6443", "xyz", "n1")


def test_join_script_rejects_bad_taints_and_labels() -> None:
    with pytest.raises(JoinScriptError, match="invalid taint"):
        parse_join_script("curl -sfL https://get.k3s.io | sh -s - agent --node-taint nope")
    with pytest.raises(JoinScriptError, match="invalid node label"):
        parse_join_script("curl -sfL https://get.k3s.io | sh -s - agent --node-label nolabel")
