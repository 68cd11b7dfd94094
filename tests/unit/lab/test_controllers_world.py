"""The world link (K3s join through the guest agent → host Node; VM power → Node readiness) and the
vCluster syncer (nodes by selector, pods mirrored to the host and back, drains rescheduling)."""

from __future__ import annotations

from typing import Any

import pytest

from hks_tui.lab.clock import LabClock
from hks_tui.lab.controllers import LabControllers
from hks_tui.lab.seed import build_world
from hks_tui.lab.world import LabWorld
from tests.unit.lab.test_controllers_workloads import Lab

K3S_URL = "https://127.0.0.1:16443"


def join_script(world: LabWorld, *, url: str = K3S_URL, token: str | None = None, extra: str = "") -> bytes:
    return (
        f"export K3S_URL={url}\nexport K3S_TOKEN='{token or world.credentials.k3s_agent_token}'\n"
        "curl -sfL https://get.k3s.io | sh -s - agent --node-label hks.io/workspace=blue "
        f"--node-taint hks.io/workspace=blue:NoSchedule {extra}\n"
    ).encode()


def run_exec(world: LabWorld, vmid: int, script: bytes) -> Any:
    vm = world.pve.vms[vmid]
    for handler in world.pve.exec_handlers:
        result = handler(vm, ["/bin/sh", "-s"], script)
        if result is not None:
            return result
    raise AssertionError("no exec handler answered")


@pytest.fixture
def lab() -> Lab:
    lab = Lab()
    lab.world.urls["k3s"] = K3S_URL
    lab.world.pve.create_vm("pve3", 310, "blue-1", cores=2, memory_mib=4096, disk_gib=20, running=True)
    return lab


