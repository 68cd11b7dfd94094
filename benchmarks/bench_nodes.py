"""``nodes.requests_per_refresh`` and ``nodes.refresh_time``: the node list at 10 and 1,000 nodes.

A lab (seed ``demo``: workspace ``prod`` has three dedicated nodes) runs on a thread; we add tagged VMs
joined as host Nodes (plus as many untagged VMs of other tenants) until ``prod`` has 10, then 1,000 nodes.
A runtime is opened on the lab (``open_runtime(RuntimeOptions(lab_dir=...))``) and, once its watch
cache holds every node, we refresh ``services.nodes.rows("prod")`` a few times and count the HTTP
requests the lab recorded during each refresh (``lab.world.faults``). The watches are long-lived
streams shared by every refresh, so a refresh should cost the same requests at any size: the baseline
of each record is the figure at 10 nodes. (Seed ``empty`` has no workspace whose node list we could
refresh, so we start from ``demo``.)
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SIZES = (10, 1000)
WORKSPACE = "prod"
SEEDED = 3  # prod's dedicated nodes in the demo seed
REFRESHES = 5
WAIT = 120.0
TAINT = {"key": "hks.io/workspace", "value": WORKSPACE, "effect": "NoSchedule"}


def add_nodes(world: Any, start: int, count: int) -> None:
    """``count`` running VMs tagged for prod and joined as Nodes, plus ``count`` untagged VMs (runs on the lab loop)."""
    from hks_tui.lab.controllers.nodes import register_node

    for i in range(start, start + count):
        vm = world.pve.create_vm(
            ("pve1", "pve2", "pve3")[i % 3],
            10_000 + i,
            f"prod-bulk-{i}",
            cores=2,
            memory_mib=4096,
            disk_gib=20,
            running=True,
            tags=("hks-managed", f"hks-ws-{WORKSPACE}"),
        )
        register_node(
            world,
            vm,
            labels={"hks.io/workspace": WORKSPACE, "hks.io/pool": "bulk"},
            taints=[TAINT],
            ready_now=True,
        )
        world.pve.create_vm(
            "pve2", 20_000 + i, f"other-{i}", cores=1, memory_mib=1024, disk_gib=8, running=True
        )


def _measure(runtime: Any, lab: Any, expected: int) -> tuple[float, float, Counter[tuple[str, str, str]]]:
    """(median requests per refresh, median refresh seconds, the requests of the last refresh)."""
    nodes = runtime.services.nodes
    deadline = time.monotonic() + WAIT
    while len(asyncio.run(nodes.rows(WORKSPACE))) != expected:  # the watch cache catches up
        if time.monotonic() > deadline:
            raise TimeoutError(f"the node list did not reach {expected} rows in {WAIT:.0f} s")
        time.sleep(0.2)
    faults = lab.world.faults
    counts: list[int] = []
    times: list[float] = []
    made: Counter[tuple[str, str, str]] = Counter()
    for _ in range(REFRESHES):
        since = faults.last_seq
        started = time.perf_counter()
        rows = asyncio.run(nodes.rows(WORKSPACE))
        times.append(time.perf_counter() - started)
        if len(rows) != expected:
            raise AssertionError(f"{len(rows)} rows, expected {expected}")
        made = Counter((r.api, r.method, r.path) for r in faults.select(since=since))
        counts.append(sum(made.values()))
    return statistics.median(counts), statistics.median(times), made


def run(sizes: tuple[int, ...] = SIZES) -> Iterator[dict[str, Any]]:
    from hks_tui.lab.server import start_lab_in_thread
    from hks_tui.runtime import RuntimeOptions, open_runtime

    results: dict[int, tuple[float, float, Counter[tuple[str, str, str]]]] = {}
    with tempfile.TemporaryDirectory(prefix="hks-bench-nodes-") as tmp:
        lab = start_lab_in_thread(Path(tmp) / "lab", seed="demo", time_scale=50.0)
        runtime = None
        try:
            runtime = open_runtime(RuntimeOptions(lab_dir=Path(tmp) / "lab", data_dir=Path(tmp) / "data"))
            have = SEEDED
            for size in sorted(sizes):
                if size > have:
                    lab.call(add_nodes, lab.world, have, size - have)
                    have = size
                results[size] = _measure(runtime, lab, size)
        finally:
            if runtime is not None:
                runtime.close()
            lab.stop()
    small = min(sizes)
    base_count, base_time, _ = results[small]
    for size in sorted(sizes):
        count, seconds, made = results[size]
        yield {
            "bench": "nodes.requests_per_refresh",
            "size": size,
            "ours": count,
            "baseline": base_count,
            "unit": "requests",
            "ratio": round(base_count / count, 3) if count else float("inf"),
            "requests": {f"{api} {method} {path}": n for (api, method, path), n in sorted(made.items())},
        }
        yield {
            "bench": "nodes.refresh_time",
            "size": size,
            "ours": round(seconds, 4),
            "baseline": round(base_time, 4),
            "unit": "s",
            "ratio": round(base_time / seconds, 3) if seconds else float("inf"),
            "clock": "wall",
        }


if __name__ == "__main__":  # pragma: no cover
    import json

    for record in run():
        print(json.dumps(record))
