"""Node detail facts: the per-node calls made only when a node's detail is opened (no Textual)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hks_tui.clients.errors import HksError
from hks_tui.services.nodes_model import NodeRow

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient
    from hks_tui.clients.proxmox import ProxmoxClient

DISK_KEYS = ("scsi", "virtio", "sata", "ide", "efidisk", "tpmstate", "unused")


def pve_facts(pve: ProxmoxClient, row: NodeRow, errors: list[str]) -> dict[str, Any]:
    """VM config and disks, recent tasks, and the guest agent's addresses when the Node has no IP."""
    node, vmid = row.pve_node, row.vmid
    out: dict[str, Any] = {}
    try:
        config = dict(pve.vm_config(str(node), int(vmid or 0)))
        out["config"] = config
        out["storage"] = [
            str(v).split(",", 1)[0]
            for k, v in sorted(config.items())
            if k.startswith(DISK_KEYS) and k[-1:].isdigit() and "media=cdrom" not in str(v)
        ]
    except HksError as err:
        errors.append(f"VM config: {err.why or err}")
    try:
        tasks = pve.get(
            f"nodes/{node}/tasks",
            what=f"List the recent tasks of VM {vmid}",
            vmid=vmid,
            limit=10,
            source="all",
        )
        out["tasks"] = [dict(t) for t in tasks or []]
    except HksError as err:
        errors.append(f"Proxmox tasks: {err.why or err}")
    if row.vm_status == "running" and row.ip is None:
        try:
            answer = pve.get(
                f"nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
                what=f"Read the guest network of VM {vmid}",
                retries=1,
            )
            out["agent_ips"] = _agent_ips(answer)
        except HksError as err:
            errors.append(f"guest agent: {err.why or err}")
    return out


def pods_on(pods: Iterable[Mapping[str, Any]], node: str) -> list[dict[str, str]]:
    """The pods bound to ``node`` (namespace, name, phase, ready), sorted."""
    found = []
    for pod in pods:
        if (pod.get("spec") or {}).get("nodeName") != node:
            continue
        meta = pod.get("metadata") or {}
        status = pod.get("status") or {}
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
        )
        found.append(
            {
                "namespace": str(meta.get("namespace", "")),
                "name": str(meta.get("name", "")),
                "phase": str(status.get("phase", "")),
                "ready": "True" if ready else "False",
            }
        )
    return sorted(found, key=lambda p: (p["namespace"], p["name"]))


def node_events(host: KubeClient, node: str, errors: list[str]) -> list[dict[str, Any]]:
    """The Node's recent events (newest first, at most 20); a failure is noted in ``errors``."""
    try:
        found = host.list_raw(
            "events", field_selector=f"involvedObject.kind=Node,involvedObject.name={node}"
        ).get("items", [])
    except HksError as err:
        errors.append(f"Node events: {err.why or err}")
        return []
    found = [e for e in found if (e.get("involvedObject") or {}).get("name") == node]
    found.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""), reverse=True)
    return [
        {
            "type": e.get("type", ""),
            "reason": e.get("reason", ""),
            "message": e.get("message", ""),
            "count": e.get("count", 1),
            "last": e.get("lastTimestamp") or e.get("eventTime") or "",
        }
        for e in found[:20]
    ]


def _agent_ips(answer: Any) -> list[str]:
    result = answer.get("result", answer) if isinstance(answer, dict) else answer
    ips: list[str] = []
    for iface in result or []:
        if str(iface.get("name", "")).startswith("lo"):
            continue
        for addr in iface.get("ip-addresses") or []:
            if addr.get("ip-address-type") == "ipv4" and addr.get("ip-address"):
                ips.append(str(addr["ip-address"]))
    return ips


def vm_created(config: Mapping[str, Any]) -> datetime | None:
    """The VM's creation time from ``meta: …,ctime=<epoch>``."""
    for part in str(config.get("meta") or "").split(","):
        key, _, value = part.partition("=")
        if key == "ctime" and value.isdigit():
            return datetime.fromtimestamp(int(value), tz=UTC)
    return None
