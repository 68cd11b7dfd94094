"""``logs.ingest``, ``logs.memory`` and ``logs.keypress_latency``: LogView against Textual's ``Log``.

Both widgets run in a headless app (``App.run_test``, 120x40) with the same ring size (10,000 lines)
and receive the same lines (realistic text with levels, one in ten a JSON record) in batches of 1,000
through ``write_lines``. Ours renders with level colouring (each visible line styled by its level);
``Log`` with its defaults (no highlighting). Times are process CPU seconds (``Log`` measures line widths
on worker threads; process time counts them). Each side runs in a fresh subprocess.

* ``logs.ingest`` (100k and 1M lines): the app runs as it does live. After each batch the feeder yields
  to the event loop (``asyncio.sleep(0)``): timers fire, messages are handled, the screen is updated at
  its own ≤ 60 Hz. ``Log`` takes each batch at once and asks for a repaint; ours queues it and its own
  75 ms timer moves what arrived into the ring with one repaint (the batched flush is the design). The
  feeder respects our ingest queue's bound (it waits, without burning CPU, while the queue is full), and
  the run fails if a single line was dropped or the ring does not hold the last 10,000 lines.
* ``logs.ingest_repaint_each_batch`` (100k, for the record): the worst case for ours — ``flush()`` and a
  full screen update (``pilot.pause(0)``) after every batch, for both. Note: Textual 8.2's ``Log``, once
  at ``max_lines``, refreshes only the indices of the new lines, which lie past the end after pruning, so
  on every other batch it repaints nothing and the screen shows stale lines: its figure here is low by
  skipping work it should do.
* ``logs.memory``: peak RSS growth over the RSS just before ingest, after 1M lines (``ours_100k`` and
  ``baseline_100k``: after 100k lines — equal figures show that memory is bounded by the ring).
* ``logs.keypress_latency``: a producer thread writes 1,000-line batches every 10 ms (100k lines/s)
  while we press ``f`` (toggle follow) 20 times at varying phases; latency is key event posted → the
  widget's follow state and state line changed, in frames of 1/60 s; ``ours``/``baseline`` are the worst
  presses, the medians are beside them. The screen shows it at the next update (≤ 1 more frame). The
  baseline is ``Log`` fed the recommended way (a 75 ms timer draining the producer's buffer into
  ``write_lines``), with an app-level ``f`` binding toggling its ``auto_scroll``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Log

from hks_tui.widgets import LogView

SIZES = (100_000, 1_000_000)
BATCH = 1000
RING = 10_000
FRAME = 1 / 60
LEVELS = ("INFO", "INFO", "DEBUG", "WARN", "INFO", "ERROR", "INFO")


def make_line(i: int) -> str:
    if i % 10 == 0:
        return json.dumps(
            {
                "ts": f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "level": "info",
                "msg": "served",
                "id": i,
            }
        )
    level = LEVELS[i % len(LEVELS)]
    return (
        f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z {level} web-{i % 7} "
        f"request id={i} path=/api/v1/items/{i % 977} status={200 + i % 3} took {i % 250}ms"
    )


def batches(pool: int = 100_000) -> list[list[str]]:
    """A pool of distinct batches (cycled through: generating lines is not what we measure)."""
    lines = [make_line(i) for i in range(pool)]
    return [lines[i : i + BATCH] for i in range(0, pool, BATCH)]


class LogHost(App[None]):
    BINDINGS = [Binding("f", "toggle_follow", "Follow")]

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_mount(self) -> None:
        self.widget.focus()

    def action_toggle_follow(self) -> None:  # the baseline's follow toggle (Log has none)
        if isinstance(self.widget, Log):
            self.widget.auto_scroll = not self.widget.auto_scroll


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _ingest(kind: str, total: int, forced: bool = False) -> dict[str, float]:
    pool = batches()
    widget: LogView | Log = LogView(max_lines=RING) if kind == "ours" else Log(max_lines=RING)
    async with LogHost(widget).run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        rss_before = _rss()
        result: dict[str, float] = {}
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(total // BATCH):
            batch = pool[n % len(pool)]
            if forced:  # worst case: a flush and a full repaint after every batch
                widget.write_lines(batch)
                if isinstance(widget, LogView):
                    widget.flush()
                await pilot.pause(0)
            elif isinstance(widget, LogView):
                while len(widget.queue) + BATCH > widget.queue.max_pending:  # backpressure, no drops
                    await asyncio.sleep(0.001)
                widget.write_lines(batch)
                await asyncio.sleep(0)  # the app runs: its timer flushes, the screen updates at ≤ 60 fps
            else:
                widget.write_lines(batch)
                await asyncio.sleep(0)
            if (n + 1) * BATCH == SIZES[0]:
                result["rss_100k"] = max(
                    0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
                )
        if isinstance(widget, LogView):
            widget.flush()
            await pilot.pause(0)
            if widget.dropped:
                raise AssertionError(f"LogView dropped {widget.dropped} lines")
        if isinstance(widget, Log):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause(0)
        result["cpu"] = time.process_time() - cpu
        result["wall"] = time.perf_counter() - wall
        result["rss"] = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before)
        count = len(widget.lines.entries) if isinstance(widget, LogView) else widget.line_count
        if count != min(total, RING):
            raise AssertionError(f"{kind} holds {count} lines after {total}, expected {min(total, RING)}")
    return result


def _worker(kind: str, total: int, forced: bool = False) -> dict[str, float]:
    """Run one ingest in a fresh interpreter (clean RSS, no warm caches from the other side)."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_logs", kind, str(total), *(["forced"] if forced else [])],
        check=True,
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def _latency(kind: str, presses: int = 20) -> list[float]:
    pool = batches(20_000)
    pending: deque[list[str]] = deque()
    widget: LogView | Log = LogView(max_lines=RING) if kind == "ours" else Log(max_lines=RING)
    stop = threading.Event()

    def produce() -> None:
        n = 0
        while not stop.is_set():
            batch = pool[n % len(pool)]
            if isinstance(widget, LogView):
                widget.write_lines(batch)
            else:
                pending.append(batch)
            n += 1
            time.sleep(0.01)

    def drain() -> None:  # the baseline's flusher: Textual's recommended pipeline
        lines: list[str] = []
        while pending:
            lines.extend(pending.popleft())
        if lines and isinstance(widget, Log):
            widget.write_lines(lines)

    def follow_state() -> bool:
        return widget.follow if isinstance(widget, LogView) else bool(getattr(widget, "auto_scroll", False))

    latencies: list[float] = []
    async with LogHost(widget).run_test(size=(120, 40)) as pilot:
        if isinstance(widget, Log):
            pilot.app.set_interval(0.075, drain)
        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        try:
            await asyncio.sleep(0.3)
            for i in range(presses):
                await asyncio.sleep(0.037 + 0.011 * (i % 5))  # land at different phases of the flushes
                before = follow_state()
                started = time.perf_counter()
                pilot.app.post_message(events.Key("f", "f"))
                while follow_state() == before:
                    await asyncio.sleep(0.0005)
                latencies.append((time.perf_counter() - started) / FRAME)
        finally:
            stop.set()
            producer.join()
    return latencies


