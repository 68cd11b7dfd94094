"""Authentication (API token, ticket + CSRF), TLS verification against the lab CA, and the
cluster/storage endpoints, over HTTPS with proxmoxer and requests."""

from __future__ import annotations

import pytest
import requests
from proxmoxer import AuthenticationError, ProxmoxAPI
from proxmoxer.core import ResourceException

from hks_tui.lab.pve.model import GIB
from hks_tui.lab.tls import LabCA
from tests.integration.lab.test_pve_harness import PveServer, pve_server, wait_task

__all__ = ["pve_server"]


def test_token_auth_verifies_against_lab_ca(pve_server: PveServer) -> None:
    px = pve_server.token_client()
    assert px.version.get()["version"].startswith("9.")
    with pytest.raises(ResourceException) as err:
        pve_server.token_client(secret="00000000-0000-0000-0000-000000000000").version.get()
    assert err.value.status_code == 401


def test_tls_refuses_untrusted_ca(pve_server: PveServer, tmp_path: object) -> None:
    user, _, token = pve_server.credentials.pve_token_id.partition("!")
    other = LabCA.create(pve_server.ca.ca_file.parent / "other-ca")
    for verify in (True, str(other.ca_file)):
        px = ProxmoxAPI(
            "127.0.0.1",
            port=pve_server.port,
            user=user,
            token_name=token,
            token_value=pve_server.credentials.pve_token_secret,
            verify_ssl=verify,
            timeout=20,
        )
        with pytest.raises(requests.exceptions.SSLError):
            px.version.get()


def test_ticket_auth_and_csrf(pve_server: PveServer) -> None:
    px = pve_server.ticket_client()
    assert {n["node"] for n in px.nodes.get()} == {"pve1", "pve2", "pve3"}
    upid = (
        px.nodes("pve3").qemu(9002).clone.post(newid=300, name="ticket-clone")
    )  # POST carries the CSRF token
    assert upid.split(":")[7] == pve_server.credentials.pve_user
    assert wait_task(px, upid)["exitstatus"] == "OK"
    with pytest.raises(AuthenticationError):
        pve_server.ticket_client(password="wrong-password")

    url = pve_server.world.urls["proxmox"] + "/api2/json"
    verify = str(pve_server.ca.ca_file)
    login = requests.post(
        url + "/access/ticket",
        data={"username": "root", "realm": "pam", "password": pve_server.credentials.pve_password},
        verify=verify,
        timeout=20,
    )
    assert login.status_code == 200
    data = login.json()["data"]
    assert set(data) >= {"ticket", "CSRFPreventionToken", "username"}
    assert data["ticket"].startswith("PVE:root@pam:")
    cookies = {"PVEAuthCookie": data["ticket"]}
    assert (
        requests.get(url + "/cluster/nextid", cookies=cookies, verify=verify, timeout=20).status_code == 200
    )
    no_csrf = requests.post(
        url + "/nodes/pve3/qemu/300/status/start", cookies=cookies, verify=verify, timeout=20
    )
    assert no_csrf.status_code == 401 and no_csrf.reason == "Permission denied - invalid csrf token"
    headers = {"CSRFPreventionToken": data["CSRFPreventionToken"]}
    ok = requests.post(
        url + "/nodes/pve3/qemu/300/config",
        data={"cores": 3},
        cookies=cookies,
        headers=headers,
        verify=verify,
        timeout=20,
    )
    assert ok.status_code == 200 and ok.json()["data"].startswith("UPID:pve3:")
    renew = requests.post(
        url + "/access/ticket",
        data={"username": "root@pam", "password": data["ticket"]},
        verify=verify,
        timeout=20,
    )
    assert renew.status_code == 200
    anonymous = requests.get(url + "/nodes", verify=verify, timeout=20)
    assert anonymous.status_code == 401
    forged = requests.get(
        url + "/nodes", cookies={"PVEAuthCookie": "PVE:root@pam:00000000::AAAA"}, verify=verify, timeout=20
    )
    assert forged.status_code == 401


def test_error_envelope_and_unknown_paths(pve_server: PveServer) -> None:
    session = pve_server.token_client()._store["session"]
    url = pve_server.world.urls["proxmox"] + "/api2/json"
    response = session.get(url + "/nodes/pve1/frobnicate")
    assert response.status_code == 501
    assert response.reason == "Method 'GET /nodes/pve1/frobnicate' not implemented"
    assert response.json() == {
        "data": None,
        "message": "Method 'GET /nodes/pve1/frobnicate' not implemented\n",
    }
    response = session.delete(url + "/cluster/nextid")
    assert response.status_code == 501
    response = session.get(url + "/cluster/nextid", params={"vmid": "9000"})
    assert response.status_code == 400 and response.reason == "Parameter verification failed."
    assert response.json() == {
        "data": None,
        "errors": {"vmid": "VM 9000 already exists\n"},
        "message": "Parameter verification failed.\n",
    }
    response = session.get(url + "/nodes/pve1/qemu/not-a-number/config")
    assert response.status_code == 400 and "vmid" in response.json()["errors"]


