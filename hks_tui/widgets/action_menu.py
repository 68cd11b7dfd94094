"""A small modal menu: pick one item by id (used for row actions and column visibility)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


@dataclass(frozen=True)
class MenuItem:
    """One entry: ``id`` is returned when chosen; ``disabled`` entries are shown but not selectable."""

    id: str
    label: str
    disabled: bool = False


class ActionMenu(ModalScreen[str | None]):
    """Returns the chosen item id, or ``None`` when cancelled with esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    ActionMenu {
        align: center middle;
        background: $background 50%;
    }
    ActionMenu > Vertical {
        width: 36;
        max-width: 90%;
        height: auto;
        max-height: 80%;
        border: round $primary;
        background: $panel;
        padding: 0 1;
    }
    ActionMenu Label {
        text-style: bold;
        width: 100%;
    }
    ActionMenu OptionList, ActionMenu OptionList:focus {
        height: auto;
        max-height: 16;
        border: none;
        background: $panel;
        padding: 0;
    }
    """

    def __init__(self, title: str, items: Sequence[MenuItem]) -> None:
        super().__init__()
        self.menu_title = title
        self.items = list(items)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.menu_title)
            yield OptionList(*[Option(item.label, id=item.id, disabled=item.disabled) for item in self.items])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
