"""``start_controllers`` on a real event loop: store changes wake it, the lab-clock tick moves pods
through their lifecycle, and cancelling the task stops it cleanly."""

from __future__ import annotations

import asyncio

from hks_tui.lab.clock import LabClock
from hks_tui.lab.controllers import LabControllers, start_controllers
from hks_tui.lab.seed import build_world


async def test_controllers_run_on_the_loop_until_cancelled() -> None:
    world = build_world("empty", LabClock(time_scale=50.0))
    tasks = start_controllers(world)
    assert isinstance(world.extra["controllers"], LabControllers)
    store = world.host.store
    labels = {"app": "loop"}
    store.create(
        "deployments",
        {
            "metadata": {"name": "loop"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
        "default",
    )
    for _ in range(400):  # bounded wait on the accelerated clock
        status = store.get("deployments", "loop", "default").get("status") or {}
        if status.get("readyReplicas") == 2:
            break
        await asyncio.sleep(0.02)
    assert store.get("deployments", "loop", "default")["status"]["readyReplicas"] == 2
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    passes = world.extra["controllers"].passes
    await asyncio.sleep(0.2)
    assert world.extra["controllers"].passes == passes  # stopped
