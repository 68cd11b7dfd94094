"""Workspaces, plans and the instance-type catalog."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Plan(StrEnum):
    """HKS node plan: shared host nodes under a ResourceQuota, or dedicated Proxmox VMs."""

    SHARED = "shared"
    DEDICATED = "dedicated"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Workspace(BaseModel):
    """An HKS workspace: one vCluster on the host K3s cluster."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    org: str = ""
    plan: Plan = Plan.SHARED
    host_context: str = ""
    vcluster_context: str = ""


class InstanceType(BaseModel):
    """A catalog entry for dedicated nodes, with its monthly price."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=32)
    vcpu: int = Field(ge=1, le=512)
    ram_gib: int = Field(ge=1, le=4096)
    disk_gib: int = Field(ge=1, le=65536)
    monthly_price: float = Field(ge=0)


DEFAULT_CATALOG: tuple[InstanceType, ...] = (
    InstanceType(name="S", vcpu=2, ram_gib=4, disk_gib=40, monthly_price=40.0),
    InstanceType(name="M", vcpu=4, ram_gib=8, disk_gib=80, monthly_price=80.0),
    InstanceType(name="L", vcpu=8, ram_gib=16, disk_gib=160, monthly_price=160.0),
    InstanceType(name="XL", vcpu=16, ram_gib=32, disk_gib=320, monthly_price=320.0),
)
DEFAULT_STORAGE_PRICE_GIB_MONTH = 0.10
