"""The benchmark runner's selection and record checks, and one tiny table measurement end to end."""

from __future__ import annotations

import io
import json

import pytest

from benchmarks import __main__ as runner
from benchmarks import bench_table


def test_selection() -> None:
    names = ["startup", "table"]
    assert runner.selected(names, None) == [("startup", None), ("table", None)]
    assert runner.selected(names, "table") == [("table", None)]
    assert runner.selected(names, "table.filter") == [("table", "table.filter")]
    with pytest.raises(SystemExit):
        runner.selected(names, "nope")
    assert "table" in runner.discover()


def test_check_rejects_incomplete_records() -> None:
    with pytest.raises(ValueError):
        runner.check({"bench": "x", "size": 1})
    record = bench_table._record("table.replace", 10, (0.5, 0.6), (2.0, 2.5))
    assert runner.check(record)["ratio"] == 4.0
    out = io.StringIO()
    print(json.dumps(record), file=out)
    assert json.loads(out.getvalue())["unit"] == "s"


async def test_tiny_table_measurement_runs_both_sides() -> None:
    (ours_replace, ours_filter) = await bench_table._ours(300)
    (base_replace, base_filter) = await bench_table._baseline(300)
    for cpu, wall in (ours_replace, ours_filter, base_replace, base_filter):
        assert cpu > 0 and wall > 0
