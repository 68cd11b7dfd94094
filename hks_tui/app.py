"""HksApp: the Textual shell — wiring only (sections as modes, bindings, the error hub, runtime injection).

Screens live in ``hks_tui.screens``; styles in ``hks_tui/styles``. The app receives a ready ``Runtime``
(settings, profile, store, services); tests build one against the lab and pass it in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.actions import SkipAction
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from hks_tui.screens.base import STYLES, SectionScreen
from hks_tui.screens.chrome import CommandLine, HealthDot
from hks_tui.screens.commands import COMMANDS
from hks_tui.screens.errors import ErrorInfo, describe_error
from hks_tui.screens.home import HomeScreen
from hks_tui.screens.navigation import NavigationMixin
from hks_tui.screens.startup import (
    FIRST_FRAME_ENV,
    FIRST_FRAME_MARKER,
    NOT_CONNECTED,
    THEMES,
    RuntimeOpened,
    StartupMixin,
)

if TYPE_CHECKING:
    from hks_tui.cli_boot import PendingRuntime, RuntimeOpener
    from hks_tui.runtime import Runtime

# Workers whose failure is shown as a flash/notification only (they repeat; a modal would nag).
_QUIET_GROUPS = {"health", "audit-refresh", "workspaces", "projects", "picker-load"}


def _overview_screen() -> Screen[Any]:
    """The Node Overview (the default section), imported on first use."""
    from hks_tui.screens.nodes_overview import NodeOverviewScreen

    return NodeOverviewScreen()


def _nodes_screen() -> Screen[Any]:
    """The Dedicated Node List, imported on first use."""
    from hks_tui.screens.nodes_list import NodeListScreen

    return NodeListScreen()


def _audit_screen() -> Screen[Any]:
    """The audit section, imported on first use (keeps the table widget out of start-up)."""
    from hks_tui.screens.audit import AuditScreen

    return AuditScreen()


class HksApp(NavigationMixin, StartupMixin, App[int]):
    """The HKS console shell."""

    TITLE = "HKS"
    # The home section's styles load with the app's: a screen's own CSS_PATH makes Textual re-parse the
    # whole stylesheet when the screen is installed, which would delay the first frame.
    CSS_PATH = [STYLES / "app.tcss", STYLES / "home.tcss", STYLES / "nodes.tcss"]
    # The app starts in the "home" mode on ``get_default_screen()`` and registers the mode in on_mount:
    # a screen from MODES is installed with a full stylesheet re-parse and re-apply (Textual refreshes
    # the CSS for every newly installed mode screen), which would delay the first frame.
    DEFAULT_MODE = "overview"
    MODES = {"home": HomeScreen, "nodes": _nodes_screen, "audit": _audit_screen}
    #: (mode, title) of every section, in key order
    SECTIONS: tuple[tuple[str, str], ...] = (
        ("overview", "Overview"),
        ("nodes", "Nodes"),
        ("home", "Home"),
        ("audit", "Audit"),
    )
    BINDINGS = [
        # Priority: handled before the key is forwarded, so keys typed right after ':' reach the command
        # line (not the widget that had focus). Inside an Input they type themselves (SkipAction).
        Binding("colon", "command_line", "Command", key_display=":", priority=True),
        Binding("question_mark", "help", "Help", key_display="?", priority=True),
        Binding("1", "section('overview')", "Overview"),
        Binding("2", "section('nodes')", "Nodes"),
        Binding("3", "section('home')", "Home"),
        Binding("4", "section('audit')", "Audit"),
        Binding("w", "pick_workspace", "Workspace"),
        Binding("p", "pick_project", "Project"),
        Binding("B", "health_details", "Health", key_display="B"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    org: reactive[str] = reactive("")
    workspace: reactive[str] = reactive("")
    project: reactive[str] = reactive("")
    plan: reactive[str | None] = reactive(None)
    health: reactive[tuple[Any, ...]] = reactive(())
    flash: reactive[tuple[str, str]] = reactive(("", "information"))
    #: False while a deferred runtime is being opened (see hks_tui.cli_boot)
    connected: reactive[bool] = reactive(True)

    def __init__(
        self,
        runtime: Runtime | PendingRuntime,
        *,
        opener: RuntimeOpener | None = None,
        health_interval: float = 15.0,
        audit_interval: float = 2.0,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self._opener = opener
        self.set_reactive(HksApp.connected, opener is None)
        self.health_interval = health_interval
        self.audit_interval = audit_interval
        self.workspaces: list[Any] = []
        self.projects: list[str] = []
        self.errors: list[ErrorInfo] = []
        self._health_timer: Timer | None = None
        settings = getattr(runtime, "settings", None)
        ui = getattr(settings, "ui", None)
        self.theme = THEMES.get(str(getattr(ui, "theme", "dark")), "textual-dark")

    # -- start-up -------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        profile = getattr(self.runtime, "profile", None)
        self.org = str(getattr(profile, "org", "") or getattr(self.runtime, "org", "") or "")
        self.workspace = str(
            getattr(self.runtime, "workspace", None) or getattr(profile, "workspace", "") or ""
        )
        # Make "home" switchable-to; its stack already holds the default screen, so none is created.
        self.add_mode(self.DEFAULT_MODE, _overview_screen)
        if self.runtime.config_error is not None:
            self.say(f"Configuration problem: {self.runtime.config_error}", "warning")
        self._schedule_startup()
        if self.connected:
            self.call_after_refresh(self._offer_resume)

    def watch_connected(self, connected: bool) -> None:
        if connected:
            self.call_after_refresh(self._offer_resume)

    @work(group="workflow-resume", exclusive=True, exit_on_error=False)
    async def _offer_resume(self) -> None:
        """Ask (once connected) whether to resume workflows an earlier session left unfinished."""
        if getattr(self.runtime, "store", None) is None or getattr(self.runtime, "services", None) is None:
            return
        from hks_tui.screens.workflows import offer_resume

        try:
            offer_resume(self)
        except Exception as error:  # a start-up check must never stop the console
            self.report_error(error, source="workflows", quiet=True)

    def get_default_screen(self) -> Screen[Any]:
        return _overview_screen()

    @property
    def current_workspace(self) -> Any | None:
        return next((w for w in self.workspaces if w.name == self.workspace), None)

    # -- background work ------------------------------------------------------------------------------
    @work(group="health", exclusive=True, exit_on_error=False)
    async def check_health(self) -> list[Any]:
        return list(await self.runtime.services.health.check_all())

    @work(group="workspaces", exclusive=True, exit_on_error=False)
    async def load_workspaces(self) -> list[Any]:
        return list(await self.runtime.services.workspaces.list())

    @work(group="projects", exclusive=True, exit_on_error=False)
    async def load_projects(self) -> list[str]:
        return list(await self.runtime.services.workspaces.projects(self.workspace))

    @on(Worker.StateChanged)
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one worker-error hub, plus result routing for the app's own workers."""
        worker = event.worker
        if event.state == WorkerState.SUCCESS and worker.node is self:
            self._apply_result(worker.group, worker.result)
        elif event.state == WorkerState.ERROR:
            self.report_error(
                worker.error, source=worker.name or worker.group, quiet=worker.group in _QUIET_GROUPS
            )
        polled = worker.node is self and worker.group == "health" and self.health_interval > 0
        if polled and event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            # One pending poll at most: a manual check (e.g. after a workspace switch) restarts the wait.
            if self._health_timer is not None:
                self._health_timer.stop()
            self._health_timer = self.set_timer(self.health_interval, self.check_health, name="health-poll")

    def _apply_result(self, group: str, result: Any) -> None:
        if group == "health":
            self.health = tuple(result)
        elif group == "workspaces":
            self.workspaces = sorted(result, key=lambda w: w.name)
            if not self.workspace and len(self.workspaces) == 1:
                self.workspace = self.workspaces[0].name
            self._sync_workspace_facts()
            self.load_projects()
        elif group == "projects":
            self.projects = sorted(result)

    def _sync_workspace_facts(self) -> None:
        current = self.current_workspace
        self.plan = str(current.plan) if current is not None else None
        if current is not None and current.org:
            self.org = current.org
        self.mutate_reactive(HksApp.workspace)

    # -- errors and messages --------------------------------------------------------------------------
    def report_error(self, error: BaseException | None, *, source: str, quiet: bool = False) -> ErrorInfo:
        """Show a failure: always a flash line and a notification; an error panel unless ``quiet``."""
        info = describe_error(error, source)
        self.errors = [*self.errors[-99:], info]
        self.say(info.one_line, "error")
        from hks_tui.screens.dialogs import ErrorPanel  # dialogs load on first use, not at start-up

        if not quiet and not isinstance(self.screen, ErrorPanel):
            self.push_screen(ErrorPanel(info))
        return info

    def say(self, text: str, severity: str = "information") -> None:
        """Flash a message in the shell's message line and as a notification."""
        self.flash = (text, severity)
        if severity != "information":
            self.notify(text, severity=severity, markup=False)  # type: ignore[arg-type]

    # -- actions --------------------------------------------------------------------------------------
    def action_section(self, name: str) -> None:
        if name != self.current_mode:
            self.switch_mode(name)

    def _typing(self) -> bool:
        return isinstance(self.screen.focused, Input)

    def action_command_line(self) -> None:
        if self._typing():
            raise SkipAction()
        if isinstance(self.screen, SectionScreen):
            self.screen.open_command_line()

    def action_help(self) -> None:
        if self._typing():
            raise SkipAction()
        screen = self.screen
        from hks_tui.screens.dialogs import HelpScreen, binding_rows

        if isinstance(screen, HelpScreen):
            return
        title = screen.TITLE_TEXT if isinstance(screen, SectionScreen) else type(screen).__name__
        self.push_screen(HelpScreen(binding_rows(screen), title))

    def action_health_details(self) -> None:
        from hks_tui.screens.dialogs import HealthDetails

        self.push_screen(HealthDetails(self.health))

    @on(HealthDot.Activated)
    def _dot_activated(self) -> None:
        self.action_health_details()

    def action_toggle_theme(self) -> None:
        self.theme = THEMES["light"] if self.theme == THEMES["dark"] else THEMES["dark"]

    @on(CommandLine.Entered)
    def _command_submitted(self, event: CommandLine.Entered) -> None:
        self.run_command(event.text)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for mode, title in self.SECTIONS:
            yield SystemCommand(f"Go to {title}", f":{mode}", lambda m=mode: self.action_section(m))
        yield SystemCommand("Switch workspace", "Pick another workspace", self.action_pick_workspace)
        yield SystemCommand("Pick project", "Pick the project (namespace)", self.action_pick_project)
        yield SystemCommand(
            "Backend health", "Health of every backend with reasons", self.action_health_details
        )
        yield SystemCommand("Toggle theme", "Switch between dark and light", self.action_toggle_theme)
        yield SystemCommand("Help", "Every key binding of this screen", self.action_help)
        yield from super().get_system_commands(screen)


def run_console_deferred(opener: RuntimeOpener) -> int:
    """Run the console on a runtime opened after the first frame (see :mod:`hks_tui.cli_boot`).

    Closes the runtime at the end; re-raises the error if it could not be opened.
    """
    app = HksApp(opener.pending, opener=opener)
    try:
        result = app.run()
    finally:
        runtime = opener.finish()
        if runtime is not None:
            runtime.close()
    if opener.error is not None:
        raise opener.error
    return int(result or app.return_code or 0)


def run_console(runtime: Runtime) -> int:
    """Run the console on ``runtime`` until the user quits; closes the runtime. Returns the exit code."""
    try:
        app = HksApp(runtime)
        result = app.run()
        return int(result or app.return_code or 0)
    finally:
        runtime.close()


__all__ = [
    "COMMANDS",
    "FIRST_FRAME_ENV",
    "FIRST_FRAME_MARKER",
    "NOT_CONNECTED",
    "THEMES",
    "HksApp",
    "RuntimeOpened",
    "run_console",
    "run_console_deferred",
]
