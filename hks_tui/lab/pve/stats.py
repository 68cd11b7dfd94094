"""Deterministic usage figures of the simulated PVE (VM/node/storage rows as PVE reports them)."""

from __future__ import annotations

from hks_tui.lab.pve.model import GIB, PveCluster, PveStorage, Vm


def vm_maxdisk(pve: PveCluster, vm: Vm) -> int:
    entry = str(vm.config.get("scsi0") or vm.config.get("virtio0") or "")
    volume = pve.find_volume(entry.split(",", 1)[0]) if entry else None
    return volume.size if volume else 0


def vm_usage(pve: PveCluster, vm: Vm) -> dict[str, object]:
    """cpu/mem/net/disk counters of a VM (all zero while stopped; derived from uptime and VMID)."""
    uptime = vm.uptime(pve.clock.now())
    running = vm.status == "running"
    maxmem = vm.memory * 1024 * 1024
    return {
        "cpu": round(0.02 + (vm.vmid % 7) / 100, 4) if running else 0,
        "cpus": vm.cores,
        "mem": int(maxmem * (0.35 + (vm.vmid % 5) / 20)) if running else 0,
        "maxmem": maxmem,
        "disk": 0,
        "maxdisk": vm_maxdisk(pve, vm),
        "netin": uptime * 5300,
        "netout": uptime * 2100,
        "diskread": uptime * 41_000,
        "diskwrite": uptime * 23_000,
        "uptime": uptime,
    }


def resource_vm(pve: PveCluster, vm: Vm) -> dict[str, object]:
    usage = vm_usage(pve, vm)
    row: dict[str, object] = {
        "id": f"qemu/{vm.vmid}",
        "type": "qemu",
        "node": vm.node,
        "vmid": vm.vmid,
        "name": vm.name,
        "status": vm.status,
        "template": 1 if vm.template else 0,
        "cpu": usage["cpu"],
        "maxcpu": vm.cores,
        "mem": usage["mem"],
        "maxmem": usage["maxmem"],
        "disk": usage["disk"],
        "maxdisk": usage["maxdisk"],
        "netin": usage["netin"],
        "netout": usage["netout"],
        "diskread": usage["diskread"],
        "diskwrite": usage["diskwrite"],
        "uptime": usage["uptime"],
    }
    if vm.tags:
        row["tags"] = ";".join(vm.tags)
    if vm.lock:
        row["lock"] = vm.lock
    return row


def node_usage(pve: PveCluster, node: str) -> dict[str, int | float]:
    info = pve.node(node)
    running = [vm for vm in pve.vms.values() if vm.node == node and vm.status == "running"]
    cores = sum(vm.cores for vm in running)
    mem = 6 * GIB + sum(int(vm.memory * 1024 * 1024 * 0.8) for vm in running)
    return {
        "cpu": round(min(1.0, 0.015 + 0.08 * cores / max(1, info.cpus)), 4) if info.online else 0,
        "maxcpu": info.cpus,
        "mem": min(mem, info.memory_bytes) if info.online else 0,
        "maxmem": info.memory_bytes,
        "disk": int(info.disk_bytes * 0.12),
        "maxdisk": info.disk_bytes,
        "uptime": int(pve.clock.now() - pve.booted_at) if info.online else 0,
    }


def resource_node(pve: PveCluster, node: str) -> dict[str, object]:
    info = pve.node(node)
    return {
        "id": f"node/{node}",
        "type": "node",
        "node": node,
        "status": "online" if info.online else "offline",
        **node_usage(pve, node),
    }


def storage_figures(pve: PveCluster, node: str, store: PveStorage) -> dict[str, int]:
    used = pve.storage_used(node, store.storage)
    return {"total": store.total_bytes, "used": used, "avail": max(0, store.total_bytes - used)}


def resource_storage(pve: PveCluster, node: str, store: PveStorage) -> dict[str, object]:
    figures = storage_figures(pve, node, store)
    return {
        "id": f"storage/{node}/{store.storage}",
        "type": "storage",
        "node": node,
        "storage": store.storage,
        "status": "available" if pve.node(node).online else "unknown",
        "plugintype": store.type,
        "content": ",".join(store.content),
        "shared": 1 if store.shared else 0,
        "disk": figures["used"],
        "maxdisk": figures["total"],
    }


def storage_status(pve: PveCluster, node: str, store: PveStorage) -> dict[str, object]:
    return {
        "type": store.type,
        "content": ",".join(store.content),
        "enabled": 1 if store.enabled else 0,
        "active": 1,
        "shared": 1 if store.shared else 0,
        **storage_figures(pve, node, store),
    }
