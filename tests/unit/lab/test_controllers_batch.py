"""Jobs and CronJobs on the lab clock, and backup pods growing (or overflowing) their target volume."""

from __future__ import annotations

from typing import Any

from hks_tui.lab.controllers.batch import job_finished
from tests.unit.lab.test_controllers_workloads import Lab


def job(
    name: str,
    *,
    command: list[str] | None = None,
    backoff: int = 6,
    completions: int = 1,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "task",
        "image": "busybox:1.36",
        "command": command or ["sh", "-c", "echo hi"],
    }
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return {
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": backoff,
            "completions": completions,
            "template": {"spec": {"restartPolicy": "Never", "containers": [container]}},
        },
    }


def test_job_completes() -> None:
    lab = Lab()
    lab.store.create("jobs", job("ok", completions=2), "default")
    lab.run(20)
    done = lab.store.get("jobs", "ok", "default")
    assert job_finished(done) == "Complete"
    assert done["status"]["succeeded"] == 2 and "completionTime" in done["status"]
    conds = {c["type"] for c in done["status"]["conditions"]}
    assert {"Complete", "SuccessCriteriaMet"} <= conds
    pods = lab.pods("ok-")
    assert len(pods) == 2 and all(p["status"]["phase"] == "Succeeded" for p in pods)
    state = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert state["exitCode"] == 0 and state["reason"] == "Completed"


def test_job_fails_after_backoff_limit() -> None:
    lab = Lab()
    lab.store.create("jobs", job("bad", command=["sh", "-c", "exit 2"], backoff=1), "default")
    lab.run(60, step=2.0)
    failed = lab.store.get("jobs", "bad", "default")
    assert job_finished(failed) == "Failed"
    cond = next(c for c in failed["status"]["conditions"] if c["type"] == "Failed")
    assert cond["reason"] == "BackoffLimitExceeded"
    assert failed["status"]["failed"] == 2
    assert len(lab.pods("bad-")) == 2
    assert "BackoffLimitExceeded" in lab.events("bad")


def test_cronjob_runs_on_the_lab_clock_and_keeps_history() -> None:
    lab = Lab()
    cj = {
        "metadata": {"name": "tick"},
        "spec": {
            "schedule": "*/5 * * * *",
            "successfulJobsHistoryLimit": 2,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "t", "image": "busybox", "command": ["true"]}],
                        }
                    }
                }
            },
        },
    }
    lab.store.create("cronjobs", cj, "default")
    lab.run(16 * 60, step=30.0)
    jobs = [j for j in lab.store.list("jobs", "default") if j["metadata"]["name"].startswith("tick-")]
    assert len(jobs) == 2  # three runs in 16 minutes, history limit 2
    assert all(job_finished(j) == "Complete" for j in jobs)
    status = lab.store.get("cronjobs", "tick", "default")["status"]
    assert status["lastScheduleTime"] and status["lastSuccessfulTime"]
    assert all(j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] for j in jobs)
    lab.store.patch("cronjobs", "tick", "default", {"spec": {"suspend": True}}, "merge")
    before = status["lastScheduleTime"]
    lab.run(11 * 60, step=60.0)
    assert lab.store.get("cronjobs", "tick", "default")["status"]["lastScheduleTime"] == before


def test_invalid_schedule_is_rejected() -> None:
    from hks_tui.lab.kube.errors import ApiError

    lab = Lab()
    cj = {
        "metadata": {"name": "bad"},
        "spec": {
            "schedule": "every minute",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {"restartPolicy": "Never", "containers": [{"name": "t", "image": "busybox"}]}
                    }
                }
            },
        },
    }
    try:
        lab.store.create("cronjobs", cj, "default")
    except ApiError as exc:
        assert exc.code == 422 and "spec.schedule" in exc.message
    else:
        raise AssertionError("an unparseable schedule was accepted")


def _backup_lab(target_used: int) -> Lab:
    lab = Lab()
    gib = 2**30
    for name, size in (("src", "10Gi"), ("dst", "20Gi")):
        lab.store.create(
            "persistentvolumeclaims",
            {
                "metadata": {"name": name},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "local-path",
                    "resources": {"requests": {"storage": size}},
                },
            },
            "default",
        )
    lab.world.pvc_used_bytes[("host", "default", "src")] = 4 * gib
    lab.world.pvc_used_bytes[("host", "default", "dst")] = target_used
    spec = {
        "restartPolicy": "Never",
        "containers": [{"name": "backup", "image": "ghcr.io/hexabase/hks-backup:1.4.0"}],
        "volumes": [
            {"name": "source", "persistentVolumeClaim": {"claimName": "src"}},
            {"name": "backup", "persistentVolumeClaim": {"claimName": "dst"}},
        ],
    }
    lab.store.create(
        "jobs",
        {"metadata": {"name": "bk"}, "spec": {"backoffLimit": 0, "template": {"spec": spec}}},
        "default",
    )
    lab.run(20)
    return lab


def test_backup_job_grows_the_target_volume() -> None:
    lab = _backup_lab(2 * 2**30)
    assert job_finished(lab.store.get("jobs", "bk", "default")) == "Complete"
    assert lab.world.pvc_used_bytes[("host", "default", "dst")] == 6 * 2**30


def test_backup_job_fails_when_the_target_is_full() -> None:
    lab = _backup_lab(18 * 2**30)
    assert job_finished(lab.store.get("jobs", "bk", "default")) == "Failed"
    assert lab.world.pvc_used_bytes[("host", "default", "dst")] == 18 * 2**30
    pod = lab.pods("bk-")[0]
    lines = [line for _, line in lab.world.host.logs.lines("default", pod["metadata"]["name"], "backup")]
    assert any("No space left on device" in line for line in lines)


def test_finished_job_is_deleted_after_its_ttl() -> None:
    lab = Lab()
    body = job("short")
    body["spec"]["ttlSecondsAfterFinished"] = 30
    lab.store.create("jobs", body, "default")
    lab.run(12)
    assert job_finished(lab.store.get("jobs", "short", "default")) == "Complete"
    lab.run(40, step=5.0)
    assert lab.store.find("jobs", "short", "default") is None
    assert lab.pods("short-") == []
