"""Pilot tests: sections, command line, workspace switch, help, error hub."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding
from textual.command import CommandList
from textual.widgets import OptionList

from hks_tui.app import HksApp
from hks_tui.clients.errors import UnreachableError
from hks_tui.screens.audit import AuditScreen
from hks_tui.screens.base import SectionScreen
from hks_tui.screens.chrome import HealthDot
from hks_tui.screens.dialogs import ErrorPanel, HealthDetails, HelpScreen
from hks_tui.screens.home import HomeScreen
from hks_tui.screens.pickers import PickerScreen
from hks_tui.widgets.resource_table import ResourceTable
from tests.ui.test_shell_support import HEALTH_MIXED, InjectedHealth, hand_runtime


async def settle(app: HksApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def command(app: HksApp, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type ``:text`` and Enter on the command line, then let the work it started finish."""
    await pilot.press("colon", *text, "enter")
    await settle(app, pilot)


def section_key(section: str) -> str:
    """The key bound to a section (looked up, not hard-coded: sections may be renumbered)."""
    bindings = [b for b in HksApp.BINDINGS if isinstance(b, Binding)]
    return next(b.key for b in bindings if b.action == f"section('{section}')")


def assert_first_screen(app: HksApp) -> None:
    """The console opens on its default section (the Node Overview), not on Home."""
    assert app.current_mode == HksApp.DEFAULT_MODE
    assert isinstance(app.screen, SectionScreen) and not isinstance(app.screen, HomeScreen)
    assert "acme › dev" in str(app.screen.query_one("#crumbs").render())
    assert str(app.screen.query_one("#plan-badge").render()) == "Shared"


async def test_sections_by_keys_and_command_line(tmp_path: Path) -> None:
    app = HksApp(hand_runtime(tmp_path), health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert_first_screen(app)
        await pilot.press(section_key("audit"))
        await settle(app, pilot)
        assert isinstance(app.screen, AuditScreen)
        table = app.screen.query_one(ResourceTable)
        assert table.total_count == 3
        await pilot.press(section_key("home"))
        await settle(app, pilot)
        assert isinstance(app.screen, HomeScreen)
        await command(app, pilot, "audit")
        assert isinstance(app.screen, AuditScreen)
        await command(app, pilot, "home")
        assert isinstance(app.screen, HomeScreen)
        await command(app, pilot, HksApp.DEFAULT_MODE)
        assert_first_screen(app)


async def test_unknown_command_is_explained(tmp_path: Path) -> None:
    app = HksApp(hand_runtime(tmp_path), health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await command(app, pilot, "home")
        home = app.screen
        assert isinstance(home, HomeScreen)
        await command(app, pilot, "frobnicate")
        text, severity = app.flash
        assert severity == "error"
        assert "Unknown command ':frobnicate'" in text and ":audit" in text
        assert app.screen is home


async def test_ws_command_switches_workspace(tmp_path: Path) -> None:
    runtime = hand_runtime(tmp_path)
    app = HksApp(runtime, health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert (app.workspace, app.plan) == ("dev", "shared")
        await pilot.press("colon", *"ws prod", "enter")
        await settle(app, pilot)
        assert (app.workspace, app.plan) == ("prod", "dedicated")
        assert runtime.switched == ["prod"]
        assert "prod" in str(app.screen.query_one("#crumbs").render())
        await pilot.press("colon", *"ws nope", "enter")
        await settle(app, pilot)
        assert app.workspace == "prod"
        assert "No workspace named 'nope'" in app.flash[0]


async def test_help_lists_bindings(tmp_path: Path) -> None:
    app = HksApp(hand_runtime(tmp_path), health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await command(app, pilot, "home")
        home = app.screen
        assert isinstance(home, HomeScreen)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen._rows
        descriptions = {d for _k, d, _w in rows}
        assert {"Command", "Help", "Home", "Audit", "Workspace", "Project", "Quit"} <= descriptions
        assert {k for k, d, _w in rows if d == "Home"} == {section_key("home")}
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is home


async def test_error_hub_shows_readable_panel(tmp_path: Path) -> None:
    app = HksApp(hand_runtime(tmp_path), health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)

        async def boom() -> None:
            raise UnreachableError("list VMs", "connection refused", backend="proxmox")

        app.run_worker(boom(), name="list VMs", group="test", exit_on_error=False)
        await settle(app, pilot)
        assert isinstance(app.screen, ErrorPanel)
        assert app.screen.info.what == "list VMs"
        assert app.screen.info.why == "connection refused"
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "Traceback" not in text and "connection refused" in text


async def test_project_command_and_health_dots(tmp_path: Path) -> None:
    app = HksApp(hand_runtime(tmp_path), health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.projects == ["default", "shop"]
        await pilot.press("colon", *"ns shop", "enter")
        await settle(app, pilot)
        assert app.project == "shop"
        assert "dev › shop" in str(app.screen.query_one("#crumbs").render())
        await pilot.press("colon", *"ns nope", "enter")
        await settle(app, pilot)
        assert app.project == "shop" and "No project" in app.flash[0]
        # each backend's dot: a distinct glyph per status, the reason in the tooltip
        dot = app.screen.query_one("#health-prometheus", HealthDot)
        assert dot.status == "down" and str(dot.render()).startswith("✖")
        assert "connection refused" in str(dot.tooltip)
        dot.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, HealthDetails)


async def test_health_failure_is_reported_without_a_modal(tmp_path: Path) -> None:
    runtime = hand_runtime(tmp_path)
    runtime.services.health = InjectedHealth([], error=TimeoutError("health probe timed out"))
    app = HksApp(runtime, health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert_first_screen(app)  # a repeating poll must not pop panels
        assert app.flash[1] == "error" and "health probe timed out" in app.flash[0]
        assert app.errors[-1].kind == "TimeoutError"


async def test_command_palette_switches_sections(tmp_path: Path) -> None:
    app = HksApp(hand_runtime(tmp_path), health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        await pilot.press(*"Go to Audit")
        for _ in range(50):  # the palette searches asynchronously
            await pilot.pause(0.05)
            lists = app.screen.query(CommandList)
            if lists and lists.first().option_count:
                break
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, AuditScreen)


async def test_health_polls_repeat_without_overlap(tmp_path: Path) -> None:
    runtime = hand_runtime(tmp_path)
    health = InjectedHealth(HEALTH_MIXED, delay=0.05)
    runtime.services.health = health
    app = HksApp(runtime, health_interval=0.01, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(3000):  # ends as soon as six checks have run
            await pilot.pause(0.01)
            if health.calls == 2:
                app.check_health()  # a manual check while polling: replaces, never runs alongside
            if health.calls >= 6:
                break
        assert health.calls >= 6
        assert health.max_in_flight == 1


async def test_project_picker_can_choose_all_namespaces(tmp_path: Path) -> None:
    app = HksApp(hand_runtime(tmp_path), health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        first = app.screen
        app.set_project("shop")
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, PickerScreen)
        options = app.screen.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == [
            "*",
            "default",
            "shop",
        ]
        assert options.highlighted == 2  # the current project
        options.highlighted = 0
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.project == "" and app.screen is first