def _ingest_record(bench: str, size: int, ours: dict[str, float], base: dict[str, float]) -> dict[str, Any]:
    return {
        "bench": bench,
        "size": size,
        "ours": round(ours["cpu"], 4),
        "baseline": round(base["cpu"], 4),
        "unit": "s",
        "ratio": round(base["cpu"] / ours["cpu"], 2),
        "clock": "process_cpu",
        "ours_lines_per_s": round(size / ours["cpu"]),
        "baseline_lines_per_s": round(size / base["cpu"]),
        "ours_wall": round(ours["wall"], 4),
        "baseline_wall": round(base["wall"], 4),
    }


def run(
    sizes: tuple[int, ...] = SIZES, presses: int = 20, forced_size: int = 100_000
) -> Iterator[dict[str, Any]]:
    results: dict[int, tuple[dict[str, float], dict[str, float]]] = {}
    for size in sizes:
        results[size] = (_worker("ours", size), _worker("log", size))
        yield _ingest_record("logs.ingest", size, *results[size])
    # worst case, for the record: a flush and a repaint forced after every batch (see the module doc)
    forced = (_worker("ours", forced_size, forced=True), _worker("log", forced_size, forced=True))
    yield _ingest_record("logs.ingest_repaint_each_batch", forced_size, *forced)
    largest = max(sizes)
    ours, base = results[largest]
    mib = 1024 * 1024
    yield {
        "bench": "logs.memory",
        "size": largest,
        "ours": round(ours["rss"] / mib, 2),
        "baseline": round(base["rss"] / mib, 2),
        "unit": "MiB",
        "ratio": round(base["rss"] / ours["rss"], 2) if ours["rss"] else float("inf"),
        "measure": "peak RSS growth during ingest",
        "ours_100k": round(ours.get("rss_100k", ours["rss"]) / mib, 2),
        "baseline_100k": round(base.get("rss_100k", base["rss"]) / mib, 2),
    }
    ours_lat = asyncio.run(_latency("ours", presses))
    base_lat = asyncio.run(_latency("log", presses))
    ours_max, base_max = max(ours_lat), max(base_lat)
    yield {
        "bench": "logs.keypress_latency",
        "size": presses,
        "ours": round(ours_max, 2),
        "baseline": round(base_max, 2),
        "unit": "frames",
        "ratio": round(base_max / ours_max, 2) if ours_max else float("inf"),
        "measure": "worst of the presses",
        "ours_median": round(statistics.median(ours_lat), 2),
        "baseline_median": round(statistics.median(base_lat), 2),
        "ingest_lines_per_s": 100_000,
    }


if __name__ == "__main__":
    if len(sys.argv) == 3:  # worker mode: python -m benchmarks.bench_logs ours|log N
        print(json.dumps(asyncio.run(_ingest(sys.argv[1], int(sys.argv[2])))))
    elif len(sys.argv) == 4:
        print(json.dumps(asyncio.run(_ingest(sys.argv[1], int(sys.argv[2]), forced=True))))
    else:
        for record in run():
            print(json.dumps(record))
