"""Pilot tests of the Nodes screens' own logic on fixed data (no lab): refusals, impact texts, live
refresh on watch events, and quota notifications once per crossing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hks_tui.app import HksApp
from hks_tui.screens.node_actions import busy_rows, delete_impact, dialog_for, power_impact
from hks_tui.screens.nodes_list import NodeListScreen
from hks_tui.screens.nodes_overview import NodeOverviewScreen, alert_lines
from hks_tui.widgets.confirm_dialog import ConfirmDialog
from tests.ui.test_nodes_support import PROD_ROWS, nodes_runtime, shared_snapshot


async def settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot: Any, check: Any, rounds: int = 200) -> None:
    for _ in range(rounds):
        if check():
            return
        await settle(pilot)
    assert check(), "the condition never held"


def test_impact_texts() -> None:
    last = delete_impact(PROD_ROWS[0], [PROD_ROWS[0]])
    assert "9 pods will be evicted" in last[0]
    assert "Monthly cost: -$80.00 ($80.00 → $0.00)" in last[1]
    assert last[-1] == "This is your last dedicated node: the workspace returns to the Shared plan"
    assert not any("last dedicated" in line for line in delete_impact(PROD_ROWS[0], PROD_ROWS))
    stop = power_impact("stop", PROD_ROWS[:2])
    assert stop[0].startswith("prod-default-1: 9 pods will be evicted") and "forced stop" in stop[-1]
    dialog = dialog_for("delete", [PROD_ROWS[1]], PROD_ROWS)
    assert dialog.require_text == "prod-default-2" and dialog.destructive
    assert dialog_for("reboot", PROD_ROWS[:2], PROD_ROWS).require_text is None
    busy = PROD_ROWS[0].model_copy(update={"status": "Stopping 2/5"})
    assert busy_rows([busy, PROD_ROWS[1]]) == [busy]
    lines = alert_lines(shared_snapshot())
    assert [level for level, _ in lines] == ["critical", "warning"]


async def test_node_list_refuses_busy_nodes_and_multi_delete(tmp_path: Path) -> None:
    app = HksApp(nodes_runtime(tmp_path, "prod"), health_interval=0, audit_interval=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"nodes", "enter")
        await until(pilot, lambda: isinstance(app.screen, NodeListScreen) and bool(app.screen.rows))
        screen = app.screen
        assert isinstance(screen, NodeListScreen)
        busy = PROD_ROWS[0].model_copy(update={"status": "Stopping 2/5"})
        screen.start_action("reboot", [busy])
        await settle(pilot)
        assert app.screen is screen
        assert "already in flight on prod-default-1 (Stopping 2/5)" in app.flash[0]
        screen.start_action("delete", PROD_ROWS[:2])
        await settle(pilot)
        assert app.screen is screen and "one node at a time" in app.flash[0]
        screen.start_action("stop", PROD_ROWS[:2])
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog) and app.screen.require_text is None
        await pilot.press("escape")
        await settle(pilot)

        # a watch event refreshes the list (debounced into one fetch)
        nodes = app.runtime.services.nodes
        screen.refresh_interval = 0
        before = len(nodes.calls)
        for listener in list(nodes.listeners):
            listener("nodes")
            listener("pods")
        await until(pilot, lambda: len(nodes.calls) > before)
        await settle(pilot)
        assert nodes.calls[before:] == ["prod"]


async def test_overview_notifies_each_crossing_once(tmp_path: Path) -> None:
    app = HksApp(nodes_runtime(tmp_path, "dev"), health_interval=0, audit_interval=0)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, NodeOverviewScreen)
        await until(pilot, lambda: screen.snapshot is not None)
        screen.refresh_interval = 0
        screen.request_refresh()
        await until(pilot, lambda: app.runtime.services.quota.calls >= 2)
        await settle(pilot)
        quota = [n for n in app._notifications if n.title == "Quota"]
        assert len(quota) == 1 and "95% of its CPU quota" in quota[0].message
        assert len(screen.notified) == 1
        assert "CRITICAL: CPU at 95%" in str(screen.query_one("#quota-alert").render())
