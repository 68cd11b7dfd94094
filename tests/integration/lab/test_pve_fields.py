"""Every key PVE response carries the field names documented in notes/proxmox-api.md — all the required
ones, and nothing undocumented."""

from __future__ import annotations

from typing import Any

import requests

from tests.integration.lab.test_pve_harness import PveServer, pve_server, wait_exec, wait_task

__all__ = ["pve_server"]

# (required, optional) per endpoint, from notes/proxmox-api.md §1.1, §1.3, §1.4, §1.5, §1.6.
RESOURCE_FIELDS = {
    "id", "type", "node", "vmid", "name", "status", "template", "tags", "lock", "pool", "cpu", "maxcpu", "mem",
    "maxmem", "memhost", "disk", "maxdisk", "netin", "netout", "diskread", "diskwrite", "uptime", "hastate",
    "storage", "plugintype", "content", "shared",
}  # fmt: skip
DOCUMENTED: dict[str, tuple[set[str], set[str]]] = {
    "task_status": (
        {"upid", "node", "pid", "pstart", "starttime", "type", "id", "user", "status"},
        {"exitstatus"},
    ),
    "task_log_entry": ({"n", "t"}, set()),
    "task_log_envelope": ({"data", "total"}, set()),
    "resource_qemu": (
        {"id", "type", "node", "vmid", "name", "status", "template", "maxcpu", "maxmem", "maxdisk"},
        RESOURCE_FIELDS,
    ),
    "resource_node": ({"id", "type", "node", "status", "cpu", "maxcpu", "mem", "maxmem"}, RESOURCE_FIELDS),
    "resource_storage": (
        {"id", "type", "node", "storage", "status", "plugintype", "content", "shared", "disk", "maxdisk"},
        RESOURCE_FIELDS,
    ),
    "status_current": (
        {
            "status",
            "qmpstatus",
            "cpu",
            "cpus",
            "mem",
            "maxmem",
            "memhost",
            "maxdisk",
            "diskread",
            "diskwrite",
            "netin",
            "netout",
            "uptime",
            "agent",
            "ha",
        },
        {
            "pid",
            "lock",
            "tags",
            "template",
            "running-qemu",
            "running-machine",
            "serial",
            "spice",
            "clipboard",
            "pressurecpusome",
            "pressurecpufull",
            "pressureiosome",
            "pressureiofull",
            "pressurememorysome",
            "pressurememoryfull",
            # in the PVE returns schema of status/current, not listed in the note
            "vmid",
            "name",
        },
    ),
    "storage_status": ({"type", "content", "enabled", "active", "shared", "total", "used", "avail"}, set()),
    "storage_list": (
        {"storage", "type", "content", "enabled", "active", "shared", "total", "used", "avail"},
        set(),
    ),
    "ticket": ({"ticket", "CSRFPreventionToken", "username", "cap"}, {"clustername"}),
    "exec": ({"pid"}, set()),
    "exec_status": (
        {"exited"},
        {"exitcode", "signal", "out-data", "err-data", "out-truncated", "err-truncated"},
    ),
    "interface": ({"name", "hardware-address", "ip-addresses", "statistics"}, set()),
    "ip_address": ({"ip-address", "ip-address-type", "prefix"}, set()),
    "error_param": ({"data", "message", "errors"}, set()),
    "error_plain": ({"data", "message"}, set()),
}


def check(kind: str, obj: dict[str, Any]) -> None:
    required, optional = DOCUMENTED[kind]
    missing = required - set(obj)
    extra = set(obj) - required - optional
    assert not missing, f"{kind}: missing documented fields {sorted(missing)} in {obj}"
    assert not extra, f"{kind}: undocumented fields {sorted(extra)} in {obj}"


class Raw:
    """Raw JSON access through the token-authenticated session of proxmoxer (to see envelopes)."""

    def __init__(self, server: PveServer) -> None:
        self.session: requests.Session = server.token_client()._store["session"]
        self.base = server.world.urls["proxmox"] + "/api2/json"

    def __call__(self, method: str, path: str, **params: Any) -> requests.Response:
        if method in ("GET", "DELETE"):
            return self.session.request(method, self.base + path, params=params)
        return self.session.request(method, self.base + path, data=params)

    def data(self, method: str, path: str, **params: Any) -> Any:
        response = self(method, path, **params)
        assert response.status_code == 200, (response.status_code, response.reason, response.text)
        return response.json()["data"]


def test_documented_fields(pve_server: PveServer) -> None:
    raw = Raw(pve_server)
    px = pve_server.token_client()
    nextid = raw.data("GET", "/cluster/nextid")
    assert isinstance(nextid, str)
    upid = raw.data("POST", "/nodes/pve1/qemu/9000/clone", newid=400, name="fields")
    assert isinstance(upid, str) and upid.startswith("UPID:pve1:")
    check("task_status", raw.data("GET", f"/nodes/pve1/tasks/{upid}/status"))  # running: no exitstatus
    wait_task(px, upid)
    final = raw.data("GET", f"/nodes/pve1/tasks/{upid}/status")
    check("task_status", final)
    assert "exitstatus" in final
    envelope = raw("GET", f"/nodes/pve1/tasks/{upid}/log").json()
    check("task_log_envelope", envelope)
    for entry in envelope["data"]:
        check("task_log_entry", entry)

    for row in raw.data("GET", "/cluster/resources"):
        check("resource_" + row["type"], row)
    config = raw.data("GET", "/nodes/pve1/qemu/400/config")
    assert "digest" in config and len(config["digest"]) == 40
    check("status_current", raw.data("GET", "/nodes/pve1/qemu/400/status/current"))
    check("storage_status", raw.data("GET", "/nodes/pve1/storage/local-lvm/status"))
    for row in raw.data("GET", "/nodes/pve1/storage", content="images", enabled=1):
        check("storage_list", row)

    login = requests.post(
        raw.base + "/access/ticket",
        data={"username": pve_server.credentials.pve_user, "password": pve_server.credentials.pve_password},
        verify=str(pve_server.ca.ca_file),
        timeout=20,
    )
    check("ticket", login.json()["data"])

    wait_task(px, raw.data("POST", "/nodes/pve1/qemu/400/status/start"))
    pve_server.call(pve_server.world.clock.advance, 60.0)  # let the guest agent come up
    check("status_current", raw.data("GET", "/nodes/pve1/qemu/400/status/current"))
    result = raw.data("GET", "/nodes/pve1/qemu/400/agent/network-get-interfaces")
    assert set(result) == {"result"}
    for interface in result["result"]:
        check("interface", interface)
        for address in interface["ip-addresses"]:
            check("ip_address", address)
    assert raw.data("POST", "/nodes/pve1/qemu/400/agent/ping") == {"result": {}}
    started = raw.data("POST", "/nodes/pve1/qemu/400/agent/exec", command=["uname", "-a"])
    check("exec", started)
    status = wait_exec(px.nodes("pve1").qemu(400).agent, started["pid"])
    check("exec_status", status)
    assert status["exitcode"] == 0 and status["out-data"].startswith("Linux fields ")

    bad = raw("PUT", "/nodes/pve1/qemu/400/config", tags="a=b")
    assert bad.status_code == 400
    check("error_param", bad.json())
    running = raw("DELETE", "/nodes/pve1/qemu/400")
    assert running.status_code == 500 and running.reason == "VM 400 is running - destroy failed"
    check("error_plain", running.json())
    assert running.json()["message"] == "VM 400 is running - destroy failed\n"
