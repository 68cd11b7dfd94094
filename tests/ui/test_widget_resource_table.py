"""ResourceTable under Pilot: keys, mouse, sort, filter, selection, row menu, keyed diff, states."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Button

from hks_tui.widgets import ActionMenu, Column, ResourceTable, Row, RowAction

COLUMNS = [
    Column("name", "Name"),
    Column("status", "Status"),
    Column("cpu", "CPU", align="right"),
    Column("mem", "Memory", align="right", optional=True),
]


def rows(count: int, generation: int = 0) -> list[Row]:
    return [
        Row(
            f"pod-{i:03d}",
            (
                f"pod-{i:03d}",
                "Running" if i % 3 else "Pending",
                (i * 7 + generation) % 40,
                f"{(i % 5) + 1}Gi",
            ),
            styles={"status": "bold"} if i % 3 == 0 else None,
        )
        for i in range(count)
    ]


class Host(App[None]):
    def __init__(self, table: ResourceTable) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield Button("elsewhere")
        yield self.table


def make(count: int = 50, **kwargs: Any) -> tuple[Host, ResourceTable, list[Message]]:
    table = ResourceTable(COLUMNS, **kwargs)
    table.replace_rows(rows(count))
    return Host(table), table, []


def of(messages: list[Message], kind: type[Message]) -> list[Any]:
    """Messages of one kind, once each (the hook sees a bubbling message at every hop)."""
    unique = {id(m): m for m in messages if isinstance(m, kind)}
    return list(unique.values())


async def test_keyboard_navigation() -> None:
    app, table, messages = make(100)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        table.focus()
        await pilot.press("j", "j", "down")
        assert table.cursor_key == "pod-003"
        await pilot.press("k")
        assert table.cursor_key == "pod-002"
        await pilot.press("G")
        assert table.cursor_key == "pod-099"
        assert table.body.scroll_y > 0
        await pilot.press("g")
        assert table.cursor_key == "pod-000" and table.body.scroll_y == 0
        await pilot.press("pagedown")
        page = table.body.page_rows
        assert table.cursor_row == page
        await pilot.press("pageup", "end", "home")
        assert table.cursor_row == 0
        await pilot.pause()
        highlighted = [m.key for m in of(messages, ResourceTable.RowHighlighted)]
        assert highlighted[:4] == ["pod-000", "pod-001", "pod-002", "pod-003"]


async def test_renders_only_visible_rows_at_50k() -> None:
    table = ResourceTable(COLUMNS)
    table.replace_rows(rows(50_000))
    app = Host(table)
    async with app.run_test(size=(80, 24)) as pilot:
        table.focus()
        await pilot.press("G")
        await pilot.pause()
        assert table.cursor_key == "pod-49999" and table.cursor_row == 49_999
        assert len(table.body._cache) <= 2 * table.body.size.height + 1
        lines = [s.text for s in table.body.render_lines(table.body.size.region)]
        assert any("pod-49999" in line for line in lines), lines


async def test_sort_by_key_and_header_click() -> None:
    app, table, _ = make(30)
    async with app.run_test(size=(80, 24)) as pilot:
        table.focus()
        await pilot.press("s")  # first sortable column: name
        assert table.model.sort_column == "name"
        await pilot.press("s", "s")  # → status → cpu
        assert table.model.sort_column == "cpu"
        cpus = [table.get_row(k)["cpu"] for k in table.visible_keys]
        assert cpus == sorted(cpus)
        await pilot.press("S")
        cpus = [table.get_row(k)["cpu"] for k in table.visible_keys]
        assert cpus == sorted(cpus, reverse=True)
        # header click on "Status" (gutter 2 + name width + 1 separator)
        status_x = 2 + table.widths["name"] + 1 + 1
        await pilot.click(table.body, offset=(status_x, 0))
        assert table.model.sort_column == "status" and not table.model.sort_reverse
        statuses = [table.get_row(k)["status"] for k in table.visible_keys]
        assert statuses == sorted(statuses)
        pending = [k for k in table.visible_keys if table.get_row(k)["status"] == "Pending"]
        assert pending == sorted(pending)  # stable: insertion order within equal keys
        await pilot.click(table.body, offset=(status_x, 0))
        assert table.model.sort_reverse


async def test_filter_typing_enter_and_escape() -> None:
    app, table, _ = make(60)
    async with app.run_test(size=(80, 24)) as pilot:
        table.focus()
        await pilot.press("slash", "p", "e", "n", "d")
        assert table.filter_text == "pend"
        assert table.row_count == 20
        assert all(table.get_row(k)["status"] == "Pending" for k in table.visible_keys)
        await pilot.press("enter")
        assert table.has_focus and table.filter_text == "pend"
        await pilot.press("backspace")  # goes to the table, not the hidden input
        assert table.filter_text == "pend"
        await pilot.press("escape")
        assert table.filter_text == "" and table.row_count == 60


async def test_no_match_shows_empty_state_then_error_and_loading() -> None:
    app, table, _ = make(5, empty_message="Nothing here")
    async with app.run_test(size=(80, 24)) as pilot:
        table.set_filter("zzz")
        await pilot.pause()
        assert table.state_lines() == ("empty", "No rows match “zzz”", "esc clears the filter")
        text = "\n".join(s.text for s in table.body.render_lines(table.body.size.region))
        assert "No rows match" in text
        table.set_filter("")
        table.replace_rows([])
        assert table.state_lines() == ("empty", "Nothing here", None)
        table.set_error("Could not list pods", "connection refused (host cluster)")
        await pilot.pause()
        text = "\n".join(s.text for s in table.body.render_lines(table.body.size.region))
        assert "Could not list pods" in text and "connection refused" in text
        table.show_loading()
        assert table.state == ("loading", "Loading…", None)
        table.replace_rows(rows(3))  # data clears the loading state
        assert table.state is None and table.row_count == 3


async def test_selection_and_select_all() -> None:
    app, table, messages = make(10)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        table.focus()
        await pilot.press("space", "j", "j", "space")
        assert table.selected == {"pod-000", "pod-002"}
        await pilot.press("ctrl+a")
        assert len(table.selected) == 10
        await pilot.press("ctrl+a")
        assert table.selected == set()
        await pilot.press("space", "escape")
        assert table.selected == set()
        await pilot.pause()
        changes = [len(m.selected) for m in of(messages, ResourceTable.SelectionChanged)]
        assert changes == [1, 2, 10, 0, 1, 0]


async def test_action_menu_posts_action_chosen_for_selection() -> None:
    actions = [RowAction("logs", "Show logs", multi=False), RowAction("delete", "Delete")]
    app, table, messages = make(10, actions=actions)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        table.focus()
        await pilot.press("j", "enter")
        assert isinstance(app.screen, ActionMenu)
        await pilot.press("enter")  # first item: logs
        await pilot.pause()
        chosen = of(messages, ResourceTable.ActionChosen)
        assert [(m.action, m.keys) for m in chosen] == [("logs", ("pod-001",))]
        await pilot.press("space", "j", "space", "a")
        assert isinstance(app.screen, ActionMenu)
        await pilot.press("down", "enter")  # "logs" is disabled for two rows: the highlight lands on delete
        await pilot.pause()
        chosen = of(messages, ResourceTable.ActionChosen)
        assert (chosen[-1].action, chosen[-1].keys) == ("delete", ("pod-001", "pod-002"))
        await pilot.press("a", "escape")
        assert not isinstance(app.screen, ActionMenu)
        assert len(of(messages, ResourceTable.ActionChosen)) == 2


async def test_enter_without_actions_posts_row_selected_and_double_click() -> None:
    app, table, messages = make(10)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        table.focus()
        await pilot.press("j", "enter")
        await pilot.click(table.body, offset=(5, 4))  # row index 3
        assert table.cursor_key == "pod-003"
        await pilot.click(table.body, offset=(5, 4), times=2)
        await pilot.pause()
        assert [m.key for m in of(messages, ResourceTable.RowSelected)] == ["pod-001", "pod-003"]


async def test_keyed_replace_keeps_cursor_and_selection_on_keys() -> None:
    app, table, _ = make(20)
    async with app.run_test(size=(80, 24)) as pilot:
        table.focus()
        await pilot.press("j", "j", "j", "j", "j", "space")
        assert table.cursor_key == "pod-005"
        new = [r for r in rows(25, generation=3) if r.key not in ("pod-001", "pod-002")]
        new.reverse()
        table.replace_rows(new)
        await pilot.pause()
        assert table.cursor_key == "pod-005"
        assert table.selected == {"pod-005"}
        assert table.get_row("pod-005")["cpu"] == (5 * 7 + 3) % 40
        table.replace_rows([r for r in new if r.key != "pod-005"])
        assert table.cursor_key is not None  # the cursor stays at the same position
        assert table.selected == set()


async def test_upsert_remove_and_batch_update() -> None:
    app, table, _ = make(3)
    async with app.run_test(size=(80, 24)) as pilot:
        table.sort_by("cpu")
        assert table._status_text == "3 rows · sort CPU ▲"
        with table.batch_update():
            table.upsert_row(Row("pod-100", ("pod-100", "Running", 39, "1Gi")))
            table.upsert_row(Row("pod-101", ("pod-101", "Running", -1, "1Gi")))
            table.remove_row("pod-000")
            assert table._status_text == "3 rows · sort CPU ▲"  # no sync until the block ends
        assert table._status_text == "4 rows · sort CPU ▲"
        await pilot.pause()
        assert table.visible_keys[0] == "pod-101" and table.visible_keys[-1] == "pod-100"
        assert "pod-000" not in table.visible_keys
        table.upsert_row(Row("pod-100", ("pod-100-renamed-with-a-long-name", "Running", 39, "1Gi")))
        assert table.widths["name"] >= len("pod-100-renamed-with-a-long-name")


async def test_column_visibility_menu() -> None:
    app, table, _ = make(5)
    async with app.run_test(size=(80, 24)) as pilot:
        table.focus()
        assert table.is_column_visible("mem")
        await pilot.press("c")
        assert isinstance(app.screen, ActionMenu)
        await pilot.press("enter")
        assert not table.is_column_visible("mem")
        header = table.body.render_line(0).text
        assert "Memory" not in header and "CPU" in header
        table.set_column_visible("mem", True)
        assert "Memory" in table.body.render_line(0).text


async def test_theme_change_restyles_cached_rows() -> None:
    app, table, _ = make(5)
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "textual-dark"
        await pilot.pause()
        before = next(iter(table.body.render_line(2))).style
        app.theme = "textual-light"
        await pilot.pause()
        after = next(iter(table.body.render_line(2))).style
        assert before is not None and after is not None and before.bgcolor != after.bgcolor
