"""Malformed requests get PVE's own errors (400 with per-field errors, 500 with a PVE message, 501) —
never a crash of a lab handler."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.integration.lab.test_pve_harness import PveServer, pve_server

__all__ = ["pve_server"]

JUNK = "%%<>\x7f'\"; DROP"
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/cluster/nextid", {"vmid": JUNK}),
    ("GET", "/cluster/resources", {"type": JUNK}),
    ("GET", "/cluster/resources", {"bogus": "1"}),
    ("GET", "/nodes/nope/status", {}),
    ("GET", "/nodes/pve1/qemu/99999/config", {}),
    ("GET", "/nodes/pve1/qemu/abc/status/current", {}),
    ("POST", "/nodes/pve1/qemu/9000/clone", {}),
    ("POST", "/nodes/pve1/qemu/9000/clone", {"newid": JUNK, "name": JUNK, "full": JUNK}),
    ("POST", "/nodes/pve1/qemu/9000/clone", {"newid": "700", "target": JUNK}),
    ("POST", "/nodes/pve1/qemu/9000/clone", {"newid": "701", "full": "1", "storage": JUNK}),
    ("PUT", "/nodes/pve1/qemu/9000/config", {}),
    ("PUT", "/nodes/pve1/qemu/9000/config", {"delete": JUNK}),
    ("PUT", "/nodes/pve1/qemu/9000/config", {"scsi5": JUNK}),
    ("PUT", "/nodes/pve1/qemu/9000/config", {"scsi5": "nosuch:vm-9000-disk-9"}),
    ("PUT", "/nodes/pve1/qemu/9000/config", {"scsi5": "nosuch:4"}),
    ("PUT", "/nodes/pve1/qemu/9000/config", {"ipconfig0": JUNK, "agent": JUNK, "memory": JUNK}),
    ("PUT", "/nodes/pve1/qemu/9000/config", {"sshkeys": "ssh-rsa%20AAAA", "skiplock": JUNK}),
    ("PUT", "/nodes/pve1/qemu/9000/config", {"description": "x" * 9000}),
    ("PUT", "/nodes/pve1/qemu/9000/resize", {"disk": "scsi0"}),
    ("PUT", "/nodes/pve1/qemu/9000/resize", {"disk": JUNK, "size": JUNK}),
    ("POST", "/nodes/pve1/qemu/9000/status/stop", {"bogus": "1"}),
    ("POST", "/nodes/pve1/qemu/9000/status/shutdown", {}),
    ("POST", "/nodes/pve1/qemu/9000/agent/exec", {}),
    ("POST", "/nodes/pve1/qemu/9000/agent/exec", {"command": "true"}),
    ("GET", "/nodes/pve1/qemu/9000/agent/exec-status", {"pid": JUNK}),
    ("GET", "/nodes/pve1/qemu/9000/agent/file-read", {}),
    ("GET", "/nodes/pve1/qemu/9000/cloudinit/dump", {"type": JUNK}),
    ("GET", "/nodes/pve1/tasks", {"source": JUNK, "limit": JUNK}),
    ("GET", "/nodes/pve1/tasks/UPID:garbage/status", {}),
    ("GET", "/nodes/pve1/tasks/UPID:pve1:0:0:0:x:y:z:/log", {"start": "-1"}),
    ("GET", "/nodes/pve1/storage/nosuch/status", {}),
    ("POST", "/nodes/pve1/storage/local-lvm/content", {"vmid": "9999", "filename": JUNK, "size": "1G"}),
    ("POST", "/nodes/pve1/storage/local-lvm/content", {"vmid": "9999", "filename": "vm-9999-a", "size": "0"}),
    (
        "POST",
        "/nodes/pve1/storage/local-lvm/content",
        {"vmid": "9999", "filename": "vm-9999-a", "size": "1", "format": "qcow2"},
    ),
    ("DELETE", "/nodes/pve1/storage/local-lvm/content/" + "nosuch", {}),
    ("DELETE", "/nodes/pve1/qemu/9000", {"purge": JUNK}),
    ("POST", "/access/ticket", {}),
    ("PATCH", "/version", {}),
]


@pytest.mark.parametrize(("method", "path", "params"), CASES)
def test_bad_input_gets_pve_errors(
    pve_server: PveServer, caplog: pytest.LogCaptureFixture, method: str, path: str, params: dict[str, Any]
) -> None:
    session = pve_server.token_client()._store["session"]
    url = pve_server.world.urls["proxmox"] + "/api2/json" + path
    with caplog.at_level(logging.ERROR, logger="hks_tui.lab.pve"):
        if method in ("GET", "DELETE"):
            response = session.request(method, url, params=params)
        else:
            response = session.request(method, url, data=params)
    assert response.status_code in (400, 401, 500, 501, 595), response.text
    body = response.json()
    assert body["data"] is None and body["message"].endswith("\n")
    text = " ".join(body["message"].split())
    if text.isascii() and text.isprintable():
        assert response.reason == text  # the reason phrase carries the message
    if response.status_code == 400:
        assert body["errors"] and all(v.endswith("\n") for v in body["errors"].values())
    assert not [r for r in caplog.records if r.name.startswith("hks_tui.lab.pve")], "a handler crashed"
    for marker in (
        "Traceback",
        "Error(",
        "object has no attribute",
        "NoneType",
        "KeyError",
        "invalid literal",
    ):
        assert marker not in response.text
