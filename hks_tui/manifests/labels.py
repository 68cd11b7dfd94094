"""Label and annotation keys every builder uses (one place, so services and the lab agree)."""

from __future__ import annotations

NAME = "app.kubernetes.io/name"
MANAGED_BY = "app.kubernetes.io/managed-by"
COMPONENT = "app.kubernetes.io/component"
MANAGER = "hks-tui"
WORKSPACE = "hks.io/workspace"
POOL = "hks.io/pool"
VOLUME = "hks.io/volume"
BACKUP = "hks.io/backup"
BACKUP_SPEC = "hks.io/backup-spec"
BACKUP_SOURCE = "hks.io/backup-source"
BACKUP_TARGET = "hks.io/backup-target"
APP = "hks.io/app"
REGION = "topology.kubernetes.io/region"
ZONE = "topology.kubernetes.io/zone"
CSI_DRIVER = "csi.proxmox.sinextra.dev"
CSI_VMID = 9999


def app_labels(app: str) -> dict[str, str]:
    """The labels that make a set of objects one Application."""
    return {NAME: app, MANAGED_BY: MANAGER}


def workspace_toleration(workspace: str) -> dict[str, str]:
    return {"key": WORKSPACE, "operator": "Equal", "value": workspace, "effect": "NoSchedule"}
