"""Pilot tests of the Nodes screens on a fresh lab (real HTTP, real clients, real workflows).

A private lab (actions change it): the Overview on ``dev`` (Shared plan near its quota, the warning
notified once) and ``prod`` (Dedicated aggregates), the node list, the detail, a Stop through its dialog
and timeline until the VM is stopped in the lab, and the typed-name gating of Delete.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input

from hks_tui.app import HksApp
from hks_tui.lab.server import RunningLab, start_lab_in_thread
from hks_tui.runtime import RuntimeOptions, open_runtime
from hks_tui.screens.node_actions import WorkflowTimelineScreen, workflow_engine
from hks_tui.screens.node_detail import NodeDetailScreen
from hks_tui.screens.nodes_list import NodeListScreen, NodeTable
from hks_tui.screens.nodes_overview import NodeOverviewScreen
from hks_tui.widgets.action_menu import ActionMenu
from hks_tui.widgets.confirm_dialog import ConfirmDialog
from hks_tui.widgets.quota_gauge import QuotaGauge
from hks_tui.widgets.step_timeline import StepTimeline


@pytest.fixture(scope="module")
def node_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    running = start_lab_in_thread(tmp_path_factory.mktemp("nodes-ui-lab"), seed="demo", time_scale=20.0)
    try:
        yield running
    finally:
        running.stop()


async def settle(app: HksApp, pilot: Any) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Any, check: Any, rounds: int = 600) -> None:
    """Let the app run until ``check()`` holds (bounded; no timing assertion)."""
    for _ in range(rounds):
        if check():
            return
        await pilot.pause(0.05)
    assert check(), "the condition never held"


def notifications(app: HksApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_overview_shared_plan_warns_once(node_lab: RunningLab, tmp_path: Path) -> None:
    runtime = open_runtime(RuntimeOptions(lab_dir=node_lab.state_dir, data_dir=tmp_path, workspace="dev"))
    app = HksApp(runtime, health_interval=0)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, NodeOverviewScreen)
            screen.refresh_interval = 0
            await until(pilot, lambda: screen.snapshot is not None)
            snapshot = screen.snapshot
            assert str(snapshot.plan) == "shared"
            assert {g.resource for g in snapshot.gauges} == {"cpu", "memory", "pods"}
            cpu = screen.query_one("#gauge-cpu", QuotaGauge)
            assert cpu.display and cpu.limit == pytest.approx(4.0) and cpu.level in ("warning", "critical")
            assert not screen.query_one("#gauge-disk", QuotaGauge).display
            banner = screen.query_one("#quota-alert")
            assert "-hidden" not in banner.classes and "CPU" in str(banner.render())
            warned = [m for m in notifications(app) if "of its CPU quota" in m]
            assert len(warned) == 1, notifications(app)
            # a second refresh finds the alert already raised: no second notification
            screen.request_refresh()
            await settle(app, pilot)
            await until(pilot, lambda: screen.snapshot is not snapshot)
            assert screen.snapshot.crossings == []
            assert len([m for m in notifications(app) if "of its CPU quota" in m]) == 1
            assert "-hidden" not in banner.classes
    finally:
        runtime.close()


async def test_prod_overview_list_detail_stop_and_delete_gating(node_lab: RunningLab, tmp_path: Path) -> None:
    runtime = open_runtime(RuntimeOptions(lab_dir=node_lab.state_dir, data_dir=tmp_path, workspace="prod"))
    app = HksApp(runtime, health_interval=0)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            overview = app.screen
            assert isinstance(overview, NodeOverviewScreen)
            overview.refresh_interval = 0
            await until(pilot, lambda: overview.snapshot is not None)
            summary = overview.snapshot.dedicated
            assert str(overview.snapshot.plan) == "dedicated" and summary is not None
            assert len(summary.nodes) == 3 and summary.cpu_capacity > 0 and summary.monthly_cost > 0
            assert overview.query_one("#gauge-disk", QuotaGauge).display
            assert "prod-default-1" in str(overview.query_one("#overview-strip").render())

            # the node list
            await pilot.press("2")
            await until(pilot, lambda: isinstance(app.screen, NodeListScreen) and bool(app.screen.rows))
            nodes = app.screen
            assert isinstance(nodes, NodeListScreen)
            nodes.refresh_interval = 0
            table = nodes.query_one(NodeTable)
            names = {table.get_row(k)["name"]: k for k in table.visible_keys}
            assert set(names) == {"prod-default-1", "prod-default-2", "prod-default-3"}
            assert table.get_row(names["prod-default-1"])["status"] == "Running · Ready"

            # enter opens the detail with Proxmox and Kubernetes facts
            table.move_cursor(table.visible_keys.index(names["prod-default-2"]))
            await pilot.press("enter")
            await until(
                pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.detail is not None
            )
            detail = app.screen.detail
            assert detail.row.name == "prod-default-2" and detail.row.vmid == 202
            assert any(c.get("type") == "Ready" for c in detail.conditions)
            assert "202" in str(app.screen.query_one("#node-proxmox").render())
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is nodes)

            # Delete is gated by the typed name, and cancelling starts nothing
            table.move_cursor(table.visible_keys.index(names["prod-default-3"]))
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, ActionMenu))
            await pilot.press("down", "down", "down", "enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            dialog = app.screen
            impact = " ".join(dialog.impact)
            assert "will be evicted" in impact and "Monthly cost: -$80.00" in impact
            assert "last dedicated node" not in impact
            confirm = dialog.query_one("#confirm", Button)
            assert confirm.disabled
            await pilot.press(*"prod-default-", "enter")
            assert confirm.disabled and app.screen is dialog
            dialog.query_one(Input).value = "prod-default-3"
            await pilot.pause()
            assert not confirm.disabled
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is nodes)
            assert workflow_engine(app).active_for("prod-default-3", workspace="prod") == []

            # Stop: the dialog shows the pods to evict, then the timeline follows the workflow to the end
            table.move_cursor(table.visible_keys.index(names["prod-default-2"]))
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, ActionMenu))
            await pilot.press("down", "enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "evicted" in " ".join(app.screen.impact)
            await pilot.click("#confirm")
            await until(pilot, lambda: isinstance(app.screen, WorkflowTimelineScreen))
            timeline = app.screen
            assert isinstance(timeline, WorkflowTimelineScreen)
            record = workflow_engine(app).get(timeline.workflow_id)
            assert record is not None and record.target == "prod-default-2"
            await until(pilot, lambda: timeline.query_one(StepTimeline).steps["locate"].state == "done")
            # close the timeline: the workflow goes on in the background and notifies at the end
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is nodes)
            done = "Stop of prod-default-2 finished"
            await until(pilot, lambda: any(done in m for m in notifications(app)), rounds=1200)
            final = workflow_engine(app).get(timeline.workflow_id)
            assert final is not None and str(final.status) == "succeeded", final
            vm = next(v for v in node_lab.world.pve.vms.values() if v.name == "prod-default-2")
            assert vm.status == "stopped"
            nodes.refresh_nodes()
            await settle(app, pilot)
            assert table.get_row(names["prod-default-2"])["status"].startswith("Stopped")

            # a node with an action in flight (journaled, not yet driven) shows it and refuses another
            engine = workflow_engine(app)
            params = {"node": "prod-default-1", "workspace": "prod"}
            engine.create("node.stop", params, workspace="prod", target="prod-default-1", exclusive=True)
            nodes.refresh_nodes()
            await settle(app, pilot)
            assert table.get_row(names["prod-default-1"])["status"].startswith("Stopping")
            nodes.start_action("reboot", [nodes.rows[names["prod-default-1"]]])
            await settle(app, pilot)
            assert app.screen is nodes and "already in flight on prod-default-1" in app.flash[0]
    finally:
        await workflow_engine(app).aclose()
        runtime.close()
