"""Log buffer: level detection, JSON pretty-print, bounded ingest with drop count, ring buffer sync."""

from __future__ import annotations

import threading

from hks_tui.widgets.log_buffer import IngestQueue, LogLines, detect_level, normalize, pretty_json


def test_detect_level() -> None:
    assert detect_level("2026-01-01T00:00:00Z ERROR boom") == "error"
    assert detect_level("level=warning msg=x") == "warn"
    assert detect_level("[info] started") == "info"
    assert detect_level("DEBUG x") == "debug"
    assert detect_level('{"level":"error","msg":"x"}') == "error"
    assert detect_level('{"severity":"WARNING"}') == "warn"
    assert detect_level("E0102 12:00:00.1 1 controller.go:1] failed") == "error"
    assert detect_level("W0102 12:00:00.1 1 x.go:1] slow") == "warn"
    assert detect_level("plain line") == "none"
    assert detect_level("errors are words in the middle of nothing") == "none"


def test_pretty_json() -> None:
    assert pretty_json('{"a":1,"b":[1,2]}') == ["{", '  "a": 1,', '  "b": [', "    1,", "    2", "  ]", "}"]
    assert pretty_json("{not json") is None
    assert pretty_json("plain") is None
    assert pretty_json("123") is None


def test_ingest_queue_drops_and_counts_when_full() -> None:
    queue = IngestQueue(max_pending=100)
    threads = [threading.Thread(target=queue.put, args=([f"{t}-{i}" for i in range(50)],)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(queue) == 100
    assert queue.dropped == 100
    assert len(queue.drain()) == 100
    assert len(queue) == 0


def test_ring_buffer_bound_and_display_in_step() -> None:
    lines = LogLines(max_lines=10)
    assert lines.add(["a\tb\r\n"]) == 1 and lines.display[0][0] == "a   b"
    lines.clear()
    lines.add([f"line {i}" for i in range(7)])
    lines.add([f"line {i}" for i in range(7, 15)])
    assert len(lines.entries) == 10
    assert lines.evicted == 5
    assert [t for t, _ in lines.display] == [f"line {i}" for i in range(5, 15)]
    lines.add([f"line {i}" for i in range(15, 40)])  # a batch larger than the buffer
    assert [t for t, _ in lines.display] == [f"line {i}" for i in range(30, 40)]
    assert lines.evicted == 30


def test_search_and_pretty_with_eviction() -> None:
    lines = LogLines(max_lines=4)
    lines.search = "err"
    lines.pretty = True
    lines.rebuild()
    lines.add(['{"level":"error","n":1}', "INFO ok", "ERROR disk", "INFO ok"])
    assert [t for t, _ in lines.display][:1] == ["{"]
    assert lines.line(4) == ("ERROR disk", "error")
    assert [lines.line(i)[1] for i in range(4)] == ["error"] * 4  # pretty lines keep the entry's level
    assert len(lines.display) == 4 + 1  # 4 pretty lines for the JSON entry + "ERROR disk"
    lines.add(["INFO a", "INFO b"])  # evicts the JSON entry and the first INFO
    assert [t for t, _ in lines.display] == ["ERROR disk"]
    lines.search = ""
    lines.pretty = False
    lines.rebuild()
    assert [t for t, _ in lines.display] == ["ERROR disk", "INFO ok", "INFO a", "INFO b"]


def test_normalize_fast_path_and_line_breaks() -> None:
    clean = ["INFO a", "WARN b"]
    assert normalize(clean) is clean  # nothing to fix: no per-line work, no copy
    assert normalize(iter(["x\r\n", "b\tc", "one\ntwo", "dos\r\n\r\n"])) == [
        "x",
        "b   c",
        "one",
        "two",
        "dos",
    ]
    assert normalize([]) == []


def test_ingest_queue_keeps_what_fits_in_order() -> None:
    queue = IngestQueue(max_pending=5)
    queue.put(f"a{i}" for i in range(3))  # any iterable
    queue.put([f"b{i}" for i in range(4)])
    assert queue.drain() == ["a0", "a1", "a2", "b0", "b1"]
    assert queue.dropped == 2
    queue.put(["c"])
    assert queue.drain() == ["c"] and queue.dropped == 2


def test_width_and_counts_follow_the_lines() -> None:
    lines = LogLines(max_lines=3)
    assert lines.add(["ab", "abcdef", "a"]) == 3
    assert lines.width == 6 and list(lines.counts) == [1, 1, 1]
    lines.add(["multi\nline"])  # split into two entries, the oldest two evicted
    assert list(lines.entries) == ["a", "multi", "line"] and lines.evicted == 2
    lines.pretty = True
    lines.rebuild()
    lines.add(['{"a":1}'])
    assert list(lines.counts) == [1, 1, 3] and lines.width == 8
