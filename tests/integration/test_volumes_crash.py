"""`kill -9` in the middle of ``volume.create`` (right after the disk allocation answered, before the
journal knew; or right after the PV was created), then resume in this process: the workflow finishes by
adopting what exists — exactly one disk with the CSI name, no orphan, one PV, one open billing line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hks_tui.config import profile_from_lab
from hks_tui.lab.server import start_lab_in_thread
from hks_tui.models import WorkflowStatus, utcnow
from hks_tui.runtime import read_lab_info
from hks_tui.services import Services
from hks_tui.services.volumes import VolumeService
from hks_tui.services.workspaces import refs_from_lab
from hks_tui.store import Store
from hks_tui.workflows import WorkflowEngine
from hks_tui.workflows.storage import STORAGE_KINDS, StorageDeps

TTL = 30.0
ROOT = Path(__file__).resolve().parents[2]


class KillAfter:
    """Wraps a client: the first call of ``method`` whose first argument contains ``needle`` goes
    through, then this process is SIGKILLed (the effect happened; the journal never heard of it)."""

    def __init__(self, inner: Any, method: str, needle: str) -> None:
        self._inner, self._method, self._needle = inner, method, needle

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name != self._method:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            first = getattr(args[0], "__name__", args[0]) if args else ""
            if self._needle in str(first):
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return call


def build(lab_dir: Path, db: Path) -> Services:
    info = read_lab_info(lab_dir)
    return Services.build(
        profile=profile_from_lab(info, "prod"), store=Store.open(db), workspaces=refs_from_lab(info)
    )


def _child(lab_dir: str, db: str, point: str, workflow_id: str) -> None:
    services = build(Path(lab_dir), Path(db))
    clients = services.clients
    pve: Any = clients.proxmox
    vcluster: Any = clients.vcluster
    if point == "allocated":
        pve = KillAfter(pve, "post", "/content")
    else:
        vcluster = KillAfter(vcluster, "call", "create_persistent_volume")
    deps = StorageDeps(
        pve=pve, host=clients.host, vcluster=vcluster, store=services.store, price_gib_month=0.1
    )

    async def main() -> None:
        engine = WorkflowEngine(
            services.store, STORAGE_KINDS, deps=deps, owner=f"child:{os.getpid()}", lease_ttl=TTL
        )
        await engine.run(workflow_id)
        sys.exit(3)  # never reached: the child dies mid-step

    asyncio.run(main())


@pytest.fixture(scope="module")
def clab(tmp_path_factory: pytest.TempPathFactory) -> Any:
    state = tmp_path_factory.mktemp("clab")
    running = start_lab_in_thread(state_dir=state, seed="demo", time_scale=20.0)
    try:
        yield running, state
    finally:
        running.stop()


@pytest.mark.parametrize("point", ["allocated", "pv_created"])
async def test_kill_9_mid_create_then_resume_leaves_no_orphan_disk(
    clab: Any, tmp_path: Path, point: str
) -> None:
    lab, state = clab
    name = f"crash-{point.replace('_', '-')}"
    db = tmp_path / "hks.db"
    services = build(state, db)
    volumes = VolumeService(services, price_gib_month=0.1)
    try:
        params = await volumes.plan_create(name, "1Gi", region="jp-east", storage="local-lvm")
        engine = await volumes.engine()
        record = engine.create("volume.create", params, workspace="prod", target=f"volume/{name}")
        assert services.store.workflows.release_lease(record.id, engine.owner)
        child = subprocess.Popen(
            [sys.executable, __file__, str(state), str(db), point, record.id],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _, err = await asyncio.to_thread(child.communicate, timeout=120)
        assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
        disk = f"vm-9999-hks-prod-{name}"
        assert lab.call(lambda: [v.volid for v in lab.world.pve.volumes.values() if v.filename == disk]) == [
            f"local-lvm:{disk}"
        ]  # the allocation happened before the kill

        later = utcnow() + timedelta(seconds=TTL + 1)
        resumer = WorkflowEngine(
            services.store, STORAGE_KINDS, deps=volumes.deps(), executor=services.executor, now=lambda: later
        )
        report = await resumer.resume_unfinished()
        await resumer.aclose()
        assert [r.id for r in report.finished] == [record.id]
        final = report.finished[0]
        assert final.status == WorkflowStatus.SUCCEEDED, final.error
        steps = services.store.workflows.steps(record.id)
        if point == "allocated":
            assert steps[1].result.get("adopted") is True  # found by its CSI name, not allocated twice
        disks = lab.call(lambda: [v.volid for v in lab.world.pve.volumes.values() if v.filename == disk])
        assert disks == [f"local-lvm:{disk}"]  # exactly one disk: no orphan, no duplicate
        row = await volumes.get(name)
        assert row.status == "Available" and row.disk == disk
        open_lines = [
            line
            for line in services.store.billing.list("prod")
            if line.ref == f"volume:prod/{name}" and line.period_end == line.period_start
        ]
        assert len(open_lines) == 1
    finally:
        await volumes.aclose()
        services.close()
        services.store.close()


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])
