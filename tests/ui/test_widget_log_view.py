"""LogView under Pilot: batching, ring bound, dropped count, follow, search, JSON, stream state."""

from __future__ import annotations

import threading

import pytest
from textual.app import App, ComposeResult

from hks_tui.widgets import LogView


class Host(App[None]):
    def __init__(self, view: LogView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield self.view


def shown(view: LogView) -> list[str]:
    return [text for text, _ in view.lines.display]


async def test_writes_are_batched_into_one_flush() -> None:
    view = LogView(flush_interval=0.1)
    async with Host(view).run_test(size=(80, 24)) as pilot:
        flushes = view.flushes
        for i in range(500):
            view.write_line(f"INFO line {i}")
        assert view.lines.entries == type(view.lines.entries)()  # nothing rendered before a flush
        assert len(view.queue) == 500
        await pilot.pause(0.3)  # the interval timer flushes everything in one batch
        assert view.flushes == flushes + 1
        assert len(view.lines.entries) == 500
        assert len(view.queue) == 0


async def test_ring_buffer_bound_and_dropped_count() -> None:
    view = LogView(max_lines=100, max_pending=1000)
    async with Host(view).run_test(size=(80, 24)) as pilot:
        producers = [
            threading.Thread(target=view.write_lines, args=([f"t{t} {i}" for i in range(400)],))
            for t in range(3)
        ]
        for thread in producers:
            thread.start()
        for thread in producers:
            thread.join()
        assert view.queue.dropped == 200  # 1200 written, 1000 fit in the ingest queue
        view.flush()
        assert len(view.lines.entries) == 100
        assert view.lines.evicted == 900
        view.set_stream_state("reconnecting", "connection reset", dropped=5)
        await pilot.pause()
        assert view.dropped == 205
        text = view.state_text()
        assert "↻ reconnecting: connection reset" in text and "205 lines dropped" in text
        assert view.query_one(".-state").has_class("-problem")


async def test_follow_pauses_when_scrolled_up_and_resumes_at_bottom() -> None:
    view = LogView()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        view.focus()
        view.write_lines(f"line {i}" for i in range(200))
        view.flush()
        await pilot.pause()
        body = view.body
        assert view.follow and body.scroll_y == body.max_scroll_y > 0
        await pilot.press("k")
        assert not view.follow
        position = body.scroll_y
        view.write_lines(f"more {i}" for i in range(10))
        view.flush()
        await pilot.pause()
        assert body.scroll_y == position  # no auto-scroll while paused
        assert view.unseen == 10 and "paused, 10 new" in view.state_text()
        await pilot.press("G")
        assert view.follow and body.scroll_y == body.max_scroll_y
        await pilot.press("f")
        assert not view.follow
        await pilot.press("f")
        assert view.follow


async def test_search_filters_and_highlights() -> None:
    view = LogView()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        view.focus()
        view.write_lines(["INFO start", "ERROR disk full", "INFO ok", "WARN Disk slow"])
        view.flush()
        await pilot.press("slash", "d", "i", "s", "k")
        assert shown(view) == ["ERROR disk full", "WARN Disk slow"]
        await pilot.press("enter")
        assert view.has_focus
        strip = view.body.render_line(1)
        segments = [seg for seg in strip if seg.text.strip()]
        assert [seg.text for seg in segments][:2] == ["WARN ", "Disk"]
        assert segments[1].style != segments[0].style  # the match is highlighted
        await pilot.press("escape")
        assert len(shown(view)) == 4


async def test_levels_and_json_pretty_toggle() -> None:
    view = LogView()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        view.focus()
        view.write_lines(['{"level":"error","msg":"x"}', "DEBUG y", "plain"])
        view.flush()
        assert [view.lines.line(i)[1] for i in range(3)] == ["error", "debug", "none"]
        error_style = view.body.render_line(0)
        plain_style = view.body.render_line(2)
        assert next(iter(error_style)).style != next(iter(plain_style)).style
        await pilot.press("p")
        assert shown(view)[:4] == ["{", '  "level": "error",', '  "msg": "x"', "}"]
        assert "json" in view.state_text()
        await pilot.press("p")
        assert len(shown(view)) == 3


def test_flush_interval_must_be_50_to_100_ms() -> None:
    with pytest.raises(ValueError):
        LogView(flush_interval=0.5)


async def test_theme_change_restyles_lines() -> None:
    view = LogView()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        view.write_lines(["INFO a", "ERROR b"])
        view.flush()
        pilot.app.theme = "textual-dark"
        await pilot.pause()
        before = next(iter(view.body.render_line(0))).style
        pilot.app.theme = "textual-light"
        await pilot.pause()
        after = next(iter(view.body.render_line(0))).style
        assert before is not None and after is not None and before.bgcolor != after.bgcolor


async def test_control_characters_never_reach_the_terminal() -> None:
    view = LogView()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        view.write_line("ERROR \x1b[31mred\x07 bell")
        view.write_line("two\nlines")
        view.flush()
        await pilot.pause()
        assert shown(view) == ["ERROR \x1b[31mred\x07 bell", "two", "lines"]  # stored as received
        text = "".join(seg.text for seg in view.body.render_line(0))
        assert "\x1b" not in text and "\x07" not in text
        assert text.startswith("ERROR red\ufffd bell")  # colour codes dropped, other controls shown


async def test_strip_cache_stays_bounded() -> None:
    from hks_tui.widgets.log_view import CACHE_LINES

    view = LogView(max_lines=CACHE_LINES + 500)
    async with Host(view).run_test(size=(80, 24)) as pilot:
        view.write_lines(f"INFO line {i}" for i in range(CACHE_LINES + 500))
        view.set_follow(False)
        view.flush()
        await pilot.press("home")
        for y in range(CACHE_LINES + 500):
            view.body.render_line(y)
        assert 0 < len(view.body._cache) <= CACHE_LINES
        assert f"line {CACHE_LINES + 7}" in "".join(
            seg.text for seg in view.body.render_line(CACHE_LINES + 7)
        )


async def test_fast_strips_match_the_general_renderer() -> None:
    view = LogView()
    async with Host(view).run_test(size=(80, 24)):
        body = view.body
        base = body._style("")
        for text, level in [
            ("ERROR short", "error"),
            ("x" * 100, "none"),
            ("", "none"),
            ("WARN abc", "warn"),
        ]:
            for scroll_x, width in [(0, 40), (3, 40), (0, 120), (95, 10)]:
                fast = body._fast_strip(text, level, "", scroll_x, width)  # type: ignore[arg-type]
                slow = body._render_text(text, level, "").crop_extend(scroll_x, scroll_x + width, base)  # type: ignore[arg-type]
                assert fast is not None and fast.cell_length == width
                assert [(s.text, s.style) for s in fast] == [(s.text, s.style) for s in slow if s.text], (
                    text,
                    scroll_x,
                )
        assert body._fast_strip("日本語", "none", "", 0, 10) is None  # wide characters: general path
        assert body._fast_strip("a\x1bb", "none", "", 0, 10) is None
        assert body._fast_strip("abc", "none", "b", 0, 10) is None  # search highlight: general path