def test_nextid_is_a_string(pve_server: PveServer) -> None:
    session = pve_server.token_client()._store["session"]
    url = pve_server.world.urls["proxmox"] + "/api2/json/cluster/nextid"
    body = session.get(url).json()
    assert isinstance(body["data"], str) and int(body["data"]) >= 100
    assert session.get(url, params={"vmid": "12345"}).json()["data"] == "12345"


def test_resources_and_nodes(pve_server: PveServer) -> None:
    px = pve_server.token_client()
    kinds = {row["type"] for row in px.cluster.resources.get()}
    assert kinds == {"node", "qemu", "storage"}
    vms = px.cluster.resources.get(type="vm")
    templates = {row["vmid"]: row for row in vms if row["template"] == 1}
    assert {9000, 9001, 9002} <= set(templates)
    assert {row["node"] for row in templates.values()} == {"pve1", "pve2", "pve3"}
    assert all(row["name"] == "ubuntu-2404-cloudinit" for row in templates.values())
    storages = px.cluster.resources.get(type="storage")
    assert {"storage/pve1/local-lvm", "storage/pve3/shared-nfs"} <= {row["id"] for row in storages}
    shared = [row for row in storages if row["storage"] == "shared-nfs"]
    assert all(row["shared"] == 1 and row["plugintype"] == "nfs" for row in shared)
    status = px.nodes("pve2").status.get()
    assert status["cpuinfo"]["cpus"] == 32 and status["memory"]["total"] == 256 * GIB
    with pytest.raises(ResourceException) as err:
        px.cluster.resources.get(type="bogus")
    assert err.value.status_code == 400


def test_storage_content_allocate_list_delete(pve_server: PveServer) -> None:
    px = pve_server.token_client()
    storage = px.nodes("pve1").storage("local-lvm")
    before = storage.status.get()
    assert set(before) >= {"type", "content", "enabled", "active", "shared", "total", "used", "avail"}
    filename = "vm-9999-pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    volid = storage.content.post(vmid=9999, filename=filename, size="10G")
    assert volid == f"local-lvm:{filename}"
    kib = storage.content.post(vmid=9999, filename="vm-9999-pvc-kib", size="1048576")  # KiB without suffix
    assert pve_server.world.pve.volume_size(kib) == GIB
    after = storage.status.get()
    assert after["used"] == before["used"] + 11 * GIB
    listed = storage.content.get(content="images", vmid=9999)
    assert {row["volid"] for row in listed} == {volid, kib}
    assert {row["size"] for row in listed} == {10 * GIB, GIB}
    with pytest.raises(ResourceException) as err:
        storage.content.post(vmid=9999, filename="pvc-wrong-name", size="1G")
    assert err.value.content == "illegal name 'pvc-wrong-name' - should be 'vm-9999-*'"
    with pytest.raises(ResourceException) as err:
        storage.content.post(vmid=9999, filename=filename, size="1G")
    assert "already exists" in err.value.content
    with pytest.raises(ResourceException) as err:
        storage.content.post(vmid=9999, filename="vm-9999-x", size="1T")
    assert err.value.status_code == 400 and "size" in err.value.errors
    with pytest.raises(ResourceException):
        px.nodes("pve1").storage("local").content.post(vmid=9999, filename="vm-9999-y", size="1G")

    upid = px.nodes("pve1").qemu(9000).clone.post(newid=310, name="csi-user")
    wait_task(px, upid)
    slot = pve_server.call(pve_server.world.pve.attach_volume, 310, volid)
    assert px.nodes("pve1").qemu(310).config.get()[slot].startswith(volid + ",")
    upid = storage.content(volid).delete()
    status = wait_task(px, upid)
    assert status["exitstatus"] == f"volume '{volid}' is still in use by VM 310"
    pve_server.call(pve_server.world.pve.detach_volume, 310, volid)
    assert wait_task(px, storage.content(volid).delete())["exitstatus"] == "OK"
    assert wait_task(px, storage.content("vm-9999-pvc-kib").delete())["exitstatus"] == "OK"
    assert storage.content.get(vmid=9999) == []
    with pytest.raises(ResourceException):
        storage.content(volid).delete()
    shared = (
        px.nodes("pve2").storage("shared-nfs").content.post(vmid=9999, filename="vm-9999-shared", size="1G")
    )
    assert shared in {row["volid"] for row in px.nodes("pve3").storage("shared-nfs").content.get()}
