"""The demo seed's backup CronJob with a failed last run (Job, failed pod and its logs), written
directly into the vCluster store as the controllers would have left them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from croniter import croniter

from hks_tui.manifests.backup_spec import BackupSpec
from hks_tui.manifests.backups import build_backup_cronjob
from hks_tui.manifests.specs import SchedulingSpec

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld


BACKUP_NAME = "backup-media"


def _last_run(now: float, schedule: str) -> float:
    return float(croniter(schedule, datetime.fromtimestamp(now, tz=UTC)).get_prev(float))


def seed_failed_backup(world: LabWorld, cluster: KubeCluster) -> None:
    prod = cluster.store
    clock = world.clock
    schedule = "0 2 * * *"
    spec = BackupSpec(
        name=BACKUP_NAME,
        app="storefront",
        schedule=schedule,
        source_pvc="media",
        destination_pvc="backups",
        function="tar",
        scheduling=SchedulingSpec(workspace="prod", pool="default"),
    )
    cj = prod.create("cronjobs", build_backup_cronjob(spec), "default")  # exactly as the console creates it
    last = _last_run(clock.now(), schedule)
    job_name = f"{BACKUP_NAME}-{int(last // 60)}"
    template = cj["spec"]["jobTemplate"]
    owner = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "name": BACKUP_NAME,
        "uid": cj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    job = prod.create(
        "jobs",
        {
            "metadata": {
                "name": job_name,
                "namespace": "default",
                "labels": dict(template["metadata"].get("labels") or {}),
                "annotations": {"batch.kubernetes.io/cronjob-scheduled-timestamp": clock.iso(last)},
                "ownerReferences": [owner],
            },
            "spec": {k: v for k, v in template["spec"].items() if k != "selector"},
        },
        "default",
    )
    start, end = last + 1, last + 38
    pod_labels = dict(job["spec"]["template"]["metadata"].get("labels") or {})
    pod_name = f"{job_name}-x7k2p"
    job_owner = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": job_name,
        "uid": job["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    pod = prod.create(
        "pods",
        {
            "metadata": {
                "name": pod_name,
                "namespace": "default",
                "labels": pod_labels,
                "annotations": dict(job["spec"]["template"]["metadata"].get("annotations") or {}),
                "ownerReferences": [job_owner],
            },
            "spec": {**job["spec"]["template"]["spec"], "nodeName": "prod-default-1"},
        },
        "default",
    )
    image = pod["spec"]["containers"][0]["image"]
    cond = [
        {"type": t, "status": s, "lastProbeTime": None, "lastTransitionTime": clock.iso(end), **extra}
        for t, s, extra in (
            ("PodReadyToStartContainers", "False", {}),
            ("Initialized", "True", {}),
            ("Ready", "False", {"reason": "PodFailed"}),
            ("ContainersReady", "False", {"reason": "PodFailed"}),
            ("PodScheduled", "True", {}),
        )
    ]
    pod["status"] = {
        "phase": "Failed",
        "conditions": cond,
        "startTime": clock.iso(start),
        "hostIP": "10.10.1.11",
        "podIP": "10.42.4.17",
        "qosClass": "Burstable",
        "containerStatuses": [
            {
                "name": "backup",
                "image": image,
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "lastState": {},
                "state": {
                    "terminated": {
                        "exitCode": 1,
                        "reason": "Error",
                        "startedAt": clock.iso(start + 2),
                        "finishedAt": clock.iso(end),
                    }
                },
            }
        ],
    }
    prod.update_status("pods", pod)
    stamp = datetime.fromtimestamp(start, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    part = f"/backup/{BACKUP_NAME}-{stamp}.tar.gz.part"
    for offset, line in (
        (2, f"backup {BACKUP_NAME}: writing to /backup at {stamp}"),
        (36, f"tar: {part}: Cannot write: No space left on device"),
        (37, f"backup {BACKUP_NAME}: failed with status 1"),
    ):
        cluster.logs.append("default", pod_name, "backup", line, start + offset)
    message = "Job has reached the specified backoff limit"
    job_status: dict[str, Any] = {
        "startTime": clock.iso(start),
        "failed": 1,
        "terminating": 0,
        "ready": 0,
        "uncountedTerminatedPods": {},
        "conditions": [
            {
                "type": t,
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": message,
                "lastProbeTime": clock.iso(end),
                "lastTransitionTime": clock.iso(end),
            }
            for t in ("FailureTarget", "Failed")
        ],
    }
    job["status"] = job_status
    prod.update_status("jobs", job)
    cj = prod.get("cronjobs", BACKUP_NAME, "default")
    cj["status"] = {"lastScheduleTime": clock.iso(last), "lastSuccessfulTime": clock.iso(last - 86400 + 41)}
    prod.update_status("cronjobs", cj)
