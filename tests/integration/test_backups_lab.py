"""Backups against the lab: the seeded failing CronJob raises an alert with the remediation; a new backup
(postgres' claim → a fresh volume) runs on the lab clock and its Job mounts the right claims; run now,
suspend/resume, delete; a source claim the app does not own is refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.config import profile_from_lab
from hks_tui.lab.server import start_lab_in_thread
from hks_tui.manifests.backup_spec import BackupSpec
from hks_tui.manifests.specs import SchedulingSpec
from hks_tui.manifests.volumes import VolumeSpec, build_volume_claim
from hks_tui.models import WorkflowStatus
from hks_tui.services import Services
from hks_tui.services.backups import BackupService
from hks_tui.services.volumes import VolumeService
from hks_tui.services.workspaces import refs_from_lab
from hks_tui.store import Store
from hks_tui.validation import ValidationProblem


@pytest.fixture(scope="module")
def blab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = start_lab_in_thread(state_dir=tmp_path_factory.mktemp("blab"), seed="demo", time_scale=20.0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def services(blab: Any, tmp_path: Path) -> AsyncIterator[Services]:
    info = dict(blab.info)
    built = Services.build(
        profile=profile_from_lab(info, "prod"),
        store=Store.open(tmp_path / "hks.db"),
        workspaces=refs_from_lab(info),
    )
    yield built
    built.close()
    built.store.close()


async def until(probe: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached")


async def test_seeded_failed_run_raises_alert_with_remediation(blab: Any, services: Services) -> None:
    backups = BackupService(services)
    rows = await until(lambda: backups.list("default"))
    row = next(r for r in rows if r.destination == "backups")  # the seeded backup into the 87 % volume
    assert row.schedule == "0 2 * * *" and row.schedule_text == "every day at 02:00"
    assert len(row.next_runs) == 3 and not row.suspended
    assert row.last_run is not None and row.last_run.result == "Failed"
    assert row.last_run.reason == "BackoffLimitExceeded"
    alerts = services.store.alerts.list("prod", active_only=True)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.kind == "backup_no_space" and alert.target == f"default/{row.name}"
    assert "No space left on device" in alert.message
    assert "expand volume backups" in alert.message and "retention" in alert.message

    # run now: the same failure; the alert is refreshed, not duplicated
    job = await backups.run_now(row.name, "default")
    runs = await until(lambda: _finished(backups, row.name, job))
    assert runs.result == "Failed" and any("No space left on device" in line for line in runs.log_tail)
    await backups.list("default")
    assert len(services.store.alerts.list("prod", active_only=True)) == 1


async def _finished(backups: BackupService, name: str, job: str) -> Any:
    for run in await backups.runs(name, "default"):
        if run.job == job and run.result != "Running":
            return run
    return None


async def test_backup_runs_on_the_lab_clock_and_mounts_its_claims(blab: Any, services: Services) -> None:
    volumes = VolumeService(services, wait_timeout=30.0)
    backups = BackupService(services)
    kube = services.clients.vcluster
    try:
        record = await volumes.create("pgdump", "8Gi", region="jp-east", storage="shared-nfs")
        assert record.status == WorkflowStatus.SUCCEEDED, record.error
        spec_v = VolumeSpec(
            name="pgdump", workspace="prod", size="8Gi", region="jp-east", storage="shared-nfs"
        )
        await services.executor.run(
            kube.call,
            kube.core.create_namespaced_persistent_volume_claim,
            "default",
            build_volume_claim(spec_v, "default"),
        )
        spec = BackupSpec(
            name="pg-files",
            app="postgres",
            schedule="*/10 * * * *",
            source_pvc="data-postgres-0",
            destination_pvc="pgdump",
            destination_path="postgres/daily",
            keep_last=3,
            scheduling=SchedulingSpec(workspace="prod"),
        )
        with pytest.raises(ValidationProblem, match="not one of app postgres"):
            await backups.create(spec.model_copy(update={"name": "wrong", "source_pvc": "media"}))
        with pytest.raises(ValidationProblem, match="does not exist"):
            await backups.create(spec.model_copy(update={"name": "wrong", "destination_pvc": "nope"}))

        record = await backups.create(spec)
        assert record.status == WorkflowStatus.SUCCEEDED, record.error
        row = await backups.get("pg-files")
        assert row.managed and row.keep_last == 3 and row.destination_path == "postgres/daily"
        assert row.last_run is None and row.schedule_text

        blab.call(blab.world.clock.advance, 600.0)
        run = await until(lambda: _any_finished(backups, "pg-files"))
        assert run.result == "Succeeded", run
        job = await services.executor.run(
            lambda: kube.list_raw("jobs", namespace="default", label_selector="hks.io/backup=pg-files")
        )
        pod_spec = job["items"][0]["spec"]["template"]["spec"]
        claims = {v["name"]: v["persistentVolumeClaim"] for v in pod_spec["volumes"]}
        assert claims == {
            "source": {"claimName": "data-postgres-0", "readOnly": True},
            "backup": {"claimName": "pgdump"},
        }
        mounts = {m["name"]: m for m in pod_spec["containers"][0]["volumeMounts"]}
        assert mounts["source"]["readOnly"] is True and mounts["backup"]["mountPath"] == "/backup"
        script = pod_spec["containers"][0]["command"][2]
        assert "dest=/backup/postgres/daily" in script and "keep=3" in script
        used = blab.call(lambda: blab.world.pvc_used_bytes.get(("prod", "default", "pgdump"), 0))
        assert used > 0

        await backups.update(spec.model_copy(update={"schedule": "@hourly", "keep_last": 5}))
        edited = await backups.get("pg-files")
        assert edited.schedule == "@hourly" and edited.keep_last == 5 and edited.last_run is not None
        await backups.set_suspended("pg-files", suspended=True)
        assert (await backups.get("pg-files")).suspended
        await backups.set_suspended("pg-files", suspended=False)
        assert not (await backups.get("pg-files")).suspended
        with pytest.raises(ValidationProblem):
            await backups.delete("pg-files", confirm="pg")
        await backups.delete("pg-files", confirm="pg-files")
        assert "pg-files" not in {r.name for r in await backups.list("default")}
    finally:
        await backups.aclose()
        await volumes.aclose()


async def _any_finished(backups: BackupService, name: str) -> Any:
    runs = [r for r in await backups.runs(name, "default") if r.result != "Running"]
    return runs[0] if runs else None


def test_headless_backups(blab: Any, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from hks_tui.cli import main

    base = [
        "--lab-dir",
        str(Path(blab.info["kubeconfig"]).parent),
        "--data-dir",
        str(tmp_path),
        "--workspace",
        "prod",
    ]

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, [*base, *args], catch_exceptions=False)

    listed = run("backups", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    seeded = next(r for r in rows if r["destination"] == "backups")
    assert seeded["schedule_text"] == "every day at 02:00" and seeded["last_run"]["result"] == "Failed"
    runs = json.loads(run("backups", "runs", seeded["name"], "--json").output)
    assert runs and runs[0]["result"] == "Failed" and runs[0]["log_tail"]

    bad = run(
        "backups",
        "create",
        "nightly",
        "--app",
        "postgres",
        "--schedule",
        "61 * * * *",
        "--source",
        "data-postgres-0",
        "--dest",
        "backups",
    )
    assert bad.exit_code == 1 and "schedule" in bad.output
    escape = run(
        "backups",
        "create",
        "nightly",
        "--app",
        "postgres",
        "--schedule",
        "@daily",
        "--source",
        "data-postgres-0",
        "--dest",
        "backups",
        "--path",
        "../etc",
    )
    assert escape.exit_code == 1 and "destination" in escape.output
    ok = run(
        "backups",
        "create",
        "nightly",
        "--app",
        "postgres",
        "--schedule",
        "@daily",
        "--source",
        "data-postgres-0",
        "--dest",
        "backups",
        "--workspace-nodes",
        "--json",
    )
    assert ok.exit_code == 0, ok.output
    assert run("backups", "suspend", "nightly").exit_code == 0
    row = next(r for r in json.loads(run("backups", "list", "--json").output) if r["name"] == "nightly")
    assert row["suspended"] is True and row["keep_last"] == 7
    started = json.loads(run("backups", "run", "nightly", "--json").output)
    assert started["job"].startswith("nightly-m")
    assert run("backups", "delete", "nightly", "--confirm", "nightly").exit_code == 0
