"""Modal dialogs of the shell: help (bindings of the current screen), the error panel, health details."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from hks_tui.screens.base import STYLES
from hks_tui.screens.chrome import BACKENDS, STATUS_GLYPHS
from hks_tui.screens.commands import COMMANDS
from hks_tui.screens.errors import ErrorInfo

DIALOG_CSS = STYLES / "dialogs.tcss"
_CLOSE: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("escape", "dismiss", "Close"),
    Binding("q", "dismiss", "Close", show=False),
]


def binding_rows(screen: Any) -> list[tuple[str, str, str]]:
    """(key, description, where) for every active binding of ``screen``, de-duplicated, sorted by scope."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        description = binding.description or binding.action
        if key in seen or binding.system:
            continue
        seen.add(key)
        if active.node is screen.app:
            where = "global"
        elif active.node is screen:
            where = "this screen"
        else:
            where = type(active.node).__name__
        rows.append((screen.app.get_key_display(binding), description, where))
    rows.sort(key=lambda row: (row[2] != "global", row[2], row[0]))
    return rows


class HelpScreen(ModalScreen[None]):
    """`?`: every binding of the screen underneath, and the command-line commands."""

    CSS_PATH = DIALOG_CSS
    BINDINGS = _CLOSE

    def __init__(self, rows: list[tuple[str, str, str]], title: str) -> None:
        super().__init__(id="help")
        self._rows = rows
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(f"Help — {self._title}", classes="dialog-title", markup=False)
            keys: DataTable[str] = DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            keys.add_column("Key", width=16)
            keys.add_column("Action", width=40)
            keys.add_column("Where")
            for row in self._rows:
                keys.add_row(*row)
            for command in COMMANDS:
                hint = f" {command.argument_hint}" if command.argument_hint else ""
                keys.add_row(f":{command.name}{hint}", command.help, "command line")
            yield keys
            yield Static("esc close", classes="dialog-hint", markup=False)


class ErrorPanel(ModalScreen[None]):
    """What failed, why, and what to do next — never a traceback."""

    CSS_PATH = DIALOG_CSS
    BINDINGS = _CLOSE

    def __init__(self, info: ErrorInfo) -> None:
        super().__init__(id="error-panel")
        self.info = info

    def compose(self) -> ComposeResult:
        info = self.info
        with Vertical(classes="dialog error"):
            yield Static(f"✖ {info.what} failed", id="error-what", classes="dialog-title", markup=False)
            with VerticalScroll():
                yield Static(
                    Content.assemble(("Why  ", "bold"), info.why or "(no reason given)"), id="error-why"
                )
                yield Static(Content.assemble(("Next ", "bold"), info.next_step), id="error-next")
                details = "\n".join(f"{label:<8} {value}" for label, value in info.details())
                yield Static(details, id="error-details", classes="details", markup=False)
            yield Static("esc close", classes="dialog-hint", markup=False)


class HealthDetails(ModalScreen[None]):
    """Every backend's health with the full reason; focusable and scrollable."""

    CSS_PATH = DIALOG_CSS
    BINDINGS = _CLOSE

    def __init__(self, states: tuple[Any, ...]) -> None:
        super().__init__(id="health-details")
        self._states = {str(s.backend): s for s in states}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Backend health", classes="dialog-title", markup=False)
            table: DataTable[str] = DataTable(id="health-table", cursor_type="row")
            table.add_columns("", "Backend", "Status", "Reason")
            for backend, _short, label in BACKENDS:
                state = self._states.get(backend)
                status = str(state.status) if state is not None else "unknown"
                reason = str(state.reason) if state is not None else "not checked yet"
                table.add_row(STATUS_GLYPHS.get(status, "?"), label, status, reason or "—", key=backend)
            yield table
            yield Static("esc close", classes="dialog-hint", markup=False)
