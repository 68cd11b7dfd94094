"""``backup.create``: the claims are checked (source owned by the app, destination bound) → the CronJob
carrying the whole Backup definition is created (adopted when the same backup already exists)."""

from __future__ import annotations

from typing import Any

from hks_tui.clients.errors import ConflictError, InvalidError
from hks_tui.manifests.backup_spec import BackupSpec
from hks_tui.manifests.backups import build_backup_cronjob
from hks_tui.manifests.labels import BACKUP
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.definition import Backoff, OnFailure, Step, WorkflowKind
from hks_tui.workflows.storage.claims import app_claims
from hks_tui.workflows.storage.common import create_or_adopt, delete_quietly, read_raw, storage_deps

FAST = Backoff(base=0.2, factor=2.0, cap=3.0)


def spec_of(params: dict[str, Any]) -> BackupSpec:
    return BackupSpec.model_validate(params["spec"])


def check_claims(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    kube = deps.vcluster
    what = f"Create backup {spec.name}"
    if spec.source_pvc is not None:
        owned = app_claims(kube, spec.namespace, spec.app)
        if spec.source_pvc not in owned:
            raise InvalidError(
                what,
                f"claim {spec.source_pvc} is not used by app {spec.app} "
                f"(its claims: {', '.join(sorted(owned)) or 'none'})",
                "Pick one of the app's own volume claims as the source.",
            )
    dest = read_raw(
        kube, kube.core.read_namespaced_persistent_volume_claim, spec.destination_pvc, spec.namespace
    )
    if dest is None:
        raise InvalidError(
            what,
            f"destination claim {spec.namespace}/{spec.destination_pvc} does not exist",
            "Bind a storage volume to a claim in this namespace first.",
        )
    return {"source": spec.source_pvc, "destination": spec.destination_pvc}


def create_cronjob(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    kube = deps.vcluster
    body = build_backup_cronjob(spec)
    if create_or_adopt(kube, kube.batch.create_namespaced_cron_job, spec.namespace, body):
        ctx.remember(made_cronjob=True)
        ctx.emit(f"CronJob {spec.namespace}/{spec.name} created")
        return {"cronjob": spec.name}
    live = read_raw(kube, kube.batch.read_namespaced_cron_job, spec.name, spec.namespace) or {}
    labels = (live.get("metadata") or {}).get("labels") or {}
    if labels.get(BACKUP) != spec.name:
        raise ConflictError(
            f"Create backup {spec.name}", "a CronJob with that name exists and is not this backup"
        )
    ctx.remember(made_cronjob=True)
    return {"cronjob": spec.name, "adopted": True}


def remove_cronjob(ctx: StepContext) -> None:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    if ctx.params.get("made_cronjob"):
        kube = deps.vcluster
        delete_quietly(kube, kube.batch.delete_namespaced_cron_job, spec.name, spec.namespace)


BACKUP_CREATE = WorkflowKind(
    "backup.create",
    [
        Step("claims", run=check_claims, title="Check source and destination claims", backoff=FAST),
        Step(
            "cronjob",
            run=create_cronjob,
            compensate=remove_cronjob,
            title="Create the backup CronJob",
            backoff=FAST,
        ),
    ],
    on_failure=OnFailure.COMPENSATE,
    title="Create backup",
    describe=lambda p: f"Create backup {(p.get('spec') or {}).get('name')}",
)
