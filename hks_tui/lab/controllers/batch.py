"""Job and CronJob controllers on the lab clock.

Jobs: ``parallelism``/``completions``, retries with the kubelet-style back-off (10 s doubling, capped at
360 s) until more than ``backoffLimit`` pods failed (container restarts of ``OnFailure`` pods count too),
``activeDeadlineSeconds``, ``suspend``; conditions ``Complete``/``SuccessCriteriaMet`` or
``Failed``/``FailureTarget`` with the real reasons. CronJobs: 5-field schedules and ``@`` macros via
croniter (``timeZone`` honoured), ``suspend``, ``concurrencyPolicy`` Allow/Forbid/Replace,
``startingDeadlineSeconds``, history limits, ``lastScheduleTime``/``lastSuccessfulTime``."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from croniter import croniter

from hks_tui.lab.controllers.apps import create_pod_from_template, pod_ready
from hks_tui.lab.controllers.common import (
    Recorder,
    condition,
    generate_suffix,
    is_deleting,
    name_of,
    ns_of,
    owned_by,
    owner_ref,
    parse_iso,
    safe_delete,
    set_condition,
    snapshot,
    write_status,
)
from hks_tui.lab.kube.errors import ApiError, invalid

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

SCHEDULED_TS = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def job_finished(job: dict[str, Any]) -> str | None:
    """``"Complete"`` / ``"Failed"`` when the job has finished, else None."""
    for ctype in ("Complete", "Failed"):
        if (condition(job, ctype) or {}).get("status") == "True":
            return ctype
    return None


def install_cron_admission(cluster: KubeCluster) -> None:
    def admit(op: str, resource: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if resource != "cronjobs" or op not in ("CREATE", "UPDATE"):
            return
        schedule = str((obj.get("spec") or {}).get("schedule") or "")
        tz = (obj.get("spec") or {}).get("timeZone")
        causes = []
        if schedule and (not croniter.is_valid(schedule) or "TZ=" in schedule):
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "field": "spec.schedule",
                    "message": f'Invalid value: "{schedule}": unparseable schedule',
                }
            )
        if tz:
            try:
                ZoneInfo(str(tz))
            except Exception:
                causes.append(
                    {
                        "reason": "FieldValueInvalid",
                        "field": "spec.timeZone",
                        "message": f'Invalid value: "{tz}": unknown time zone {tz}',
                    }
                )
        if causes:
            raise invalid("CronJob", name_of(obj), causes, "batch")

    cluster.store.add_admission(admit)


class JobController:
    def __init__(self, world: LabWorld, cluster: KubeCluster, recorder: Recorder) -> None:
        self.world, self.cluster, self.recorder = world, cluster, recorder
        self._next_create: dict[str, float] = {}

    def reconcile(self) -> None:
        pods = snapshot(self.cluster.store, "pods")
        for job in snapshot(self.cluster.store, "jobs"):
            if not is_deleting(job):
                self._sync(job, owned_by(pods, job))

    def _sync(self, job: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        store = self.cluster.store
        spec = job["spec"]
        now = self.world.clock.now()
        iso = self.world.clock.iso
        uid = job["metadata"]["uid"]
        status = dict(job.get("status") or {})
        active = [
            p
            for p in pods
            if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and not is_deleting(p)
        ]
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed_pods = [p for p in pods if (p.get("status") or {}).get("phase") == "Failed"]
        restarts = sum(
            int(cs.get("restartCount", 0))
            for p in pods
            for cs in (p.get("status") or {}).get("containerStatuses") or []
        )
        failed = max(int(status.get("failed", 0)), len(failed_pods))
        finished = job_finished(job)
        if finished:
            if finished == "Failed":
                for p in active:
                    safe_delete(store, "pods", name_of(p), ns_of(p))
            ttl = spec.get("ttlSecondsAfterFinished")
            ended = parse_iso((condition(job, finished) or {}).get("lastTransitionTime"))
            if ttl is not None and ended is not None and now - ended >= float(ttl):
                safe_delete(store, "jobs", name_of(job), ns_of(job))  # its pods go with it (owner GC)
            return
        completions = int(spec.get("completions") or 1)
        conds = [dict(c) for c in status.get("conditions") or []]
        status.setdefault("startTime", iso(now))
        start = parse_iso(status["startTime"]) or now
        deadline = spec.get("activeDeadlineSeconds")
        outcome: tuple[str, str, str] | None = None
        if failed + restarts > int(spec.get("backoffLimit", 6)):
            outcome = ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        elif deadline is not None and now - start > float(deadline):
            outcome = ("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
        elif succeeded >= completions:
            outcome = ("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
        if outcome is not None:
            ctype, reason, message = outcome
            first = "FailureTarget" if ctype == "Failed" else "SuccessCriteriaMet"
            conds = set_condition(conds, first, "True", iso(now), reason, message, probe=True)
            conds = set_condition(conds, ctype, "True", iso(now), reason, message, probe=True)
            for p in active:
                safe_delete(store, "pods", name_of(p), ns_of(p))
            active = []
            if ctype == "Complete":
                status["completionTime"] = iso(now)
                self.recorder.record(
                    self.cluster,
                    job,
                    "Normal",
                    "Completed",
                    "Job completed",
                    "job-controller",
                    min_interval=0,
                )
            else:
                self.recorder.record(
                    self.cluster, job, "Warning", reason, message, "job-controller", min_interval=0
                )
        elif spec.get("suspend"):
            for p in active:
                safe_delete(store, "pods", name_of(p), ns_of(p))
            active = []
            conds = set_condition(
                conds, "Suspended", "True", iso(now), "JobSuspended", "Job suspended", probe=True
            )
        else:
            conds = [c for c in conds if c.get("type") != "Suspended"]
            previous_failed = int(status.get("failed", 0))
            if failed > previous_failed:
                self._next_create[uid] = now + min(360.0, 10.0 * 2 ** (failed - 1))
            want = min(int(spec.get("parallelism", 1)), completions - succeeded) - len(active)
            if want > 0 and now >= self._next_create.get(uid, 0):
                taken = {name_of(p) for p in store.iter_objects("pods", ns_of(job))}
                for n in range(want):
                    name = generate_suffix(
                        f"{self.cluster.name}/{ns_of(job)}/{name_of(job)}/{len(pods) + n}",
                        taken,
                        f"{name_of(job)}-",
                    )
                    taken.add(name)
                    if (
                        create_pod_from_template(self.cluster, self.recorder, job, spec["template"], name)
                        is None
                    ):
                        break
                    active.append({"status": {}})
        status.update(
            {
                "active": len(active),
                "succeeded": succeeded,
                "failed": failed,
                "ready": sum(1 for p in active if p.get("metadata") and pod_ready(p)),
                "terminating": 0,
                "uncountedTerminatedPods": {},
            }
        )
        for key in ("active", "succeeded", "failed"):
            if not status[key]:
                del status[key]
        if conds:
            status["conditions"] = conds
        write_status(store, "jobs", job, status)


class CronJobController:
    def __init__(self, world: LabWorld, cluster: KubeCluster, recorder: Recorder) -> None:
        self.world, self.cluster, self.recorder = world, cluster, recorder

    def reconcile(self) -> None:
        jobs = snapshot(self.cluster.store, "jobs")
        for cj in snapshot(self.cluster.store, "cronjobs"):
            if not is_deleting(cj):
                self._sync(cj, owned_by(jobs, cj))

    def _due(self, cj: dict[str, Any], now: float) -> float | None:
        spec = cj["spec"]
        status = cj.get("status") or {}
        since = (
            parse_iso(status.get("lastScheduleTime"))
            or parse_iso(cj["metadata"].get("creationTimestamp"))
            or now
        )
        try:
            tz = ZoneInfo(str(spec["timeZone"])) if spec.get("timeZone") else UTC
            it = croniter(str(spec.get("schedule", "")), datetime.fromtimestamp(since, tz=tz))
        except Exception:
            return None
        due: float | None = None
        for _ in range(100):
            nxt = float(it.get_next(float))
            if nxt > now:
                break
            due = nxt
        return due

    def _sync(self, cj: dict[str, Any], jobs: list[dict[str, Any]]) -> None:
        store = self.cluster.store
        spec = cj["spec"]
        now = self.world.clock.now()
        status = dict(cj.get("status") or {})
        active = [j for j in jobs if not job_finished(j) and not is_deleting(j)]
        # history limits
        for kind, limit in (
            ("Complete", spec.get("successfulJobsHistoryLimit", 3)),
            ("Failed", spec.get("failedJobsHistoryLimit", 1)),
        ):
            done = sorted(
                (j for j in jobs if job_finished(j) == kind),
                key=lambda j: parse_iso((j.get("status") or {}).get("startTime")) or 0,
            )
            for old in done[: max(0, len(done) - int(limit))]:
                if safe_delete(store, "jobs", name_of(old), ns_of(old)):
                    self.recorder.record(
                        self.cluster,
                        cj,
                        "Normal",
                        "SawCompletedJob" if kind == "Complete" else "SuccessfulDelete",
                        f"Deleted job {name_of(old)}",
                        "cronjob-controller",
                        min_interval=0,
                    )
        success_times = [
            parse_iso((j.get("status") or {}).get("completionTime"))
            for j in jobs
            if job_finished(j) == "Complete"
        ]
        best = max([t for t in success_times if t] + [parse_iso(status.get("lastSuccessfulTime")) or 0])
        if best:
            status["lastSuccessfulTime"] = self.world.clock.iso(best)
        due = None if spec.get("suspend") else self._due(cj, now)
        deadline = spec.get("startingDeadlineSeconds")
        if due is not None and deadline is not None and now - due > float(deadline):
            self.recorder.record(
                self.cluster,
                cj,
                "Warning",
                "MissSchedule",
                f"Missed scheduled time to start a job: {self.world.clock.iso(due)}",
                "cronjob-controller",
            )
            status["lastScheduleTime"] = self.world.clock.iso(due)
            due = None
        if due is not None:
            policy = spec.get("concurrencyPolicy", "Allow")
            if policy == "Forbid" and active:
                self.recorder.record(
                    self.cluster,
                    cj,
                    "Normal",
                    "JobAlreadyActive",
                    "Not starting job because prior execution is running and concurrency policy is Forbid",
                    "cronjob-controller",
                    min_interval=60.0,
                )
            else:
                if policy == "Replace":
                    for j in active:
                        if safe_delete(store, "jobs", name_of(j), ns_of(j)):
                            self.recorder.record(
                                self.cluster,
                                cj,
                                "Normal",
                                "SuccessfulDelete",
                                f"Deleted job {name_of(j)}",
                                "cronjob-controller",
                                min_interval=0,
                            )
                    active = []
                created = self._create_job(cj, due)
                if created is not None:
                    active.append(created)
                status["lastScheduleTime"] = self.world.clock.iso(due)
        if active:
            status["active"] = [
                {
                    "kind": "Job",
                    "namespace": ns_of(j),
                    "name": name_of(j),
                    "uid": j["metadata"]["uid"],
                    "apiVersion": "batch/v1",
                    "resourceVersion": str(j["metadata"].get("resourceVersion", "")),
                }
                for j in active
            ]
        else:
            status.pop("active", None)
        write_status(store, "cronjobs", cj, status)

    def _create_job(self, cj: dict[str, Any], due: float) -> dict[str, Any] | None:
        template = cj["spec"].get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        name = f"{name_of(cj)}-{int(due // 60)}"
        job: dict[str, Any] = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": ns_of(cj),
                "labels": dict(tmeta.get("labels") or {}),
                "annotations": {**(tmeta.get("annotations") or {}), SCHEDULED_TS: self.world.clock.iso(due)},
                "ownerReferences": [owner_ref(cj)],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        job["spec"].pop("selector", None)
        template_labels = ((job["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        for key in (
            "batch.kubernetes.io/controller-uid",
            "controller-uid",
            "batch.kubernetes.io/job-name",
            "job-name",
        ):
            template_labels.pop(key, None)
        try:
            created = self.cluster.store.create("jobs", job, ns_of(cj))
        except ApiError as exc:
            self.recorder.record(
                self.cluster,
                cj,
                "Warning",
                "FailedCreate",
                f"Error creating job: {exc.message}",
                "cronjob-controller",
                min_interval=30.0,
            )
            return None
        self.recorder.record(
            self.cluster,
            cj,
            "Normal",
            "SuccessfulCreate",
            f"Created job {name}",
            "cronjob-controller",
            min_interval=0,
        )
        return created
