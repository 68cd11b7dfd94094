"""``BackupService``: scheduled backups as CronJobs in the vCluster — create (workflow), list with the
schedule in English and the next runs, runs with log tails, run now, suspend/resume, delete, and failure
capture (a failed run raises an alert in ``store.alerts`` with its reason and a remediation).

Build it from :class:`~hks_tui.services.Services`: ``BackupService(services)``.
"""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

from hks_tui.clients.errors import HksError, NotFoundError
from hks_tui.manifests.backup_spec import BackupSpec
from hks_tui.manifests.backups import build_backup_cronjob
from hks_tui.manifests.labels import VOLUME
from hks_tui.models import Alert, WorkflowRecord
from hks_tui.services.backups_model import (
    BackupRow,
    RunRow,
    backup_row,
    backup_selector,
    failure_alert_text,
    job_sort_key,
    run_row,
)
from hks_tui.validation import ValidationProblem
from hks_tui.workflows import WorkflowEngine
from hks_tui.workflows.storage import STORAGE_KINDS, StorageDeps
from hks_tui.workflows.storage.claims import app_claims
from hks_tui.workflows.storage.common import read_raw

MERGE = "application/merge-patch+json"
SOURCE = "BackupService"


class BackupService:
    def __init__(self, services: Any, *, log_lines: int = 20) -> None:
        self.services = services
        self.clients = services.clients
        self.executor = services.executor
        self.store = services.store
        self.log_lines = log_lines
        self._engine: WorkflowEngine | None = None

    @property
    def workspace(self) -> str:
        return str(self.clients.profile.workspace)

    async def engine(self) -> WorkflowEngine:
        if self._engine is None:

            def deps() -> StorageDeps:
                return StorageDeps(
                    pve=None, host=self.clients.host, vcluster=self.clients.vcluster, store=self.store
                )

            self._engine = WorkflowEngine(
                self.store, STORAGE_KINDS, deps=await self.executor.run(deps), executor=self.executor
            )
        return self._engine

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.aclose()
            self._engine = None

    # -- create --------------------------------------------------------------------------------------
    async def create(self, spec: BackupSpec) -> WorkflowRecord:
        """Refuses (``ValidationProblem`` on ``source``/``destination``) a source claim the app does not
        mount or a destination claim that does not exist, before anything is journaled."""
        await self.executor.run(self._check_claims, spec)
        engine = await self.engine()
        record = engine.create(
            "backup.create",
            {"spec": spec.model_dump(mode="json", exclude_defaults=True)},
            workspace=self.workspace,
            target=f"backup/{spec.namespace}/{spec.name}",
            exclusive=True,
        )
        return await engine.run(record.id)

    def _check_claims(self, spec: BackupSpec) -> None:
        kube = self.clients.vcluster
        if spec.source_pvc is not None:
            owned = app_claims(kube, spec.namespace, spec.app)
            if spec.source_pvc not in owned:
                raise ValidationProblem(
                    "source",
                    spec.source_pvc,
                    "source-owned",
                    f"claim {spec.source_pvc} is not one of app {spec.app}'s claims "
                    f"({', '.join(sorted(owned)) or 'it mounts none'})",
                )
        dest = read_raw(
            kube, kube.core.read_namespaced_persistent_volume_claim, spec.destination_pvc, spec.namespace
        )
        if dest is None:
            raise ValidationProblem(
                "destination",
                spec.destination_pvc,
                "destination-exists",
                f"destination claim {spec.namespace}/{spec.destination_pvc} does not exist",
            )

    # -- reads ---------------------------------------------------------------------------------------
    async def list(self, namespace: str | None = None, *, capture: bool = True) -> builtins.list[BackupRow]:
        return await self.executor.run(self.list_sync, namespace, capture)

    def list_sync(self, namespace: str | None = None, capture: bool = True) -> builtins.list[BackupRow]:
        kube = self.clients.vcluster
        cronjobs = kube.list_raw("cronjobs", namespace=namespace, label_selector=backup_selector())
        jobs = kube.list_raw("jobs", namespace=namespace, label_selector=backup_selector()).get("items") or []
        now = datetime.now(UTC)
        rows: builtins.list[BackupRow] = []
        for cj in cronjobs.get("items") or []:
            meta = cj["metadata"]
            mine = sorted(
                (j for j in jobs if _belongs(j, meta["name"], meta.get("namespace", ""))), key=job_sort_key
            )
            last = None
            if mine:
                tail = self._log_tail(mine[-1]) if run_row(mine[-1]).result == "Failed" else []
                last = run_row(mine[-1], tail)
            row = backup_row(cj, last, now)
            if capture and last is not None:
                self._capture(row, last)
            rows.append(row)
        return sorted(rows, key=lambda r: (r.namespace, r.name))

    async def get(self, name: str, namespace: str = "default") -> BackupRow:
        for row in await self.list(namespace):
            if row.name == name:
                return row
        raise NotFoundError(
            f"Find backup {namespace}/{name}", "no such backup", "Run `hks-tui backups list`."
        )

    async def runs(self, name: str, namespace: str = "default") -> builtins.list[RunRow]:
        return await self.executor.run(self._runs, name, namespace)

    def _runs(self, name: str, namespace: str) -> builtins.list[RunRow]:
        kube = self.clients.vcluster
        jobs = (
            kube.list_raw("jobs", namespace=namespace, label_selector=backup_selector(name)).get("items")
            or []
        )
        ordered = sorted((j for j in jobs if _belongs(j, name, namespace)), key=job_sort_key, reverse=True)
        return [run_row(job, self._log_tail(job)) for job in ordered]

    def _log_tail(self, job: dict[str, Any]) -> builtins.list[str]:
        kube = self.clients.vcluster
        meta = job["metadata"]
        pods = kube.list_raw("pods", namespace=meta["namespace"], label_selector=f"job-name={meta['name']}")
        items = sorted(pods.get("items") or [], key=job_sort_key)
        if not items:
            return []
        try:
            text = kube.call(
                kube.core.read_namespaced_pod_log,
                items[-1]["metadata"]["name"],
                meta["namespace"],
                tail_lines=self.log_lines,
                what=f"Read the log of backup run {meta['name']}",
            )
        except HksError:
            return []
        return [line for line in str(text or "").splitlines() if line.strip()]

    # -- actions -------------------------------------------------------------------------------------
    async def run_now(self, name: str, namespace: str = "default") -> str:
        """Start a Job from the CronJob's template (like ``kubectl create job --from=cronjob/…``)."""
        return await self.executor.run(self._run_now, name, namespace)

    def _run_now(self, name: str, namespace: str) -> str:
        kube = self.clients.vcluster
        cj = read_raw(kube, kube.batch.read_namespaced_cron_job, name, namespace)
        if cj is None:
            raise NotFoundError(f"Run backup {namespace}/{name}", "no such backup")
        template = cj["spec"].get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        stamp = datetime.now(UTC).strftime("%m%d%H%M%S")
        job_name = f"{name[:52]}-m{stamp}"[:63]
        job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": job_name,
                "namespace": namespace,
                "labels": dict(tmeta.get("labels") or {}),
                "annotations": {
                    **(tmeta.get("annotations") or {}),
                    "cronjob.kubernetes.io/instantiate": "manual",
                },
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": name,
                        "uid": cj["metadata"]["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": template.get("spec") or {},
        }
        kube.call(kube.batch.create_namespaced_job, namespace, job, _preload_content=False)
        return job_name

    async def update(self, spec: BackupSpec) -> None:
        """Edit: replace the CronJob with the one built from ``spec`` (same name and namespace)."""
        await self.executor.run(self._check_claims, spec)
        await self.executor.run(self._update, spec)

    def _update(self, spec: BackupSpec) -> None:
        kube = self.clients.vcluster
        live = read_raw(kube, kube.batch.read_namespaced_cron_job, spec.name, spec.namespace)
        if live is None:
            raise NotFoundError(f"Edit backup {spec.namespace}/{spec.name}", "no such backup")
        body = build_backup_cronjob(spec)
        body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        kube.call(
            kube.batch.replace_namespaced_cron_job, spec.name, spec.namespace, body, _preload_content=False
        )

    async def set_suspended(self, name: str, namespace: str = "default", *, suspended: bool) -> None:
        kube = self.clients.vcluster
        await self.executor.run(
            lambda: kube.call(
                kube.batch.patch_namespaced_cron_job,
                name,
                namespace,
                {"spec": {"suspend": suspended}},
                _content_type=MERGE,
                _preload_content=False,
            )
        )

    async def delete(self, name: str, namespace: str = "default", *, confirm: str) -> None:
        """Delete the CronJob and its Jobs (the backup files on the volume stay)."""
        if confirm != name:
            raise ValidationProblem(
                "confirm", confirm, "confirm-name", f"type the backup name {name!r} to confirm"
            )
        await self.executor.run(self._delete, name, namespace)

    def _delete(self, name: str, namespace: str) -> None:
        kube = self.clients.vcluster
        kube.call(
            kube.batch.delete_namespaced_cron_job,
            name,
            namespace,
            propagation_policy="Background",
            _preload_content=False,
        )
        for job in (
            kube.list_raw("jobs", namespace=namespace, label_selector=backup_selector(name)).get("items")
            or []
        ):
            try:
                kube.call(
                    kube.batch.delete_namespaced_job,
                    job["metadata"]["name"],
                    namespace,
                    propagation_policy="Background",
                    _preload_content=False,
                )
            except NotFoundError:
                pass
        if self.store is not None:
            self.store.alerts.resolve_fingerprint(self._fingerprint(namespace, name))

    # -- failure capture -----------------------------------------------------------------------------
    def _fingerprint(self, namespace: str, name: str) -> str:
        return f"backup:{self.workspace}/{namespace}/{name}"

    def _capture(self, row: BackupRow, last: RunRow) -> None:
        if self.store is None:
            return
        fingerprint = self._fingerprint(row.namespace, row.name)
        if last.result == "Succeeded":
            self.store.alerts.resolve_fingerprint(fingerprint)
            return
        if last.result != "Failed":
            return
        kind, message = failure_alert_text(row, last, self._volume_of(row))
        self.store.alerts.raise_alert(
            Alert(
                workspace=self.workspace,
                severity="critical" if kind == "backup_no_space" else "warning",
                source=SOURCE,
                kind=kind,
                target=f"{row.namespace}/{row.name}",
                message=message,
                fingerprint=fingerprint,
            )
        )

    def _volume_of(self, row: BackupRow) -> str | None:
        if not row.destination:
            return None
        kube = self.clients.vcluster
        try:
            pvc = read_raw(
                kube, kube.core.read_namespaced_persistent_volume_claim, row.destination, row.namespace
            )
            pv_name = ((pvc or {}).get("spec") or {}).get("volumeName")
            pv = read_raw(kube, kube.core.read_persistent_volume, pv_name) if pv_name else None
        except HksError:
            return None
        return ((pv or {}).get("metadata") or {}).get("labels", {}).get(VOLUME)


def _belongs(job: dict[str, Any], name: str, namespace: str) -> bool:
    meta = job.get("metadata") or {}
    return meta.get("namespace") == namespace and (meta.get("labels") or {}).get("hks.io/backup") == name
