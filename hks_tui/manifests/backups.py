"""``BackupSpec`` ↔ CronJob: the builder, and the parser back from a CronJob (any console, or kubectl).

The whole definition travels on the CronJob: labels ``hks.io/backup=<name>``, ``hks.io/app=<app>`` and
annotation ``hks.io/backup-spec`` (the spec as compact JSON). Fields a user may change with kubectl
(schedule, suspend, timeZone) are read back from the live CronJob spec and win over the annotation.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from hks_tui.manifests.backup_commands import (
    BACKUP_MOUNT,
    SOURCE_MOUNT,
    backup_command,
    backup_image,
    database_env,
)
from hks_tui.manifests.backup_spec import BackupSpec
from hks_tui.manifests.labels import (
    APP,
    BACKUP,
    BACKUP_SOURCE,
    BACKUP_SPEC,
    BACKUP_TARGET,
    COMPONENT,
    MANAGED_BY,
    MANAGER,
    POOL,
    WORKSPACE,
    workspace_toleration,
)
from hks_tui.validation import ValidationProblem


def backup_labels(spec: BackupSpec) -> dict[str, str]:
    return {BACKUP: spec.name, APP: spec.app, COMPONENT: "backup", MANAGED_BY: MANAGER}


def spec_annotation(spec: BackupSpec) -> str:
    return json.dumps(
        spec.model_dump(mode="json", exclude_defaults=True), sort_keys=True, separators=(",", ":")
    )


def _pod_spec(spec: BackupSpec) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    if spec.source_pvc is not None:
        mounts.append({"name": "source", "mountPath": SOURCE_MOUNT, "readOnly": True})
        volumes.append(
            {"name": "source", "persistentVolumeClaim": {"claimName": spec.source_pvc, "readOnly": True}}
        )
    mounts.append({"name": "backup", "mountPath": BACKUP_MOUNT})
    volumes.append({"name": "backup", "persistentVolumeClaim": {"claimName": spec.destination_pvc}})
    container: dict[str, Any] = {
        "name": "backup",
        "image": backup_image(spec),
        "command": backup_command(spec),
    }
    env = database_env(spec)
    if env:
        container["env"] = env
    container["resources"] = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}
    container["volumeMounts"] = mounts
    pod: dict[str, Any] = {"restartPolicy": "Never", "containers": [container], "volumes": volumes}
    if spec.scheduling is not None:
        pool = spec.scheduling.pool
        pod["nodeSelector"] = {POOL: pool} if pool else {WORKSPACE: spec.scheduling.workspace}
        pod["tolerations"] = [workspace_toleration(spec.scheduling.workspace)]
    return pod


def build_backup_cronjob(spec: BackupSpec) -> dict[str, Any]:
    labels = backup_labels(spec)
    annotations = {BACKUP_SPEC: spec_annotation(spec), BACKUP_TARGET: spec.destination_pvc}
    if spec.source_pvc is not None:
        annotations[BACKUP_SOURCE] = spec.source_pvc
    body: dict[str, Any] = {"schedule": spec.schedule}
    if spec.time_zone:
        body["timeZone"] = spec.time_zone
    body.update(
        {
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 300,
            "suspend": spec.suspend,
            "successfulJobsHistoryLimit": spec.successful_jobs_history_limit,
            "failedJobsHistoryLimit": spec.failed_jobs_history_limit,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "metadata": {"labels": labels, "annotations": {BACKUP_TARGET: "backup"}},
                        "spec": _pod_spec(spec),
                    },
                },
            },
        }
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": spec.name,
            "namespace": spec.namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": body,
    }


def backup_spec_from_cronjob(cronjob: dict[str, Any]) -> BackupSpec:
    """Rebuild the BackupSpec from a CronJob dict (API JSON form); raises ValidationProblem if it isn't one."""
    meta = cronjob.get("metadata") or {}
    name = meta.get("name", "")
    raw = (meta.get("annotations") or {}).get(BACKUP_SPEC)
    if not raw:
        raise ValidationProblem(
            "cronjob", name, "backup-annotation", f"CronJob {name!r} carries no {BACKUP_SPEC} annotation"
        )
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise ValidationProblem(
            "cronjob",
            name,
            "backup-annotation",
            f"CronJob {name!r} has an unreadable {BACKUP_SPEC} annotation",
        ) from exc
    live = cronjob.get("spec") or {}
    data["name"] = name or data.get("name")
    data["namespace"] = meta.get("namespace") or data.get("namespace", "default")
    if live.get("schedule"):
        data["schedule"] = live["schedule"]
    if "suspend" in live and live["suspend"] is not None:
        data["suspend"] = bool(live["suspend"])
    if live.get("timeZone"):
        data["time_zone"] = live["timeZone"]
    try:
        return BackupSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationProblem(
            "cronjob",
            name,
            "backup-annotation",
            f"CronJob {name!r} backup definition is invalid: {first['msg']}",
        ) from exc
