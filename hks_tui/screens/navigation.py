"""Navigation of :class:`~hks_tui.app.HksApp`: workspace and project pickers, switching, and the ``:``
command line (parsing lives in :mod:`hks_tui.screens.commands`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import work

from hks_tui.screens.commands import Command, CommandError, parse_command
from hks_tui.screens.pickers import PickerScreen
from hks_tui.screens.startup import THEMES

if TYPE_CHECKING:
    from hks_tui.app import HksApp

ALL_PROJECTS = "*"


class NavigationMixin:
    """Pickers, workspace/project switching and command dispatch (a mixin of HksApp only)."""

    @property
    def _hks(self) -> HksApp:
        return self  # type: ignore[return-value]  # a mixin of HksApp only

    def action_pick_workspace(self) -> None:
        app = self._hks
        if not app._require_connected():
            return

        async def loader() -> list[tuple[str, str]]:
            found = list(await app.runtime.services.workspaces.list())
            return [(w.name, f"{w.name}  ({str(w.plan).capitalize()})") for w in found]

        picker = PickerScreen("Switch workspace", loader, app.workspace, picker_id="workspace-picker")
        app.push_screen(picker, app._picked_workspace)

    def _picked_workspace(self, name: str | None) -> None:
        app = self._hks
        if name:
            app.switch_workspace(name)

    def action_pick_project(self) -> None:
        app = self._hks
        if not app._require_connected():
            return

        async def loader() -> list[tuple[str, str]]:
            names = sorted(await app.runtime.services.workspaces.projects(app.workspace))
            return [(ALL_PROJECTS, "(all namespaces)")] + [(n, n) for n in names]

        picker = PickerScreen("Pick project (namespace)", loader, app.project, picker_id="project-picker")
        app.push_screen(picker, app._picked_project)

    def _picked_project(self, name: str | None) -> None:
        app = self._hks
        if name is not None:
            app.set_project(name)

    # -- workspace / project --------------------------------------------------------------------------
    @work(group="switch-workspace", exclusive=True, exit_on_error=False)
    async def switch_workspace(self, name: str) -> None:
        """Switch to workspace ``name`` (refreshing the list first so a new workspace is found)."""
        app = self._hks
        if not app._require_connected():
            return
        app.workspaces = sorted(await app.runtime.services.workspaces.list(), key=lambda w: w.name)
        if name not in {w.name for w in app.workspaces}:
            known = ", ".join(w.name for w in app.workspaces) or "none"
            app.say(f"No workspace named {name!r} (known: {known})", "error")
            return
        await app.runtime.switch_workspace(name)
        app.workspace = name
        app.project = ""
        app.projects = []
        app._sync_workspace_facts()
        app.say(f"Switched to workspace {name}")
        app.load_projects()
        app.check_health()

    def set_project(self, name: str) -> None:
        """Select project (namespace) ``name``; ``*`` (or empty) means all namespaces."""
        app = self._hks
        name = "" if name == ALL_PROJECTS else name
        if name and app.projects and name not in app.projects:
            app.say(f"No project (namespace) {name!r} in {app.workspace}", "error")
            return
        app.project = name
        app.say(f"Project: {name or 'all namespaces'}")

    # -- command line ---------------------------------------------------------------------------------
    def command_arguments(self, command: str) -> Iterable[str]:
        app = self._hks
        if command == "ws":
            return [w.name for w in app.workspaces]
        if command == "ns":
            return [*app.projects, ALL_PROJECTS]
        if command == "theme":
            return list(THEMES)
        return []

    def run_command(self, text: str) -> None:
        """Execute one command line (``:audit``, ``:ws prod``, ``:q`` …)."""
        app = self._hks
        try:
            command = parse_command(text)
        except CommandError as error:
            app.say(str(error), "error")
            return
        app._dispatch(command)

    def _dispatch(self, command: Command) -> None:
        app = self._hks
        name, argument = command.name, command.argument
        if name in {section for section, _title in app.SECTIONS}:
            app.action_section(name)
        elif name == "ws":
            app.switch_workspace(argument) if argument else app.action_pick_workspace()
        elif name == "ns":
            app.set_project(argument) if argument else app.action_pick_project()
        elif name == "workflows":
            from hks_tui.screens.workflows import WorkflowsScreen

            app.push_screen(WorkflowsScreen())
        elif name == "health":
            app.action_health_details()
        elif name == "theme":
            if argument is None:
                app.action_toggle_theme()
            elif argument in THEMES:
                app.theme = THEMES[argument]
            else:
                app.say(f"Unknown theme {argument!r} (use dark or light)", "error")
        elif name == "help":
            app.action_help()
        elif name == "q":
            app.exit(0)
