"""Faults on the assembled lab, seen through the real client libraries.

Rules target unique paths and are removed after each test: the session lab is shared.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from hks_tui.lab.faults import FaultRule

DEADLINE = 60.0  # polling bound, not a speed assertion


def _proxmox(lab: Any) -> Any:
    import proxmoxer

    pve = lab.info["proxmox"]
    user, token = pve["token_id"].split("!")
    return proxmoxer.ProxmoxAPI(
        "127.0.0.1", port=pve["port"], user=user, token_name=token, token_value=pve["token_secret"],
        verify_ssl=pve["ca_file"], timeout=30,
    )  # fmt: skip


def _core(lab: Any, context: str | None = None) -> Any:
    from kubernetes import client, config

    api_client = config.new_client_from_config(
        config_file=lab.info["kubeconfig"], context=context or lab.info["host_context"]
    )
    return client.CoreV1Api(api_client)


def _namespace(core: Any) -> str:
    name = f"faults-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def test_pve_dropped_response_after_apply(lab: Any, lab_fault: Callable[[str], FaultRule]) -> None:
    import requests

    api = _proxmox(lab)
    newid = int(api.cluster.nextid.get())
    node = lab.info["proxmox"]["nodes"][0]
    template = lab.info["proxmox"]["template_vmid"][node]
    before = lab.world.faults.count("pve", "POST")
    lab_fault(f"pve:POST:/nodes/{node}/qemu/{template}/clone$:drop:count=1")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.nodes(node).qemu(template).clone.post(newid=newid, name=f"drop-{newid}")
    # the clone was applied although the client never saw the answer
    vms = {int(r["vmid"]): r for r in api.cluster.resources.get(type="vm")}
    assert newid in vms and vms[newid]["name"] == f"drop-{newid}"
    assert lab.world.faults.count("pve", "POST") == before + 1  # exactly one request reached the server
    dropped = [r for r in lab.world.faults.select("pve", "POST", path="/clone$") if r.fault == "drop"]
    assert dropped and dropped[-1].status == 200
    # clean up: wait for the clone lock to go, then destroy
    _wait(lambda: "lock" not in api.nodes(node).qemu(newid).config.get())
    api.nodes(node).qemu(newid).delete()


def test_kube_dropped_response_after_apply(lab: Any, lab_fault: Callable[[str], FaultRule]) -> None:
    from kubernetes.client import ApiException
    from urllib3.exceptions import HTTPError

    core = _core(lab)
    ns = _namespace(core)
    lab_fault(f"kube:host:POST:/api/v1/namespaces/{ns}/configmaps$:drop:count=1")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "lost"}, "data": {"a": "1"}}
    with pytest.raises((HTTPError, ApiException)) as excinfo:
        core.create_namespaced_config_map(ns, body)
    if isinstance(excinfo.value, ApiException):  # urllib3 retried the POST: the object was already there
        assert excinfo.value.status == 409
    assert core.read_namespaced_config_map("lost", ns).data == {"a": "1"}
    core.delete_namespace(ns)


def test_error_envelopes_through_the_clients(lab: Any, lab_fault: Callable[[str], FaultRule]) -> None:
    import json

    import proxmoxer
    from kubernetes.client import ApiException

    api = _proxmox(lab)
    lab_fault("pve:GET:/api2/json/cluster/status$:error=596:count=1")
    with pytest.raises(proxmoxer.core.ResourceException) as pexc:
        api.cluster.status.get()
    assert pexc.value.status_code == 596 and "Connection timed out" in str(pexc.value)
    assert api.cluster.status.get()  # count=1: the next call goes through

    core = _core(lab, lab.info["vcluster_contexts"]["prod"])
    lab_fault("kube:prod:GET:/api/v1/namespaces/default/secrets$:error=503")
    with pytest.raises(ApiException) as kexc:
        core.list_namespaced_secret("default")
    status = json.loads(kexc.value.body)
    assert kexc.value.status == 503 and status["reason"] == "ServiceUnavailable" and status["code"] == 503


def test_latency_applies_to_one_api_only(lab: Any, lab_fault: Callable[[str], FaultRule]) -> None:
    core = _core(lab)
    lab_fault("kube:host:GET:/api/v1/namespaces/kube-public$:latency=0.5")
    started = time.monotonic()
    core.read_namespace("kube-public")
    assert time.monotonic() - started >= 0.5


def test_stalled_watch_resumes(lab: Any, lab_fault: Callable[[str], FaultRule]) -> None:
    from kubernetes import watch

    core = _core(lab)
    ns = _namespace(core)
    events: queue.Queue[tuple[str, str]] = queue.Queue()
    w = watch.Watch()

    def run() -> None:
        from urllib3.exceptions import HTTPError

        try:
            for ev in w.stream(core.list_namespaced_config_map, ns, timeout_seconds=60):
                events.put((ev["type"], ev["object"].metadata.name))
        except HTTPError:
            pass  # the lab closed the stream at shutdown

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "before"}}
        core.create_namespaced_config_map(ns, cm)
        assert _next(events, "before") == ("ADDED", "before")
        rule = lab_fault(f"kube:host:/api/v1/namespaces/{ns}/configmaps:stall")
        time.sleep(0.3)  # let the stream notice the stall before the next change
        core.create_namespaced_config_map(ns, {**cm, "metadata": {"name": "during"}})
        with pytest.raises(queue.Empty):
            events.get(timeout=1.5)  # nothing is sent while stalled
        lab.call(lab.world.faults.remove, rule.id)
        assert _next(events, "during") == ("ADDED", "during")  # the stream resumes where it stopped
    finally:
        w.stop()
        core.delete_namespace(ns)


def _next(events: queue.Queue[tuple[str, str]], name: str) -> tuple[str, str]:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        try:
            ev = events.get(timeout=0.5)
        except queue.Empty:
            continue
        if ev[1] == name:
            return ev
    pytest.fail(f"no watch event for {name}")


def _wait(check: Callable[[], bool]) -> None:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    pytest.fail("condition never met")
