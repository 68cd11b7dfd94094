"""The lab's controllers: Deployments/ReplicaSets, StatefulSets, Jobs/CronJobs, the scheduler and the
kubelets, PV binding with the Proxmox CSI provisioner, ResourceQuota, the node lifecycle, the K3s join
world link and the vCluster syncer. See docs/lab-world.md."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from hks_tui.lab.controllers.manager import LabControllers

if TYPE_CHECKING:
    from hks_tui.lab.world import LabWorld

__all__ = ["LabControllers", "start_controllers"]


def start_controllers(world: LabWorld) -> list[asyncio.Task[None]]:
    """Start the controllers on the running loop (the lab's); cancel the tasks to stop them."""
    controllers = LabControllers(world)
    world.extra["controllers"] = controllers
    return [asyncio.get_running_loop().create_task(controllers.run(), name="lab-controllers")]
