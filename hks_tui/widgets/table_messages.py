"""Messages posted by :class:`~hks_tui.widgets.resource_table.ResourceTable`.

Handler names are ``on_resource_table_row_highlighted`` etc.; ``@on(ResourceTable.RowHighlighted, "#id")``
works too because ``control`` is the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from hks_tui.widgets.resource_table import ResourceTable


class RowHighlighted(Message, namespace="resource_table"):
    """The cursor moved to another row (``key`` is ``None`` when the view is empty)."""

    def __init__(self, table: ResourceTable, key: str | None, index: int) -> None:
        super().__init__()
        self.table = table
        self.key = key
        self.index = index

    @property
    def control(self) -> ResourceTable:
        return self.table


class RowSelected(Message, namespace="resource_table"):
    """A row was activated (enter / double click) while no row actions are registered."""

    def __init__(self, table: ResourceTable, key: str) -> None:
        super().__init__()
        self.table = table
        self.key = key

    @property
    def control(self) -> ResourceTable:
        return self.table


class ActionChosen(Message, namespace="resource_table"):
    """An action was picked from the row menu for ``keys`` (the selection, or the cursor row)."""

    def __init__(self, table: ResourceTable, action: str, keys: tuple[str, ...]) -> None:
        super().__init__()
        self.table = table
        self.action = action
        self.keys = keys

    @property
    def control(self) -> ResourceTable:
        return self.table


class SelectionChanged(Message, namespace="resource_table"):
    """The set of multi-selected rows changed."""

    def __init__(self, table: ResourceTable, selected: frozenset[str]) -> None:
        super().__init__()
        self.table = table
        self.selected = selected

    @property
    def control(self) -> ResourceTable:
        return self.table