def test_join_registers_a_ready_node_with_labels_taints_and_topology(lab: Lab) -> None:
    result = run_exec(lab.world, 310, join_script(lab.world, extra="--node-label hks.io/pool=default"))
    assert (
        result.exitcode == 0 and "[INFO]  systemd: Starting k3s-agent" in result.out and result.duration > 0
    )
    lab.ctl.reconcile()
    assert lab.store.find("nodes", "blue-1") is None  # the install is still running
    lab.run(result.duration)
    joining = lab.store.get("nodes", "blue-1")
    assert next(c for c in joining["status"]["conditions"] if c["type"] == "Ready")["status"] == "False"
    assert {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"} in joining["spec"]["taints"]
    lab.run(6)
    node = lab.store.get("nodes", "blue-1")
    labels = node["metadata"]["labels"]
    assert labels["hks.io/workspace"] == "blue" and labels["hks.io/pool"] == "default"
    assert labels["kubernetes.io/hostname"] == "blue-1"
    assert (
        labels["topology.kubernetes.io/region"] == "jp-west"
        and labels["topology.kubernetes.io/zone"] == "pve3"
    )
    assert labels["node.kubernetes.io/instance-type"]
    assert node["spec"]["providerID"] == "proxmox://jp-west/310"
    assert (
        node["status"]["capacity"]["cpu"] == "2"
        and node["status"]["capacity"]["memory"] == f"{4096 * 1024}Ki"
    )
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.31.4+k3s1"
    assert {"type": "InternalIP", "address": lab.world.pve.vm_ip(lab.world.pve.vms[310])} in node["status"][
        "addresses"
    ]
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert {"key": "hks.io/workspace", "value": "blue", "effect": "NoSchedule"} in node["spec"]["taints"]


@pytest.mark.parametrize(
    ("url", "token", "needle"),
    [
        ("https://127.0.0.1:9", None, "connection refused"),
        (K3S_URL, "K10deadbeef::server:nope", "token CA hash does not match"),
    ],
)
def test_wrong_url_or_token_never_joins(lab: Lab, url: str, token: str | None, needle: str) -> None:
    result = run_exec(lab.world, 310, join_script(lab.world, url=url, token=token))
    assert result.exitcode == 1 and needle in result.err
    lab.run(30, step=5)
    assert lab.store.find("nodes", "blue-1") is None


def test_vm_power_drives_node_readiness(lab: Lab) -> None:
    result = run_exec(lab.world, 310, join_script(lab.world))
    lab.run(result.duration + 6)
    pve = lab.world.pve
    pve.power_off(pve.vms[310])
    lab.run(1)
    node = lab.store.get("nodes", "blue-1")
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "Unknown" and ready["reason"] == "NodeStatusUnknown"
    assert {t["effect"] for t in node["spec"]["taints"] if t["key"] == "node.kubernetes.io/unreachable"} == {
        "NoSchedule",
        "NoExecute",
    }
    pve.power_on(pve.vms[310])
    lab.run(8)
    node = lab.store.get("nodes", "blue-1")
    assert next(c for c in node["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
    assert not [t for t in node["spec"]["taints"] if t["key"] == "node.kubernetes.io/unreachable"]
    del pve.vms[310]  # destroyed: the Node stays, NotReady, until someone deletes it
    lab.run(5)
    node = lab.store.get("nodes", "blue-1")
    assert next(c for c in node["status"]["conditions"] if c["type"] == "Ready")["status"] == "Unknown"


def test_unreachable_node_evicts_pods_after_toleration_seconds(lab: Lab) -> None:
    labels = {"app": "e"}
    lab.store.create(
        "deployments",
        {
            "metadata": {"name": "e"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
        "default",
    )
    lab.run(4)
    pod = lab.pods("e-")[0]
    vmid = int(lab.store.get("nodes", pod["spec"]["nodeName"])["spec"]["providerID"].rsplit("/", 1)[1])
    lab.world.pve.power_off(lab.world.pve.vms[vmid])
    lab.run(60, step=10)
    assert lab.pods("e-")[0]["metadata"]["name"] == pod["metadata"]["name"]  # default toleration: 300 s
    lab.run(300, step=30)
    moved = lab.pods("e-")
    assert len(moved) == 1 and moved[0]["metadata"]["name"] != pod["metadata"]["name"]
    assert moved[0]["spec"]["nodeName"] != pod["spec"]["nodeName"]


class Demo:
    def __init__(self) -> None:
        self.clock = LabClock(time_scale=1e-9, start=1_795_305_660.0)  # fixed: deterministic schedules
        self.world = build_world("demo", self.clock)
        self.ctl = LabControllers(self.world)

    def run(self, seconds: float, step: float = 1.0) -> None:
        self.ctl.reconcile()
        for _ in range(int(seconds / step)):
            self.clock.advance(step)
            self.ctl.reconcile()


@pytest.fixture(scope="module")
def demo() -> Demo:
    demo = Demo()
    demo.run(10)
    return demo


def test_vcluster_sees_only_its_nodes(demo: Demo) -> None:
    prod_nodes = {n["metadata"]["name"] for n in demo.world.clusters["prod"].store.list("nodes")}
    dev_nodes = {n["metadata"]["name"] for n in demo.world.clusters["dev"].store.list("nodes")}
    assert prod_nodes == {"prod-default-1", "prod-default-2", "prod-default-3"}
    assert dev_nodes == {"k3s-shared-1", "k3s-shared-2"}


def test_vcluster_pods_are_mirrored_on_the_host(demo: Demo) -> None:
    prod = demo.world.clusters["prod"].store
    host = demo.world.host.store
    vpod = next(p for p in prod.list("pods", "default") if p["metadata"]["name"].startswith("checkout-api-"))
    hname = f"{vpod['metadata']['name']}-x-default-x-vc-prod"
    hpod = host.get("pods", hname, "vcluster-prod")
    assert hpod["metadata"]["labels"]["vcluster.loft.sh/managed-by"] == "vc-prod"
    assert hpod["metadata"]["labels"]["vcluster.loft.sh/namespace"] == "default"
    assert hpod["metadata"]["annotations"]["vcluster.loft.sh/object-name"] == vpod["metadata"]["name"]
    assert hpod["spec"]["nodeSelector"]["hks.io/workspace"] == "prod"
    owner = hpod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Service", "vc-prod", True)
    assert vpod["spec"]["nodeName"] == hpod["spec"]["nodeName"]
    assert vpod["status"]["phase"] == hpod["status"]["phase"] == "Running"
    logs = demo.world.clusters["prod"].logs.lines("default", vpod["metadata"]["name"], "checkout-api")
    assert logs and logs == demo.world.host.logs.lines("vcluster-prod", hname, "checkout-api")


def test_dedicated_pods_without_toleration_stay_pending(demo: Demo) -> None:
    prod = demo.world.clusters["prod"].store
    prod.create(
        "pods",
        {"metadata": {"name": "intolerant"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
        "default",
    )
    demo.run(3)
    pod = prod.get("pods", "intolerant", "default")
    assert pod["status"]["phase"] == "Pending"
    cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert "untolerated taint {hks.io/workspace: prod}" in cond["message"]
    reasons = [
        e["reason"] for e in prod.list("events", "default") if e["involvedObject"]["name"] == "intolerant"
    ]
    assert "FailedScheduling" in reasons
    prod.delete("pods", "intolerant", "default")
    demo.run(1)
    assert demo.world.host.store.find("pods", "intolerant-x-default-x-vc-prod", "vcluster-prod") is None


def test_draining_a_host_node_reschedules_tenant_pods(demo: Demo) -> None:
    host = demo.world.host.store
    prod = demo.world.clusters["prod"].store
    victims = [p for p in host.list("pods", "vcluster-prod") if p["spec"].get("nodeName") == "prod-default-2"]
    assert victims
    host.patch("nodes", "prod-default-2", None, {"spec": {"unschedulable": True}}, "merge")
    for pod in victims:
        host.delete("pods", pod["metadata"]["name"], "vcluster-prod")
    demo.run(8)
    for vpod in prod.list("pods", "default"):
        if vpod["status"].get("phase") == "Running":
            assert vpod["spec"]["nodeName"] != "prod-default-2"
    deploy = prod.get("deployments", "checkout-api", "default")
    assert deploy["status"]["readyReplicas"] == 2
    assert prod.get("nodes", "prod-default-2")["spec"]["unschedulable"] is True


def test_vm_reboot_restarts_the_containers_of_its_pods(lab: Lab) -> None:
    labels = {"app": "r"}
    lab.store.create(
        "deployments",
        {
            "metadata": {"name": "r"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
        "default",
    )
    lab.run(5)
    pod = lab.pods("r-")[0]
    vmid = int(lab.store.get("nodes", pod["spec"]["nodeName"])["spec"]["providerID"].rsplit("/", 1)[1])
    vm = lab.world.pve.vms[vmid]
    lab.world.pve.power_off(vm)
    lab.run(3)
    assert (
        next(c for c in lab.pods("r-")[0]["status"]["conditions"] if c["type"] == "Ready")["status"]
        == "False"
    )
    lab.world.pve.power_on(vm)
    lab.run(12)
    again = lab.pods("r-")[0]
    assert again["metadata"]["name"] == pod["metadata"]["name"]
    status = again["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1 and status["ready"] is True
    assert status["lastState"]["terminated"]["exitCode"] == 255
    assert "SandboxChanged" in lab.events(pod["metadata"]["name"])


def test_kubelet_refuses_restricted_node_labels(lab: Lab) -> None:
    script = join_script(lab.world, extra="--node-label node-role.kubernetes.io/worker=true")
    result = run_exec(lab.world, 310, script)
    assert result.exitcode == 1
    assert "unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels" in result.err
    assert "node-role.kubernetes.io/worker" in result.err
    lab.run(20, step=5)
    assert lab.store.find("nodes", "blue-1") is None
