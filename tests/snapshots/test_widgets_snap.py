"""Snapshots of each shared widget at 80x24 in a tiny host app (deterministic: fixed data, fixed clock,
no cursor blink, log flushes done explicitly before the screenshot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input

from hks_tui.widgets import (
    Column,
    ConfirmDialog,
    LogView,
    QuotaGauge,
    ResourceTable,
    Row,
    RowAction,
    Step,
    StepTimeline,
    UsageChart,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = [
    Column("name", "Name"),
    Column("status", "Status"),
    Column("node", "Node", optional=True),
    Column("cpu", "CPU", align="right"),
    Column("mem", "Memory", align="right"),
]


def pods(count: int) -> list[Row]:
    return [
        Row(
            f"pod-{i:03d}",
            (
                f"web-{i:03d}",
                "Running" if i % 4 else "CrashLoop",
                f"worker-{i % 3}",
                f"{(i * 37) % 900}m",
                f"{i % 7 + 1}Gi",
            ),
            styles={"status": "bold red"} if i % 4 == 0 else None,
        )
        for i in range(count)
    ]


class Host(App[None]):
    def __init__(self, *widgets: Widget, theme: str = "textual-dark") -> None:
        super().__init__()
        self.widgets = widgets
        self.theme = theme

    def compose(self) -> ComposeResult:
        yield from self.widgets


async def no_blink(pilot: Any) -> None:
    await pilot.pause()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def table_app(theme: str = "textual-dark", count: int = 40) -> tuple[Host, ResourceTable]:
    table = ResourceTable(
        COLUMNS, actions=[RowAction("logs", "Logs", multi=False), RowAction("delete", "Delete")]
    )
    table.replace_rows(pods(count))
    return Host(table, theme=theme), table


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
def test_table_sorted_selected(snap_compare: Any, theme: str) -> None:
    app, table = table_app(theme)

    async def run_before(pilot: Any) -> None:
        table.focus()
        table.sort_by("cpu", reverse=True)
        await pilot.press("g", "j", "j", "space", "j", "space", "j")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_table_filter_open(snap_compare: Any) -> None:
    app, table = table_app()

    async def run_before(pilot: Any) -> None:
        table.focus()
        await pilot.press("slash", "c", "r", "a", "s", "h")
        await no_blink(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_table_action_menu(snap_compare: Any) -> None:
    app, table = table_app()

    async def run_before(pilot: Any) -> None:
        table.focus()
        await pilot.press("j", "a")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_table_error_state(snap_compare: Any) -> None:
    app, table = table_app("textual-light", count=0)

    async def run_before(pilot: Any) -> None:
        table.set_error("Could not list pods", "host cluster: connection refused (127.0.0.1:6443)")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_step_timeline(snap_compare: Any) -> None:
    steps = [
        Step(
            "clone", "Clone VM from template", "done", T0, T0 + timedelta(seconds=14), ["UPID:pve1:clone ok"]
        ),
        Step("start", "Start VM", "done", T0 + timedelta(seconds=14), T0 + timedelta(seconds=20)),
        Step(
            "agent", "Wait for guest agent", "failed", T0 + timedelta(seconds=20), T0 + timedelta(seconds=95)
        ),
        Step("join", "Join host cluster", "running", T0 + timedelta(seconds=95)),
        Step("label", "Label and taint node", "pending"),
        Step("sync", "Sync into vCluster", "skipped"),
    ]
    timeline = StepTimeline(steps, clock=lambda: T0 + timedelta(seconds=130))

    async def run_before(pilot: Any) -> None:
        timeline.update_step("agent", append=["agent not ready (500)", "retrying in 4s", "gave up after 60s"])
        timeline.focus()
        await pilot.press("j")
        await pilot.pause()

    assert snap_compare(Host(timeline), terminal_size=(80, 24), run_before=run_before)


def test_confirm_dialog(snap_compare: Any) -> None:
    app = Host()

    async def run_before(pilot: Any) -> None:
        pilot.app.push_screen(
            ConfirmDialog(
                "Delete node worker-3?",
                ["Cordons and drains worker-3 (12 pods)", "Stops and destroys VM 104 and its 2 disks"],
                require_text="worker-3",
                confirm_label="Delete",
            )
        )
        await pilot.pause()
        await pilot.press(*"worker")
        await no_blink(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_gauges_and_charts(snap_compare: Any) -> None:
    history = [0.4, 0.6, 0.9, 1.1, 1.0, 1.3, 1.6, 1.5, 1.7, 1.8, 1.75, 1.9]
    column = Vertical(
        QuotaGauge("CPU", 1.2, 2, unit="cores"),
        QuotaGauge("Memory", 6.9, 8, unit="GiB"),
        QuotaGauge("Storage", 97, 100, unit="GiB"),
        QuotaGauge("Pods", 14, None),
        UsageChart("cpu", history, limit=2.0, unit="cores"),
    )
    tiny = Horizontal(UsageChart("mem", [2, 3, 5, 6, 7], limit=8, unit="GiB"), UsageChart("pods", [1, 4, 9]))
    tiny.styles.height = 2
    assert snap_compare(Host(column, tiny), terminal_size=(80, 24))


def test_log_view(snap_compare: Any) -> None:
    view = LogView(max_lines=100)

    async def run_before(pilot: Any) -> None:
        view.write_lines(
            [
                "2026-01-01T00:00:00Z INFO starting web server on :8080",
                "2026-01-01T00:00:01Z DEBUG loaded 12 routes",
                "2026-01-01T00:00:02Z WARN slow query (1.2 s) on orders",
                '{"level":"error","ts":"2026-01-01T00:00:03Z","msg":"db connection lost","retry":3}',
                "2026-01-01T00:00:04Z INFO reconnected to db",
                "plain line without a level",
            ]
        )
        view.flush()
        view.set_stream_state("reconnecting", "stream closed by server", dropped=17)
        view.focus()
        await pilot.press("p", "slash", *"db")
        await no_blink(pilot)

    assert snap_compare(Host(view), terminal_size=(80, 24), run_before=run_before)
