"""Snapshots of the Nodes screens at 80x24 and 120x40: Overview (Shared near quota, Dedicated), node
list, node detail, delete dialog and a running timeline.

Deterministic: fixed node/quota data (tests/ui/test_nodes_support.py), no polling timers, frozen clock
for the timeline, no cursor blink; workers finish before the screenshot.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from hks_tui.app import HksApp
from hks_tui.screens.node_actions import WorkflowTimelineScreen
from hks_tui.screens.node_detail import NodeDetailScreen
from hks_tui.screens.nodes_list import NodeListScreen
from hks_tui.screens.nodes_overview import NodeOverviewScreen
from hks_tui.workflows import EventType, WorkflowEngine, WorkflowEvent
from hks_tui.workflows.nodes import NODE_KINDS
from tests.ui.test_nodes_support import PROD_ROWS, frozen_clock, nodes_runtime

SIZES = [(80, 24), (120, 40)]
IDS = ["80x24", "120x40"]


def make_app(tmp_path: Path, workspace: str) -> HksApp:
    return HksApp(nodes_runtime(tmp_path, workspace), health_interval=0, audit_interval=0)


async def settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def overview_ready(pilot: Any) -> None:
    for _ in range(100):
        await settle(pilot)
        screen = pilot.app.screen
        if isinstance(screen, NodeOverviewScreen) and screen.snapshot is not None:
            break
    screen = pilot.app.screen
    assert isinstance(screen, NodeOverviewScreen)
    screen.refresh_interval = 0
    if screen._timer is not None:
        screen._timer.stop()
    await settle(pilot)


async def node_list_ready(pilot: Any) -> NodeListScreen:
    await overview_ready(pilot)
    await pilot.press("2")
    for _ in range(100):
        await settle(pilot)
        screen = pilot.app.screen
        if isinstance(screen, NodeListScreen) and screen.rows:
            break
    screen = pilot.app.screen
    assert isinstance(screen, NodeListScreen)
    screen.refresh_interval = 0
    if screen._timer is not None:
        screen._timer.stop()
    await settle(pilot)
    return screen


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_overview_shared_near_quota(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(tmp_path, "dev"), terminal_size=size, run_before=overview_ready)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_overview_dedicated(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(tmp_path, "prod"), terminal_size=size, run_before=overview_ready)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_node_list(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        screen = await node_list_ready(pilot)
        assert len(screen.rows) == 3

    assert snap_compare(make_app(tmp_path, "prod"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_node_detail(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await node_list_ready(pilot)
        await pilot.press("enter")
        for _ in range(100):
            await settle(pilot)
            if isinstance(pilot.app.screen, NodeDetailScreen) and pilot.app.screen.detail is not None:
                break
        assert isinstance(pilot.app.screen, NodeDetailScreen)

    assert snap_compare(make_app(tmp_path, "prod"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_delete_dialog(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        screen = await node_list_ready(pilot)
        screen.start_action("delete", [PROD_ROWS[1]])
        await settle(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.press(*"prod-def")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path, "prod"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_running_timeline(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = make_app(tmp_path, "prod")
    engine = WorkflowEngine(app.runtime.store, NODE_KINDS.values())
    params = {"node": "prod-default-2", "workspace": "prod"}
    engine.create("node.stop", params, workspace="prod", target="prod-default-2", workflow_id="wf-snap-1")
    t0 = frozen_clock() - timedelta(seconds=95)

    async def run_before(pilot: Any) -> None:
        await overview_ready(pilot)
        pilot.app.push_screen(WorkflowTimelineScreen(engine, "wf-snap-1", clock=frozen_clock))
        await settle(pilot)

        def publish(kind: EventType, step: str | None, seconds: int, detail: str = "", **kw: Any) -> None:
            at = t0 + timedelta(seconds=seconds)
            engine.events.publish(WorkflowEvent("wf-snap-1", kind, step=step, detail=detail, at=at, **kw))

        publish(EventType.WORKFLOW_STARTED, None, 0)
        publish(EventType.STEP_STARTED, "locate", 0)
        publish(EventType.STEP_DONE, "locate", 1)
        publish(EventType.STEP_STARTED, "cordon", 1)
        publish(EventType.STEP_DONE, "cordon", 2)
        publish(EventType.STEP_STARTED, "drain", 2)
        publish(EventType.STEP_DETAIL, "drain", 3, "evicting default/web-7d9f0")
        publish(EventType.STEP_DETAIL, "drain", 5, "evicting default/web-7d9f1")
        publish(EventType.STEP_RETRY, "drain", 9, "429: PodDisruptionBudget web-pdb", attempt=1, delay=5.0)
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
