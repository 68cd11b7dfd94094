"""Key-binding actions of :class:`~hks_tui.widgets.resource_table.ResourceTable` (a mixin)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.actions import SkipAction
from textual.widgets import Input

from hks_tui.widgets.action_menu import ActionMenu, MenuItem

if TYPE_CHECKING:
    from hks_tui.widgets.resource_table import ResourceTable


class TableKeyActions:
    """Navigation, selection, filter, sort, column and row-menu actions."""

    def _table(self) -> ResourceTable:
        return cast("ResourceTable", self)

    # -- actions (key bindings) ------------------------------------------------------------------------
    def action_cursor_up(self) -> None:
        table = self._table()
        table.move_cursor(table.cursor_row - 1)

    def action_cursor_down(self) -> None:
        table = self._table()
        table.move_cursor(table.cursor_row + 1)

    def action_page_up(self) -> None:
        table = self._table()
        table.move_cursor(table.cursor_row - table.body.page_rows)

    def action_page_down(self) -> None:
        table = self._table()
        table.move_cursor(table.cursor_row + table.body.page_rows)

    def action_first(self) -> None:
        table = self._table()
        table.move_cursor(0)

    def action_last(self) -> None:
        table = self._table()
        table.move_cursor(len(table.model.view) - 1)

    def action_scroll_left(self) -> None:
        table = self._table()
        table.body.scroll_to(x=max(0, round(table.body.scroll_x) - 4), animate=False, force=True)

    def action_scroll_right(self) -> None:
        table = self._table()
        table.body.scroll_to(x=round(table.body.scroll_x) + 4, animate=False, force=True)

    def action_activate(self) -> None:
        """enter: open the action menu when actions are registered, else post ``RowSelected``."""
        table = self._table()
        key = table.cursor_key
        if key is None:
            return
        if table.actions:
            table.action_menu()
        else:
            table.post_message(table.RowSelected(table, key))

    def action_menu(self) -> None:
        table = self._table()
        targets = table._targets(None)
        if not table.actions or not targets:
            return
        many = len(targets) > 1
        items = [MenuItem(a.id, a.label, disabled=many and not a.multi) for a in table.actions]
        title = f"{len(targets)} rows" if many else targets[0]

        def chosen(action_id: str | None) -> None:
            if action_id is None:
                return
            action = next(a for a in table.actions if a.id == action_id)
            table.post_message(table.ActionChosen(table, action_id, table._targets(action)))

        table.app.push_screen(ActionMenu(title, items), chosen)

    def action_toggle_select(self) -> None:
        table = self._table()
        key = table.cursor_key
        if key is None:
            return
        if key in table.selected:
            table.selected.discard(key)
        else:
            table.selected.add(key)
        table.body.refresh_lines(table.cursor_row + 1)
        table._update_status()
        table.post_message(table.SelectionChanged(table, frozenset(table.selected)))

    def action_select_all(self) -> None:
        """Select every shown row; when all are already selected, clear the selection."""
        table = self._table()
        view = table.model.view
        if view and table.selected.issuperset(view):
            table.set_selected(())
        else:
            table.set_selected(table.selected.union(view))

    def action_filter(self) -> None:
        table = self._table()
        field = table.query_one("Input.-filter", Input)
        field.add_class("-shown")
        field.value = table.model.filter_text
        field.focus()

    def action_sort_next(self) -> None:
        """s: sort by the next sortable visible column (ascending)."""
        table = self._table()
        keys = [c.key for _, c in table.model.visible_columns() if c.sortable]
        if not keys:
            return
        current = table.model.sort_column
        position = keys.index(current) + 1 if current in keys else 0
        table.sort_by(keys[position] if position < len(keys) else None)

    def action_sort_reverse(self) -> None:
        table = self._table()
        if table.model.sort_column is not None:
            table.sort_by(table.model.sort_column, not table.model.sort_reverse)

    def action_columns(self) -> None:
        """c: toggle the visibility of optional columns through a menu."""
        table = self._table()
        optional = [c for c in table.model.columns if c.optional]
        if not optional:
            return
        items = [
            MenuItem(c.key, f"[{'x' if table.is_column_visible(c.key) else ' '}] {c.label}") for c in optional
        ]

        def chosen(key: str | None) -> None:
            if key is not None:
                table.set_column_visible(key, not table.is_column_visible(key))

        table.app.push_screen(ActionMenu("Columns", items), chosen)

    def action_escape(self) -> None:
        table = self._table()
        field = table.query_one("Input.-filter", Input)
        if field.has_focus or table.model.filter_text:
            field.remove_class("-shown")
            field.value = ""
            table.set_filter("")
            table.focus()
        elif table.selected:
            table.set_selected(())
        else:
            raise SkipAction()

    def on_input_changed(self, event: Input.Changed) -> None:
        table = self._table()
        event.stop()
        if event.value != table.model.filter_text:
            table.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        table = self._table()
        event.stop()
        event.input.remove_class("-shown")
        table.focus()
