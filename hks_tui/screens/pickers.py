"""Pickers: choose a workspace or a project (namespace) from a list loaded in a worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from hks_tui.screens.base import STYLES

#: returns (value, label) pairs
Loader = Callable[[], Awaitable[list[tuple[str, str]]]]


class PickerScreen(ModalScreen[str | None]):
    """A titled list to choose one value from; dismisses with the value or ``None``."""

    CSS_PATH = STYLES / "dialogs.tcss"
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, title: str, loader: Loader, current: str | None = None, *, picker_id: str) -> None:
        super().__init__(id=picker_id)
        self._title = title
        self._loader = loader
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="dialog-title", markup=False)
            yield OptionList(id="picker-options")
            yield Static("loading…", id="picker-status", markup=False)
            yield Static("enter choose · esc cancel", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.load()

    @work(group="picker-load", exclusive=True, exit_on_error=False)
    async def load(self) -> list[tuple[str, str]]:
        return list(await self._loader())

    @on(Worker.StateChanged)
    def _loaded(self, event: Worker.StateChanged) -> None:
        """Apply the worker's result on the UI side (the worker itself never touches widgets)."""
        if event.worker.node is not self or event.worker.group != "picker-load":
            return
        status = self.query_one("#picker-status", Static)
        if event.state == WorkerState.ERROR:
            status.update(f"could not load the list: {event.worker.error}")
            return
        if event.state != WorkerState.SUCCESS:
            return
        items: list[tuple[str, str]] = event.worker.result or []
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(label, id=value) for value, label in items])
        status.update(f"{len(items)} to choose from" if items else "nothing to choose from")
        values = [value for value, _label in items]
        if self._current in values:
            options.highlighted = values.index(self._current)
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
