"""PVE answers a request for a missing guest with HTTP 500 "Configuration file … does not exist"."""

from __future__ import annotations

from proxmoxer.core import ResourceException

from hks_tui.clients.errors import NotFoundError, ServerError
from hks_tui.clients.mapping import map_exception


def _pve(status: int, message: str) -> ResourceException:
    return ResourceException(status, "Internal Server Error", message)


def test_missing_vm_config_maps_to_not_found_keeping_status_500() -> None:
    exc = _pve(500, "Configuration file 'nodes/pve1/qemu-server/123.conf' does not exist")
    mapped = map_exception(exc, what="stop VM 123 on pve1", backend="proxmox")
    assert isinstance(mapped, NotFoundError)
    assert mapped.status == 500
    assert "123.conf" in mapped.why
    assert mapped.backend == "proxmox"


def test_other_500_stays_a_server_error() -> None:
    mapped = map_exception(_pve(500, "VM 123 is locked (clone)"), what="stop VM 123", backend="proxmox")
    assert isinstance(mapped, ServerError)
    assert not isinstance(mapped, NotFoundError)
    assert mapped.status == 500


def test_plain_404_is_still_not_found() -> None:
    mapped = map_exception(_pve(404, "no such resource"), what="get VM", backend="proxmox")
    assert isinstance(mapped, NotFoundError) and mapped.status == 404
