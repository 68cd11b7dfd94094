"""Rows of the Backup tab (a backup CronJob and its Jobs) and the failure → alert rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from hks_tui.manifests.backup_spec import BackupSpec
from hks_tui.manifests.backups import backup_spec_from_cronjob
from hks_tui.manifests.labels import APP, BACKUP, BACKUP_SOURCE, BACKUP_TARGET
from hks_tui.validation import ValidationProblem, describe_cron, next_runs

NO_SPACE_MARKERS = ("no space left on device", "exceeded quota", "disk quota exceeded", "quota exceeded")


@dataclass(frozen=True)
class RunRow:
    job: str
    namespace: str
    started: str | None
    finished: str | None
    duration_seconds: float | None
    result: str  # Running | Succeeded | Failed
    reason: str = ""
    log_tail: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BackupRow:
    name: str
    namespace: str
    app: str
    schedule: str
    schedule_text: str
    time_zone: str | None
    suspended: bool
    source: str | None
    destination: str | None
    destination_path: str
    function: str
    keep_last: int | None
    next_runs: list[str]
    last_run: RunRow | None
    last_successful: str | None
    managed: bool  # carries the full definition (hks.io/backup-spec)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_run"] = self.last_run.to_json() if self.last_run else None
        return data


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def run_row(job: dict[str, Any], log_tail: list[str] | None = None) -> RunRow:
    meta = job.get("metadata") or {}
    status = job.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"}
    result, reason, end = "Running", "", None
    if "Complete" in conditions:
        result = "Succeeded"
        end = status.get("completionTime") or conditions["Complete"].get("lastTransitionTime")
    elif "Failed" in conditions:
        result = "Failed"
        reason = str(conditions["Failed"].get("reason") or "")
        end = conditions["Failed"].get("lastTransitionTime")
    start = status.get("startTime") or meta.get("creationTimestamp")
    t0, t1 = _parse_time(start), _parse_time(end)
    return RunRow(
        job=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        started=start,
        finished=end,
        duration_seconds=(t1 - t0).total_seconds() if t0 and t1 else None,
        result=result,
        reason=reason,
        log_tail=list(log_tail or []),
    )


def job_sort_key(job: dict[str, Any]) -> str:
    meta = job.get("metadata") or {}
    return str((job.get("status") or {}).get("startTime") or meta.get("creationTimestamp") or "")


def spec_or_none(cronjob: dict[str, Any]) -> BackupSpec | None:
    try:
        return backup_spec_from_cronjob(cronjob)
    except ValidationProblem:
        return None


def backup_row(cronjob: dict[str, Any], last: RunRow | None, now: datetime) -> BackupRow:
    meta = cronjob.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    live = cronjob.get("spec") or {}
    spec = spec_or_none(cronjob)
    schedule = str(live.get("schedule", ""))
    try:
        text = describe_cron(schedule)
        upcoming = [t.isoformat() for t in next_runs(schedule, 3, start=now)]
    except ValidationProblem as exc:
        text, upcoming = f"unreadable schedule: {exc.message}", []
    return BackupRow(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        app=spec.app if spec else str(labels.get(APP, "")),
        schedule=schedule,
        schedule_text=text,
        time_zone=live.get("timeZone"),
        suspended=bool(live.get("suspend")),
        source=spec.source_pvc if spec else annotations.get(BACKUP_SOURCE),
        destination=spec.destination_pvc if spec else annotations.get(BACKUP_TARGET),
        destination_path=spec.destination_path if spec else ".",
        function=spec.function if spec else "custom",
        keep_last=spec.keep_last if spec else None,
        next_runs=upcoming,
        last_run=last,
        last_successful=(cronjob.get("status") or {}).get("lastSuccessfulTime"),
        managed=spec is not None,
    )


def failure_alert_text(row: BackupRow, run: RunRow, volume: str | None) -> tuple[str, str]:
    """(kind, message) of the alert for a failed run: the reason and what to do about it."""
    text = " ".join(run.log_tail).lower()
    last_line = next((line for line in reversed(run.log_tail) if line.strip()), run.reason or "failed")
    if any(marker in text for marker in NO_SPACE_MARKERS):
        last_line = next(
            line for line in reversed(run.log_tail) if any(m in line.lower() for m in NO_SPACE_MARKERS)
        )
        where = f"volume {volume}" if volume else f"the claim {row.destination}"
        retention = f" (now keeps the last {row.keep_last})" if row.keep_last else ""
        return (
            "backup_no_space",
            f"Backup {row.namespace}/{row.name} run {run.job} failed: the destination is full "
            f"({last_line.strip()}). Remediation: expand {where} "
            f"(`hks-tui volumes expand {volume or '<volume>'} --size <bigger>`) or lower the backup's "
            f"retention{retention}.",
        )
    return (
        "backup_failed",
        f"Backup {row.namespace}/{row.name} run {run.job} failed ({run.reason or 'error'}): "
        f"{last_line.strip()}. See `hks-tui backups runs {row.name}` for the log.",
    )


def backup_selector(name: str | None = None) -> str:
    return f"{BACKUP}={name}" if name else BACKUP
