"""``benchmarks/bench_nodes.py`` at tiny sizes against a real lab: the request count per refresh of the
node list is the same with few and with more nodes."""

from __future__ import annotations

from benchmarks import __main__ as runner
from benchmarks import bench_nodes


def test_requests_per_refresh_do_not_grow() -> None:
    records = [runner.check(r) for r in bench_nodes.run(sizes=(4, 12))]
    counts = {r["size"]: r for r in records if r["bench"] == "nodes.requests_per_refresh"}
    assert set(counts) == {4, 12}
    assert counts[4]["ours"] == counts[12]["ours"] == counts[12]["baseline"] > 0
    assert counts[12]["ratio"] == 1.0
    assert counts[12]["requests"] == counts[4]["requests"]
    times = [r for r in records if r["bench"] == "nodes.refresh_time"]
    assert [r["size"] for r in times] == [4, 12] and all(r["ours"] > 0 for r in times)
