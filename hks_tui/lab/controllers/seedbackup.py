"""The demo seed's backup CronJob with a failed last run (Job, failed pod and its logs), written
directly into the vCluster store as the controllers would have left them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from croniter import croniter

from hks_tui.lab.controllers.seedkit import backup_cronjob

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld


def _last_run(now: float, schedule: str) -> float:
    return float(croniter(schedule, datetime.fromtimestamp(now, tz=UTC)).get_prev(float))


def seed_failed_backup(world: LabWorld, cluster: KubeCluster) -> None:
    prod = cluster.store
    clock = world.clock
    schedule = "0 2 * * *"
    cj = prod.create(
        "cronjobs", backup_cronjob("backup-media", schedule, "media", "backups", "prod"), "default"
    )
    last = _last_run(clock.now(), schedule)
    job_name = f"backup-media-{int(last // 60)}"
    template = cj["spec"]["jobTemplate"]
    owner = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "name": "backup-media",
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
    for offset, line in (
        (2, "INFO backup: snapshotting source volume media (12.0 GiB used)"),
        (30, "INFO backup: writing /backup/media/backup-media.tar.gz"),
        (36, "tar: /backup/media/backup-media.tar.gz: Cannot write: No space left on device"),
        (37, "ERROR backup: failed with status 1"),
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
    cj = prod.get("cronjobs", "backup-media", "default")
    cj["status"] = {"lastScheduleTime": clock.iso(last), "lastSuccessfulTime": clock.iso(last - 86400 + 41)}
    prod.update_status("cronjobs", cj)
