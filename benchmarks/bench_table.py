"""``table.replace`` and ``table.filter``: ResourceTable against Textual's DataTable.

Both widgets run inside a headless app (``App.run_test``), so every measurement includes the real work
the app does: the call itself, the messages and idle handlers that follow (DataTable measures its new
rows on idle; we wait until it has), the screen update (``pilot.pause(0)``) and a render of the
widget's visible region.

* replace: the table already holds N rows; all N are replaced by rows with new values
  (ours: ``replace_rows``, which also rebuilds the filter index; DataTable: ``clear()`` + ``add_rows``).
* filter: right after a replace, apply the substring filter ``node-1`` (22 % of rows match).
  Ours: ``set_filter``; DataTable: compute the matching rows and rebuild the table with only them.

Times are process CPU seconds, best of 5 runs for ours and of 3 for DataTable (1 at 50k, where one
replace costs ~15 s): on this shared 2-core machine wall-clock swings with other load, CPU time much
less, and both sides are single-threaded, so nothing is hidden in other threads. The best wall-clock
times are reported too (``ours_wall``, ``baseline_wall``).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable

from hks_tui.widgets.resource_table import ResourceTable
from hks_tui.widgets.table_model import Column, Row

SIZES = (1000, 10000, 50000)
FILTER = "node-1"
LABELS = ("name", "status", "node", "cpu", "memory", "age")


def raw_rows(count: int, generation: int) -> list[tuple[Any, ...]]:
    return [
        (
            f"pod-{i:06d}",
            "Running" if i % 7 else "Pending",
            f"node-{i % 50}",
            (i * 37 + generation) % 4000,
            f"{(i + generation) % 97}Gi",
            f"{(i + generation) % 59}m",
        )
        for i in range(count)
    ]


def to_rows(raw: list[tuple[Any, ...]]) -> list[Row]:
    return [Row(values[0], values) for values in raw]


class _Host(App[None]):
    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def _settle(pilot: Pilot[None], widget: Widget) -> None:
    """Process pending messages and idle work, repaint the screen, and render the visible region.

    ``pilot.pause(0)`` waits until every widget has processed its queue, then updates the screen
    (compositor refresh). It does not sleep, unlike ``pause()``, whose idle detection adds ≥ 20 ms of
    sleep to every measurement. DataTable does its measuring on idle; we keep pausing until it has.
    """
    await pilot.pause(0)
    if isinstance(widget, DataTable):
        while widget._require_update_dimensions or widget._new_rows:
            await pilot.pause(0)
    widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))


async def _timed(pilot: Pilot[None], widget: Widget, action: Callable[[], None]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``action`` plus settling. Both runs are single-threaded, so CPU
    time is the same work as wall time on an idle machine, without the noise of a shared one."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    await _settle(pilot, widget)
    return time.process_time() - cpu, time.perf_counter() - wall


def _repeats(size: int, baseline: bool) -> int:
    """Median of 5 runs for ours; 3 for DataTable, once at 50k (about 15 s of CPU per replace)."""
    if not baseline:
        return 5
    return 1 if size > 10000 else 3


Timing = tuple[float, float]  # (cpu, wall)


def _best(samples: list[Timing]) -> Timing:
    """The fastest run (``timeit``'s convention: slower runs measure interference, not the code)."""
    return min(c for c, _ in samples), min(w for _, w in samples)


async def _ours(size: int) -> tuple[Timing, Timing]:
    table = ResourceTable([Column(k, k.title(), align="right" if k == "cpu" else "left") for k in LABELS])
    app = _Host(table)
    replace: list[Timing] = []
    filters: list[Timing] = []
    expected = sum(1 for i in range(size) if FILTER in f"node-{i % 50}")
    async with app.run_test(size=(120, 40)) as pilot:
        table.replace_rows(to_rows(raw_rows(size, 0)))
        await _settle(pilot, table.body)
        for generation in range(1, _repeats(size, baseline=False) + 1):
            rows = to_rows(raw_rows(size, generation))

            def do_replace(rows: list[Row] = rows) -> None:
                table.replace_rows(rows)

            replace.append(await _timed(pilot, table.body, do_replace))
            filters.append(await _timed(pilot, table.body, lambda: table.set_filter(FILTER)))
            if table.row_count != expected:
                raise AssertionError(f"filter kept {table.row_count} rows, expected {expected}")
            table.set_filter("")
            await _settle(pilot, table.body)
    return _best(replace), _best(filters)


async def _baseline(size: int) -> tuple[Timing, Timing]:
    table: DataTable[Any] = DataTable()
    app = _Host(table)
    replace: list[Timing] = []
    filters: list[Timing] = []
    async with app.run_test(size=(120, 40)) as pilot:
        table.add_columns(*(k.title() for k in LABELS))
        table.add_rows(raw_rows(size, 0))
        await _settle(pilot, table)
        repeats = _repeats(size, baseline=True)
        for generation in range(1, repeats + 1):
            rows = raw_rows(size, generation)

            def do_replace(rows: list[tuple[Any, ...]] = rows) -> None:
                table.clear()
                table.add_rows(rows)

            def do_filter(rows: list[tuple[Any, ...]] = rows) -> None:
                needle = FILTER.casefold()
                matching = [r for r in rows if needle in "\x00".join(map(str, r)).casefold()]
                table.clear()
                table.add_rows(matching)

            replace.append(await _timed(pilot, table, do_replace))
            filters.append(await _timed(pilot, table, do_filter))
            if generation < repeats:  # restore the full table for the next replace (not timed)
                do_replace()
                await _settle(pilot, table)
    return _best(replace), _best(filters)


def _record(bench: str, size: int, ours: Timing, baseline: Timing) -> dict[str, Any]:
    return {
        "bench": bench,
        "size": size,
        "ours": round(ours[0], 6),
        "baseline": round(baseline[0], 6),
        "unit": "s",
        "ratio": round(baseline[0] / ours[0], 2) if ours[0] > 0 else float("inf"),
        "clock": "process_cpu",
        "ours_wall": round(ours[1], 6),
        "baseline_wall": round(baseline[1], 6),
    }


def run() -> Iterator[dict[str, Any]]:
    for size in SIZES:
        ours_replace, ours_filter = asyncio.run(_ours(size))
        base_replace, base_filter = asyncio.run(_baseline(size))
        yield _record("table.replace", size, ours_replace, base_replace)
        yield _record("table.filter", size, ours_filter, base_filter)
