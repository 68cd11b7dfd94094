"""The world link over real HTTP: a VM cloned with proxmoxer runs the K3s agent join script through the
guest agent (script on stdin via ``input-data``) and appears as a Ready host Node for the official
kubernetes client; a wrong token never joins; stopping the VM makes the Node NotReady; destroying it
leaves the NotReady Node until it is deleted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, config
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

POLLS = 3000  # bounded polling on the accelerated lab clock (time_scale 20)


def poll(predicate: Callable[[], Any]) -> Any:
    for _ in range(POLLS):
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition never became true")


def proxmox(lab: Any) -> ProxmoxAPI:
    info = lab.info["proxmox"]
    user, token = info["token_id"].split("!", 1)
    return ProxmoxAPI(
        info["host"],
        port=info["port"],
        user=user,
        token_name=token,
        token_value=info["token_secret"],
        verify_ssl=info["ca_file"],
        service="PVE",
    )


@pytest.fixture
def host(lab: Any) -> Iterator[client.ApiClient]:
    with config.new_client_from_config(
        config_file=lab.info["kubeconfig"], context=lab.info["host_context"]
    ) as api:
        yield api


def wait_task(px: ProxmoxAPI, node: str, upid: str) -> dict[str, Any]:
    return poll(lambda: (s := px.nodes(node).tasks(upid).status.get())["status"] == "stopped" and s)


def agent_exec(vm: Any, script: str) -> dict[str, Any]:
    pid = vm.agent.exec.post(command=["/bin/sh", "-s"], **{"input-data": script})["pid"]
    return poll(lambda: (s := vm.agent("exec-status").get(pid=pid))["exited"] == 1 and s)


def script(url: str, token: str) -> str:
    return (
        f"#!/bin/sh\nset -e\nexport K3S_URL='{url}'\nexport K3S_TOKEN='{token}'\n"
        "curl -sfL https://get.k3s.io | sh -s - agent --node-label hks.io/workspace=wl "
        "--node-label hks.io/pool=default --node-taint hks.io/workspace=wl:NoSchedule\n"
    )


def node_ready(node: client.V1Node) -> str:
    return next(c.status for c in node.status.conditions if c.type == "Ready")


@pytest.mark.slow
def test_join_stop_destroy_over_http(lab: Any, host: client.ApiClient) -> None:
    px = proxmox(lab)
    v1 = client.CoreV1Api(host)
    k3s = lab.info["k3s"]
    vmid, name = 4711, "wl-node-1"
    upid = px.nodes("pve3").qemu(9002).clone.post(newid=vmid, name=name)
    assert wait_task(px, "pve3", upid)["exitstatus"] == "OK"
    vm = px.nodes("pve3").qemu(vmid)
    assert wait_task(px, "pve3", vm.status.start.post())["exitstatus"] == "OK"

    def agent_up() -> bool:
        try:
            vm.agent.ping.post()
            return True
        except ResourceException:
            return False

    poll(agent_up)
    bad = agent_exec(vm, script(k3s["url"], "K10" + "0" * 64 + "::server:wrong"))
    assert bad["exitcode"] == 1 and "token CA hash does not match" in bad["err-data"]
    wrong_url = agent_exec(vm, script("https://127.0.0.1:1", k3s["agent_token"]))
    assert wrong_url["exitcode"] == 1 and "connection refused" in wrong_url["err-data"]
    assert name not in {n.metadata.name for n in v1.list_node().items}

    good = agent_exec(vm, script(k3s["url"], k3s["agent_token"]))
    assert good["exitcode"] == 0 and "Starting k3s-agent" in good["out-data"]
    node = poll(
        lambda: (
            (n := next((x for x in v1.list_node().items if x.metadata.name == name), None))
            and node_ready(n) == "True"
            and n
        )
    )
    assert node.metadata.labels["hks.io/workspace"] == "wl"
    assert node.metadata.labels["topology.kubernetes.io/region"] == "jp-west"
    assert node.metadata.labels["topology.kubernetes.io/zone"] == "pve3"
    assert node.spec.provider_id == f"proxmox://jp-west/{vmid}"
    assert any(t.key == "hks.io/workspace" and t.effect == "NoSchedule" for t in node.spec.taints)
    assert node.status.capacity["cpu"] == "2"

    assert wait_task(px, "pve3", vm.status.stop.post())["exitstatus"] == "OK"
    poll(lambda: node_ready(v1.read_node(name)) == "Unknown")
    unreachable = {
        t.effect for t in v1.read_node(name).spec.taints if t.key == "node.kubernetes.io/unreachable"
    }
    assert unreachable == {"NoSchedule", "NoExecute"}
    assert wait_task(px, "pve3", vm.delete(purge=1))["exitstatus"] == "OK"
    time.sleep(0.2)
    assert node_ready(v1.read_node(name)) == "Unknown"  # stays until removed
    v1.delete_node(name)
    assert name not in {n.metadata.name for n in v1.list_node().items}
