"""Home / Workspace section: the workspace's facts, each backend's health with its reason, and any
configuration problem with the way out (``hks-tui config init``)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from hks_tui.screens.base import SectionScreen
from hks_tui.screens.chrome import BACKENDS, STATUS_GLYPHS


def config_problem_text(error: Any) -> str:
    """The configuration problem as one line plus the fix."""
    return f"Configuration problem: {error}\nRun `hks-tui config init` to write a commented template, then fix it."


class HomeScreen(SectionScreen):
    """Workspace facts and backend health."""

    SECTION = "home"
    TITLE_TEXT = "Home"
    # home.tcss is part of HksApp.CSS_PATH (loaded with the app's styles, see there)
    AUTO_FOCUS = "#home-body"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="home-body"):
            error = self.hks.runtime.config_error
            if error is not None:
                yield Static(config_problem_text(error), id="config-problem", classes="panel", markup=False)
            yield Static("", id="facts", classes="panel")
            yield Static("", id="backends", classes="panel")

    def on_mount(self) -> None:
        for name in ("org", "workspace", "project", "plan"):
            self.watch(self.hks, name, self._refresh_facts, init=False)
        self.watch(self.hks, "connected", self._connected, init=False)
        self.watch(self.hks, "health", self._refresh_backends)
        self._refresh_facts()
        self.query_one("#facts").border_title = "Workspace"
        self.query_one("#backends").border_title = "Backends"
        if self.hks.runtime.config_error is not None:
            self.query_one("#config-problem").border_title = "Configuration"

    def _connected(self, connected: bool) -> None:
        """The runtime opened after the first frame: show its configuration problem and facts."""
        error = self.hks.runtime.config_error
        if connected and error is not None and not self.query("#config-problem"):
            panel = Static(config_problem_text(error), id="config-problem", classes="panel", markup=False)
            panel.border_title = "Configuration"
            self.query_one("#home-body").mount(panel, before="#facts")
        self._refresh_facts()

    def _refresh_facts(self, _value: Any = None) -> None:
        app = self.hks
        runtime = app.runtime
        profile = getattr(runtime, "profile", None)
        mode = ["LAB" if runtime.is_lab else "live", "read-only" if runtime.readonly else "read-write"]
        if runtime.insecure:
            mode.append("INSECURE TLS")
        workspace = app.current_workspace
        rows = [
            ("Workspace", app.workspace or "(none)"),
            ("Organisation", app.org or "—"),
            ("Plan", str(app.plan).capitalize() if app.plan else "unknown"),
            ("Project", app.project or "(all namespaces)"),
            ("Profile", getattr(profile, "name", None) or "—"),
            ("Host context", getattr(workspace, "host_context", "") or _context(profile, "host_cluster")),
            ("vCluster context", getattr(workspace, "vcluster_context", "") or _context(profile, "vcluster")),
            ("Mode", " · ".join(mode) if app.connected else "connecting…"),
        ]
        parts: list[str | tuple[str, str]] = []
        for i, (label, value) in enumerate(rows):
            parts += [(f"{label:<17}", "bold"), value]
            if i < len(rows) - 1:
                parts.append("\n")
        self.query_one("#facts", Static).update(Content.assemble(*parts))

    def _refresh_backends(self, states: tuple[Any, ...]) -> None:
        by_backend = {str(s.backend): s for s in states}
        parts: list[str | tuple[str, str]] = []
        for i, (backend, _short, label) in enumerate(BACKENDS):
            state = by_backend.get(backend)
            status = str(state.status) if state is not None else "unknown"
            status = status if status in _STATUS_STYLE else "unknown"
            reason = str(state.reason) if state is not None and state.reason else ""
            if state is None:
                reason = "not checked yet"
            glyph = STATUS_GLYPHS.get(status, "?")
            parts += [(f"{glyph} {label:<17}", f"bold {_STATUS_STYLE[status]}"), f"{status:<9}", reason]
            if i < len(BACKENDS) - 1:
                parts.append("\n")
        self.query_one("#backends", Static).update(Content.assemble(*parts))


def _context(profile: Any, attribute: str) -> str:
    """A kube context name from the profile (before the workspace list has loaded)."""
    return str(getattr(getattr(profile, attribute, None), "context", "") or "—")


# Theme variables only (legible in 16 colours; NO_COLOR drops them and the glyph remains).
_STATUS_STYLE = {
    "ok": "$success",
    "degraded": "$warning",
    "down": "$error",
    "unknown": "$text-muted",
    "disabled": "$text-disabled",
}
