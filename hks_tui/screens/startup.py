"""The shell's start-up: first frame first, then the (deferred) runtime, then the backend calls.

:class:`StartupMixin` is part of :class:`hks_tui.app.HksApp`. With a :class:`~hks_tui.cli_boot.RuntimeOpener`
the app starts on a :class:`~hks_tui.cli_boot.PendingRuntime`, starts the opener once a section screen is
painted, and adopts the runtime when the opener posts :class:`RuntimeOpened`. Backend calls (health,
workspaces) start only after that: their imports (kubernetes, proxmoxer) and threads would otherwise
compete with the first paint.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from textual.message import Message

from hks_tui.screens.base import SectionScreen

if TYPE_CHECKING:
    from hks_tui.app import HksApp

#: set to "1" to exit right after the first frame is painted (start-up benchmark)
FIRST_FRAME_ENV = "HKS_TUI_EXIT_AFTER_FIRST_FRAME"
FIRST_FRAME_MARKER = "HKS-TUI-FIRST-FRAME"
NOT_CONNECTED = "Still connecting to the backends…"
THEMES = {"dark": "textual-dark", "light": "textual-light"}


class RuntimeOpened(Message):
    """Posted (from the opener's thread) once the deferred runtime is open or has failed to open."""


def _post(app: HksApp, message: Message) -> None:
    app.post_message(message)


class StartupMixin:
    """Start-up sequencing of :class:`~hks_tui.app.HksApp` (see the module docstring)."""

    _exit_requested = False

    @property
    def _hks(self) -> HksApp:
        return self  # type: ignore[return-value]  # a mixin of HksApp only

    def _schedule_startup(self) -> None:
        """Called from on_mount: queue the first-frame hook and the background start."""
        app = self._hks
        if os.environ.get(FIRST_FRAME_ENV) == "1":
            app.call_after_refresh(app._first_frame)
        app.call_after_refresh(app._start_background)

    def _section_painted(self) -> bool:
        app = self._hks
        return isinstance(app.screen, SectionScreen) and app.screen.is_mounted

    def _start_background(self) -> None:
        app = self._hks
        if not app._section_painted():
            app.call_after_refresh(app._start_background)
            return
        if app._exit_requested:
            return
        opener = app._opener
        if opener is not None and not app.connected:
            opener.start(lambda: _post(app, RuntimeOpened()))
            return
        app.check_health()
        app.load_workspaces()

    def on_runtime_opened(self, _message: RuntimeOpened) -> None:
        """Adopt the deferred runtime; if it failed to open, exit (the CLI prints the error)."""
        app = self._hks
        opener = app._opener
        if opener is None or app.connected:
            return
        if opener.error is not None or opener.runtime is None:
            app.exit(1, return_code=1)
            return
        runtime = opener.runtime
        app.runtime = runtime
        profile = getattr(runtime, "profile", None)
        app.org = str(getattr(profile, "org", "") or app.org)
        app.workspace = str(runtime.workspace or getattr(profile, "workspace", "") or app.workspace)
        ui = getattr(runtime.settings, "ui", None)
        app.theme = THEMES.get(str(getattr(ui, "theme", "dark")), "textual-dark")
        if runtime.config_error is not None:
            app.say(f"Configuration problem: {runtime.config_error}", "warning")
        app.connected = True
        app._start_background()

    def _require_connected(self) -> bool:
        """True once the runtime is open; otherwise says so in the flash line."""
        app = self._hks
        if not app.connected:
            app.say(NOT_CONNECTED, "warning")
        return app.connected

    def _first_frame(self) -> None:
        """Start-up benchmark hook: once a section screen has been painted, print a marker and exit."""
        app = self._hks
        if not app._section_painted():
            app.call_after_refresh(app._first_frame)
            return
        app._exit_requested = True
        if sys.__stdout__ is not None:
            sys.__stdout__.write(f"\n{FIRST_FRAME_MARKER}\n")
            sys.__stdout__.flush()
        app.exit(0)
