"""Crash safety across processes: `kill -9` at every step boundary, then resume in another process.

A file-based fake external system counts every effect. A child process (this file run as a script) drives
a 4-step workflow and SIGKILLs itself at a chosen point: before a step's external call (journaled
`running`, nothing done), after it (effect done, journal still `running`), or after the step was journaled
`succeeded`. This test process then resumes: the workflow completes and no effect happens twice. The same
children prove the lease: while a killed runner's lease is live, resume refuses; after expiry it takes over.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients.errors import InvalidError, NotFoundError
from hks_tui.models import StepStatus, WorkflowStatus, utcnow
from hks_tui.store import Store
from hks_tui.workflows import (
    EventType,
    LeaseHeldError,
    OnFailure,
    Step,
    StepContext,
    WorkflowEngine,
    WorkflowEvent,
    WorkflowKind,
)

STEPS = ["clone", "start", "join", "label"]
POINTS = ["before", "after", "done"]
TTL = 30.0
ROOT = Path(__file__).resolve().parents[2]


class FileSystemBackend:
    """The fake external system: an object file per effect, and an append-only, fsynced effect log."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "objects").mkdir(parents=True, exist_ok=True)

    def apply(self, name: str) -> None:
        (self.root / "objects" / name).write_text("made\n")
        self._log(name)

    def remove(self, name: str) -> None:
        obj = self.root / "objects" / name
        if not obj.exists():
            raise NotFoundError(f"delete {name}", "does not exist")
        obj.unlink()
        self._log(f"undo:{name}")

    def _log(self, line: str) -> None:
        fd = os.open(self.root / "effects.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{line}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def exists(self, name: str) -> bool:
        return (self.root / "objects" / name).exists()

    def effects(self) -> list[str]:
        log = self.root / "effects.log"
        return log.read_text().split() if log.exists() else []


def crash_kind(
    backend: FileSystemBackend, kill_at: tuple[str, int] | None = None, *, failing: bool = False
) -> WorkflowKind:
    """4 steps with check() and an undo; ``failing``: a 5th step fails for good, so all is undone."""

    def die_if(point: str, index: int) -> None:
        if kill_at == (point, index):
            os.kill(os.getpid(), signal.SIGKILL)

    def make(index: int, name: str) -> Step:
        def run(ctx: StepContext) -> dict[str, Any]:
            ctx.remember(**{f"intent_{name}": index})  # intent journaled before the external call
            die_if("before", index)
            backend.apply(name)  # deliberately not idempotent: only check() prevents a duplicate
            die_if("after", index)
            return {"object": name}

        def check(ctx: StepContext) -> dict[str, Any] | None:
            return {"object": name, "adopted": True} if backend.exists(name) else None

        return Step(name, run=run, check=check, compensate=lambda ctx: backend.remove(name), max_attempts=2)

    steps = [make(i, n) for i, n in enumerate(STEPS)]
    if not failing:
        return WorkflowKind("crash.demo", steps)

    def verify(ctx: StepContext) -> None:
        raise InvalidError("verify node ws1-a", "the node never became Ready")

    return WorkflowKind("crash.undo", [*steps, Step("verify", run=verify)], on_failure=OnFailure.COMPENSATE)


def _child(db: str, backend_dir: str, point: str, index: int, workflow_id: str) -> None:
    """Drive the workflow; die at (point, index). `hold`: wait for a gate file while holding the lease."""
    backend = FileSystemBackend(Path(backend_dir))
    kill_at = (point, index) if point in ("before", "after") else None
    kind = crash_kind(backend, kill_at, failing=point == "undo")
    if point == "hold":
        gate = Path(backend_dir) / "gate"
        (Path(backend_dir) / "holding").write_text("1")

        def wait_gate(ctx: StepContext) -> dict[str, Any]:
            deadline = time.monotonic() + 60
            while not gate.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            backend.apply(STEPS[0])
            return {}

        steps = list(kind.steps)
        steps[0] = Step(STEPS[0], run=wait_gate)
        kind = WorkflowKind(kind.name, steps)

    async def main() -> None:
        store = Store.open(Path(db))
        engine = WorkflowEngine(store, [kind], owner=f"child:{os.getpid()}", lease_ttl=TTL)
        if point in ("done", "undo"):
            kill_on = EventType.STEP_DONE if point == "done" else EventType.STEP_COMPENSATED

            def on_event(event: WorkflowEvent) -> None:
                if event.type == kill_on and event.index == index:
                    os.kill(os.getpid(), signal.SIGKILL)

            engine.events.subscribe(on_event)
        record = await engine.run(workflow_id)
        await engine.aclose()
        store.close()
        sys.exit(0 if record.status == WorkflowStatus.SUCCEEDED else 3)

    asyncio.run(main())


def _spawn(db: Path, backend: Path, point: str, index: int, workflow_id: str) -> subprocess.Popen[bytes]:
    args = [sys.executable, __file__, str(db), str(backend), point, str(index), workflow_id]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _prepare(base: Path, kind: str = "crash.demo") -> tuple[Path, Path, str]:
    db, backend = base / "hks.db", base / "backend"
    fs = FileSystemBackend(backend)
    store = Store.open(db)
    engine = WorkflowEngine(store, [crash_kind(fs), crash_kind(fs, failing=True)])
    workflow_id = engine.create(kind, {"name": "ws1-a"}, workspace="ws1").id
    assert store.workflows.release_lease(workflow_id, engine.owner)  # created here, driven by the child
    engine.journal.close()
    store.close()
    return db, backend, workflow_id


async def _resume_after_expiry(db: Path, backend: Path, workflow_id: str) -> Any:
    store = Store.open(db)
    later = utcnow() + timedelta(seconds=TTL + 1)
    fs = FileSystemBackend(backend)
    engine = WorkflowEngine(store, [crash_kind(fs), crash_kind(fs, failing=True)], now=lambda: later)
    try:
        assert [r.id for r in engine.resumable()] == [workflow_id]
        report = await engine.resume_unfinished()
        assert report.skipped == []
        return report.finished[0], store.workflows.steps(workflow_id)
    finally:
        await engine.aclose()
        store.close()


async def test_kill_9_at_every_step_boundary_then_resume_elsewhere(tmp_path: Path) -> None:
    cases = [(point, index) for index in range(len(STEPS)) for point in POINTS]
    prepared = {case: _prepare(tmp_path / f"{case[0]}-{case[1]}") for case in cases}
    children = {case: _spawn(*prepared[case][:2], *case, prepared[case][2]) for case in cases}
    for case, child in children.items():
        _, err = child.communicate(timeout=120)
        assert child.returncode == -signal.SIGKILL, (case, err.decode()[-2000:])

    for (point, index), (db, backend, workflow_id) in prepared.items():
        fs = FileSystemBackend(backend)
        before = fs.effects()
        expected_before = STEPS[: index + (0 if point == "before" else 1)]
        assert before == expected_before, (point, index)
        store = Store.open(db)
        record = store.workflows.get(workflow_id)
        assert record is not None and record.status == WorkflowStatus.RUNNING
        assert record.lease_owner is not None and record.lease_owner.startswith("child:")
        assert record.params[f"intent_{STEPS[index]}"] == index
        killed_step = store.workflows.steps(workflow_id)[index]
        assert killed_step.status == (StepStatus.SUCCEEDED if point == "done" else StepStatus.RUNNING)
        # the dead runner's lease is still live: another process must refuse to drive
        refusing = WorkflowEngine(store, [crash_kind(fs)])
        with pytest.raises(LeaseHeldError, match="child:"):
            await refusing.resume(workflow_id)
        await refusing.aclose()
        store.close()

        final, steps = await _resume_after_expiry(db, backend, workflow_id)
        assert final.status == WorkflowStatus.SUCCEEDED, (point, index, final.error)
        assert final.lease_owner is None
        assert fs.effects() == STEPS, (point, index)  # every effect exactly once
        assert all(s.status == StepStatus.SUCCEEDED for s in steps)
        adopted = steps[index].result.get("adopted", False)
        assert adopted == (point == "after"), (point, index)


async def test_kill_9_during_compensation_then_resume_finishes_the_undo(tmp_path: Path) -> None:
    cases = [1, 3]  # killed right after undoing step 3 (of 0..3), or after undoing step 1
    prepared = {index: _prepare(tmp_path / f"undo-{index}", "crash.undo") for index in cases}
    children = {index: _spawn(*prepared[index][:2], "undo", index, prepared[index][2]) for index in cases}
    for index, child in children.items():
        _, err = child.communicate(timeout=120)
        assert child.returncode == -signal.SIGKILL, (index, err.decode()[-2000:])
    for index, (db, backend, workflow_id) in prepared.items():
        store = Store.open(db)
        record = store.workflows.get(workflow_id)
        assert record is not None and record.status == WorkflowStatus.COMPENSATING
        undone = [s.index for s in store.workflows.steps(workflow_id) if s.status == StepStatus.COMPENSATED]
        assert undone == list(range(index, len(STEPS)))  # the journal shows how far the undo got
        store.close()
        final, steps = await _resume_after_expiry(db, backend, workflow_id)
        assert final.status == WorkflowStatus.COMPENSATED, final.error
        assert "the node never became Ready" in final.error
        fs = FileSystemBackend(backend)
        assert fs.effects() == [*STEPS, *(f"undo:{n}" for n in reversed(STEPS))]  # each undo exactly once
        assert [s.status for s in steps] == [StepStatus.COMPENSATED] * 4 + [StepStatus.FAILED]


async def test_live_lease_in_another_process_blocks_until_it_finishes(tmp_path: Path) -> None:
    db, backend, workflow_id = _prepare(tmp_path / "hold")
    child = _spawn(db, backend, "hold", 0, workflow_id)
    try:
        deadline = time.monotonic() + 60
        while not (backend / "holding").exists() and child.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        store = Store.open(db)
        fs = FileSystemBackend(backend)
        engine = WorkflowEngine(store, [crash_kind(fs)])
        # the child holds the lease from before its first step; wait until it is journaled running
        while (
            store.workflows.steps(workflow_id)[0].status != StepStatus.RUNNING
            and child.poll() is None
            and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.02)
        with pytest.raises(LeaseHeldError, match=f"child:{child.pid}"):
            await engine.resume(workflow_id)
        assert engine.resumable() == []
        (backend / "gate").write_text("go")
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()[-2000:]
        record = store.workflows.get(workflow_id)
        assert record is not None and record.status == WorkflowStatus.SUCCEEDED and record.lease_owner is None
        assert fs.effects() == STEPS
        await engine.aclose()
        store.close()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
