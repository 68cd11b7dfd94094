"""A simulated VM (:class:`Vm`, whose attributes are views on its PVE config) and naming helpers."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field

GIB = 1024**3
MIB = 1024**2
DISK_SLOT_RE = re.compile(r"^(scsi|virtio|sata|ide)(\d+)$|^unused(\d+)$|^(efidisk|tpmstate)0$")


@dataclass
class Vm:
    vmid: int
    node: str
    config: dict[str, object]
    status: str = "stopped"  # "running" | "stopped"
    started_at: float | None = None  # lab timestamp of the last boot
    files: dict[str, bytes] = field(default_factory=dict)  # guest filesystem seen by agent file-read/cat
    # Changes to non-hotpluggable options of a running VM wait here until the next start/reboot.
    pending: dict[str, object] = field(default_factory=dict)
    pending_delete: set[str] = field(default_factory=set)

    def apply_pending(self) -> None:
        for key in self.pending_delete:
            self.config.pop(key, None)
        self.config.update(self.pending)
        self.pending.clear()
        self.pending_delete.clear()

    @property
    def name(self) -> str:
        return str(self.config.get("name", f"VM{self.vmid}"))

    @name.setter
    def name(self, value: str) -> None:
        self.config["name"] = value

    @property
    def cores(self) -> int:
        return int(str(self.config.get("cores", 1)))

    @cores.setter
    def cores(self, value: int) -> None:
        self.config["cores"] = int(value)

    @property
    def memory(self) -> int:
        """Memory in MiB (the ``current`` of the ``memory`` property string; default 512)."""
        raw = str(self.config.get("memory", "512"))
        for part in raw.split(","):
            key, _, value = part.partition("=")
            if not value:
                return int(key)
            if key == "current":
                return int(value)
        return 512

    @memory.setter
    def memory(self, value: int) -> None:
        self.config["memory"] = str(int(value))

    @property
    def tags(self) -> list[str]:
        return [t for t in re.split(r"[;,\s]+", str(self.config.get("tags", ""))) if t]

    @tags.setter
    def tags(self, value: list[str]) -> None:
        if value:
            self.config["tags"] = ";".join(value)
        else:
            self.config.pop("tags", None)

    @property
    def template(self) -> bool:
        return str(self.config.get("template", 0)) == "1"

    @property
    def lock(self) -> str | None:
        value = self.config.get("lock")
        return None if value is None else str(value)

    @lock.setter
    def lock(self, value: str | None) -> None:
        if value is None:
            self.config.pop("lock", None)
        else:
            self.config["lock"] = value

    @property
    def agent_enabled(self) -> bool:
        raw = str(self.config.get("agent", "0"))
        for part in raw.split(","):
            key, _, value = part.partition("=")
            if not value:
                return key in ("1", "on", "yes", "true")
            if key == "enabled":
                return value in ("1", "on", "yes", "true")
        return False

    def disks(self) -> list[tuple[str, str]]:
        """``(slot, volid)`` of every disk-like entry (including ``unusedN`` and the cloud-init drive)."""
        found = []
        for key, value in self.config.items():
            if DISK_SLOT_RE.match(key):
                volid = str(value).split(",", 1)[0]
                if ":" in volid and volid != "none" and not volid.endswith(".iso"):
                    found.append((key, volid))
        return found

    def uptime(self, now: float) -> int:
        if self.status != "running" or self.started_at is None:
            return 0
        return max(0, int(now - self.started_at))


def format_size(size: int) -> str:
    """PVE's size notation for config entries (``32G``, ``3584M``, ``4M``...)."""
    for unit, factor in (("T", 1024**4), ("G", GIB), ("M", MIB), ("K", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def stable_hex(*parts: object, length: int = 12) -> str:
    """Deterministic hex derived from ``parts`` (MAC addresses, UUIDs, signatures of the lab)."""
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:length]


def mac_for(vmid: int, index: int = 0, generation: int = 0) -> str:
    digest = stable_hex("mac", vmid, index, generation, length=6).upper()
    return "BC:24:11:" + ":".join(digest[i : i + 2] for i in range(0, 6, 2))


def uuid_for(vmid: int, generation: int = 0) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"hks-lab-vm/{vmid}/{generation}"))
