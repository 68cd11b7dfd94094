"""Snapshots of the shell at 80x24 and 120x40 in dark and light themes.

Deterministic: the runtime is assembled by hand with injected health results and a frozen audit log
(tests/ui/test_shell_support.py); no polling; workers finish before the screenshot. The console starts
on the Node Overview (snapshotted in test_nodes_snap.py); these go to their section by the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hks_tui.app import HksApp
from hks_tui.clients.errors import UnreachableError
from hks_tui.screens.audit import AuditScreen
from hks_tui.screens.home import HomeScreen
from hks_tui.widgets.resource_table import ResourceTable
from tests.ui.test_shell_support import hand_runtime

SIZES = [(80, 24), (120, 40)]
THEMES = ["textual-dark", "textual-light"]


def make_app(tmp_path: Path, theme: str, **runtime_kw: Any) -> HksApp:
    app = HksApp(hand_runtime(tmp_path, **runtime_kw), health_interval=0, audit_interval=0)
    app.theme = theme
    return app


async def settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def go_home(pilot: Any) -> None:
    """Open Home by the command line (the console starts on the Node Overview, its default section)."""
    await settle(pilot)
    await pilot.press("colon", *"home", "enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HomeScreen)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
def test_home(snap_compare: Any, tmp_path: Path, size: tuple[int, int], theme: str) -> None:
    assert snap_compare(make_app(tmp_path, theme), terminal_size=size, run_before=go_home)


@pytest.mark.parametrize(
    ("theme", "size"),
    [("textual-dark", (80, 24)), ("textual-light", (120, 40))],
    ids=["dark-80x24", "light-120x40"],
)
def test_audit(snap_compare: Any, tmp_path: Path, size: tuple[int, int], theme: str) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("colon", *"audit", "enter")
        for _ in range(200):  # until the audit section is mounted and its rows are in
            await settle(pilot)
            tables = pilot.app.screen.query(ResourceTable)
            if isinstance(pilot.app.screen, AuditScreen) and tables and tables.first().total_count == 12:
                break
        await settle(pilot)

    assert snap_compare(make_app(tmp_path, theme, audit_rows=12), terminal_size=size, run_before=run_before)


def test_readonly_insecure_with_config_problem(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        "textual-dark",
        readonly=True,
        insecure=True,
        config_error="/home/alice/.config/hks-tui/config.toml:7: proxmox.url: invalid URL",
    )
    assert snap_compare(app, terminal_size=(80, 24), run_before=go_home)


def test_help(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await go_home(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path, "textual-dark"), terminal_size=(80, 24), run_before=run_before)


def test_error_panel(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await go_home(pilot)
        error = UnreachableError("list VMs on pve1", "connection refused (127.0.0.1:8006)", backend="proxmox")
        pilot.app.report_error(error, source="nodes")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path, "textual-light"), terminal_size=(80, 24), run_before=run_before)


def test_health_details(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await go_home(pilot)
        await pilot.press("B")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path, "textual-dark"), terminal_size=(80, 24), run_before=run_before)
