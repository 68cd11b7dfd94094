"""Several processes share one state file: 4 processes × 500 write transactions, no "database is locked".

The processes open the same *fresh* file at the same moment (so the first-open migration races too) and
then write as fast as they can: audit appends, workflow journal steps and lease changes, each in its own
``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import multiprocessing as mp
from datetime import timedelta
from pathlib import Path
from typing import Any

PROCESSES = 4
TRANSACTIONS = 500


def _worker(path: str, worker: int, barrier: Any, results: Any) -> None:
    from hks_tui.models import AuditEntry, StepStatus, WorkflowRecord, WorkflowStep
    from hks_tui.store import Store

    errors: list[str] = []
    done = 0
    barrier.wait()
    try:
        store = Store.open(Path(path))
    except Exception as exc:  # reported, not raised: the parent asserts on it
        results.put((worker, 0, [f"open: {type(exc).__name__}: {exc}"]))
        return
    wf = f"wf-{worker}"
    try:
        store.workflows.create(WorkflowRecord(id=wf, kind="stress"))
        done += 1
        for i in range(TRANSACTIONS - 1):
            try:
                kind = i % 4
                if kind == 0:
                    store.workflows.save_step(
                        WorkflowStep(workflow_id=wf, index=i, name=f"s{i}", status=StepStatus.SUCCEEDED)
                    )
                elif kind == 1:
                    store.workflows.acquire_lease("wf-0", f"owner-{worker}", timedelta(milliseconds=1))
                else:
                    store.audit.append(AuditEntry(action="stress", target=f"{worker}/{i}"))
                done += 1
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        store.close()
    results.put((worker, done, errors))


def test_four_processes_five_hundred_transactions_each(tmp_path: Path) -> None:
    from hks_tui.store import Store

    path = tmp_path / "shared" / "hks.db"
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(path), w, barrier, results)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    collected = [results.get(timeout=150) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    errors = [e for _, _, errs in collected for e in errs]
    assert errors == [], errors[:5]
    assert sorted(w for w, _, _ in collected) == list(range(PROCESSES))
    assert all(done == TRANSACTIONS for _, done, _ in collected)
    assert not any("locked" in e for e in errors)
    with Store.open(path) as store:
        assert store.integrity_check() == "ok"
        kinds = [i % 4 for i in range(TRANSACTIONS - 1)]
        assert store.audit.count() == PROCESSES * sum(1 for k in kinds if k >= 2)
        steps = store.query("SELECT COUNT(*) AS n FROM workflow_steps")[0]["n"]
        assert steps == PROCESSES * kinds.count(0)
        assert len(store.workflows.list()) == PROCESSES
        assert store.query("SELECT COUNT(*) AS n FROM schema_version")[0]["n"] == 1
