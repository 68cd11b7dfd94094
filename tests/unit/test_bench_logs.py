"""``benchmarks/bench_logs.py`` at tiny sizes: every record is complete and both widgets really ingest."""

from __future__ import annotations

import asyncio

from benchmarks import __main__ as runner
from benchmarks import bench_logs


def test_lines_are_varied_and_level_tagged() -> None:
    lines = [bench_logs.make_line(i) for i in range(20)]
    assert len(set(lines)) == 20
    assert lines[0].startswith("{") and '"level": "info"' in lines[0]
    assert any(" ERROR " in line for line in lines) and any(" WARN " in line for line in lines)


def test_ingest_both_widgets_hold_the_ring() -> None:
    for kind in ("ours", "log"):
        result = asyncio.run(bench_logs._ingest(kind, 12_000))  # raises if the ring is not full
        assert result["cpu"] > 0 and result["wall"] > 0 and result["rss"] >= 0


def test_run_tiny_yields_complete_records() -> None:
    records = list(bench_logs.run(sizes=(2000, 4000), presses=3, forced_size=2000))
    for record in records:
        runner.check(record)
    by_bench: dict[str, list[dict[str, object]]] = {}
    for record in records:
        by_bench.setdefault(str(record["bench"]), []).append(record)
    assert [r["size"] for r in by_bench["logs.ingest"]] == [2000, 4000]
    assert by_bench["logs.ingest_repaint_each_batch"][0]["size"] == 2000
    assert by_bench["logs.memory"][0]["unit"] == "MiB"
    latency = by_bench["logs.keypress_latency"][0]
    assert latency["unit"] == "frames" and latency["size"] == 3
    for record in records:
        assert isinstance(record["ours"], float | int) and record["ours"] >= 0
