"""The shell's chrome shared by every section: header (breadcrumb, badges, health dots), flash line and
the ``:`` command line. These widgets read the app's reactive state; they never call services."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from hks_tui.screens.commands import CommandSuggester

if TYPE_CHECKING:
    from hks_tui.app import HksApp

BACKENDS: tuple[tuple[str, str, str], ...] = (
    # backend id, short label, long label
    ("proxmox", "PVE", "Proxmox VE"),
    ("host", "Host", "Host K3s cluster"),
    ("vcluster", "vC", "vCluster"),
    ("prometheus", "Prom", "Prometheus"),
)
STATUS_GLYPHS: dict[str, str] = {"ok": "●", "degraded": "▲", "down": "✖", "unknown": "?", "disabled": "-"}


def backend_label(backend: str) -> str:
    """The long, human label of a backend id."""
    return next((long for key, _, long in BACKENDS if key == backend), backend)


class HealthDot(Static, can_focus=True):
    """One backend's health: a glyph that differs per status (legible without colour), tooltip = reason."""

    class Activated(Message):
        """The user asked for the health details (enter/click on a dot)."""

    BINDINGS = [("enter", "activate", "Details")]

    def __init__(self, backend: str, short: str) -> None:
        super().__init__(f"?{short}", id=f"health-{backend}", classes="health-dot unknown", markup=False)
        self.backend = backend
        self.short = short
        self.status = "unknown"
        self.reason = "not checked yet"
        self.tooltip = f"{backend_label(backend)}: {self.reason}"

    def set_state(self, status: str, reason: str) -> None:
        status = status if status in STATUS_GLYPHS else "unknown"
        if not self.has_class(status) or self.status != status:
            # One style update per change (each class call re-applies the stylesheet to the widget).
            self.remove_class(*(name for name in STATUS_GLYPHS if name != status))
            self.add_class(status)
        self.status, self.reason = status, reason
        self.update(f"{STATUS_GLYPHS[status]}{self.short}")
        self.tooltip = f"{backend_label(self.backend)}: {status}" + (f" — {reason}" if reason else "")

    def action_activate(self) -> None:
        self.post_message(self.Activated())

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Activated())


# (text, id, classes, Runtime attribute that shows it)
_BADGES = (
    ("LAB", "lab-badge", "badge lab", "is_lab"),
    ("READ-ONLY", "readonly-badge", "badge readonly", "readonly"),
    ("INSECURE-TLS", "insecure-badge", "badge insecure", "insecure"),
)


class ShellHeader(Horizontal):
    """org › workspace › project, plan badge, LAB / READ-ONLY / INSECURE-TLS badges, health dots."""

    def compose(self) -> ComposeResult:
        app: HksApp = self.app  # type: ignore[assignment]
        yield Static("HKS", id="brand", markup=False)
        yield Static("", id="crumbs", markup=False)
        yield Static("", id="plan-badge", classes="badge plan", markup=False)
        for text, badge_id, classes, flag in _BADGES:
            badge = Static(text, id=badge_id, classes=classes, markup=False)
            badge.display = bool(getattr(app.runtime, flag))
            yield badge
        for backend, short, _ in BACKENDS:
            yield HealthDot(backend, short)

    def on_mount(self) -> None:
        app: HksApp = self.app  # type: ignore[assignment]
        for name in ("org", "workspace", "project"):
            self.watch(app, name, self._refresh_crumbs, init=False)
        self.watch(app, "plan", self._refresh_plan)
        self.watch(app, "health", self._refresh_health)
        self.watch(app, "connected", self._refresh_badges, init=False)
        self._refresh_crumbs()

    def _refresh_badges(self, _connected: bool = True) -> None:
        """LAB / READ-ONLY / INSECURE-TLS once the runtime is known (it may open after the first frame)."""
        app: HksApp = self.app  # type: ignore[assignment]
        for _text, badge_id, _classes, flag in _BADGES:
            self.query_one(f"#{badge_id}", Static).display = bool(getattr(app.runtime, flag))

    def _refresh_crumbs(self, _value: Any = None) -> None:
        app: HksApp = self.app  # type: ignore[assignment]
        parts = [p for p in (app.org, app.workspace, app.project) if p]
        self.query_one("#crumbs", Static).update(" › ".join(parts) or "(no workspace)")

    def _refresh_plan(self, plan: str | None) -> None:
        badge = self.query_one("#plan-badge", Static)
        badge.update(str(plan).capitalize() if plan else "Plan ?")
        badge.set_class(not plan, "unknown")

    def _refresh_health(self, states: tuple[Any, ...]) -> None:
        by_backend = {str(s.backend): s for s in states}
        for dot in self.query(HealthDot):
            state = by_backend.get(dot.backend)
            if state is None:
                dot.set_state("unknown", "not checked yet")
            else:
                dot.set_state(str(state.status), str(state.reason or ""))


_LEVELS = ("information", "warning", "error")


class ShellFooter(Footer):
    """Textual's Footer, rebuilt at most once per refresh however often the bindings change.

    Mounting a screen and focusing its first widget each signal a bindings change; Footer rebuilds all of
    its keys for every signal. Signals that arrive while a rebuild is already queued are dropped: that
    rebuild reads the bindings when it runs, so it shows the latest ones.
    """

    _rebuild_queued = False

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self._rebuild_queued:
            return
        will_rebuild = screen.app.app_focus and self.is_attached and screen is self.screen
        if will_rebuild:
            self._rebuild_queued = True
            self.call_after_refresh(self._rebuild_done)  # queued before Footer's rebuild: runs first
        super().bindings_changed(screen)

    def _rebuild_done(self) -> None:
        self._rebuild_queued = False


class FlashLine(Static):
    """The last message of the shell (command feedback, errors), k9s style; deterministic for tests."""

    def on_mount(self) -> None:
        self.watch(self.app, "flash", self._show)

    def _show(self, flash: tuple[str, str]) -> None:
        text, severity = flash
        self.update(text)
        self.remove_class(*(f"-{level}" for level in _LEVELS if level != severity))
        if severity in _LEVELS:
            self.add_class(f"-{severity}")


class CommandLine(Input):
    """The ``:`` command line with completion (right arrow / tab accepts the suggestion)."""

    BINDINGS = [("escape", "close", "Close"), ("tab", "accept_suggestion", "Complete")]

    class Entered(Message):
        """The user entered a command line."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, arguments: Callable[[str], Iterable[str]]) -> None:
        super().__init__(
            placeholder=":command  (home, audit, ws NAME, ns NAME, theme, help, q)",
            id="command-line",
            suggester=CommandSuggester(arguments),
        )

    _previous_focus: Widget | None = None

    def open(self) -> None:
        focused = self.screen.focused
        self._previous_focus = focused if focused is not self else None
        self.value = ""
        self.add_class("-open")
        # Focus now (not via call_later) so keys typed right after ':' land in the command line.
        self.screen.set_focus(self)

    def action_close(self) -> None:
        self.remove_class("-open")
        self.value = ""
        previous, self._previous_focus = self._previous_focus, None
        if previous is not None and previous.is_attached and previous.focusable:
            previous.focus()
        else:
            self.screen.set_focus(None)

    def action_accept_suggestion(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        self.action_close()
        self.post_message(self.Entered(text))
