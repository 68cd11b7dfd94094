"""BackupSpec → CronJob, the parser back, and the function scripts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hks_tui.manifests import (
    BackupSpec,
    DatabaseSource,
    KeyRef,
    SchedulingSpec,
    backup_script,
    backup_spec_from_cronjob,
    build_backup_cronjob,
)
from hks_tui.validation import ValidationProblem


def spec(**overrides: Any) -> BackupSpec:
    data: dict[str, Any] = {
        "name": "media-nightly",
        "namespace": "team-a",
        "app": "shop",
        "schedule": "0 2 * * *",
        "source_pvc": "media",
        "destination_pvc": "backups",
        "destination_path": "shop/media",
        "keep_last": 5,
    }
    data.update(overrides)
    return BackupSpec(**data)


def test_cronjob_shape() -> None:
    cj = build_backup_cronjob(
        spec(time_zone="Asia/Tokyo", scheduling=SchedulingSpec(workspace="prod", pool="db"))
    )
    meta, body = cj["metadata"], cj["spec"]
    assert meta["labels"]["hks.io/backup"] == "media-nightly"
    assert meta["labels"]["hks.io/app"] == "shop"
    assert json.loads(meta["annotations"]["hks.io/backup-spec"])["keep_last"] == 5
    assert body["schedule"] == "0 2 * * *" and body["timeZone"] == "Asia/Tokyo"
    assert body["concurrencyPolicy"] == "Forbid"
    assert body["successfulJobsHistoryLimit"] == 3 and body["failedJobsHistoryLimit"] == 3
    pod = body["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["volumes"] == [
        {"name": "source", "persistentVolumeClaim": {"claimName": "media", "readOnly": True}},
        {"name": "backup", "persistentVolumeClaim": {"claimName": "backups"}},
    ]
    mounts = pod["containers"][0]["volumeMounts"]
    assert mounts[0] == {"name": "source", "mountPath": "/source", "readOnly": True}
    assert mounts[1] == {"name": "backup", "mountPath": "/backup"}
    assert pod["nodeSelector"] == {"hks.io/pool": "db"}
    assert pod["tolerations"][0]["value"] == "prod"
    # pods must not match the application's Service/Deployment selector
    labels = body["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert "app.kubernetes.io/name" not in labels
    assert labels["hks.io/backup"] == "media-nightly"


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"function": "rsync", "suspend": True, "destination_path": "."},
        {
            "function": "custom",
            "image": "ghcr.io/acme/backup:1",
            "command": ["backup", "--all"],
            "source_pvc": None,
        },
        {
            "function": "pg_dump",
            "source_pvc": None,
            "database": DatabaseSource(
                host="postgres",
                database="shop",
                user="backup",
                password_secret=KeyRef(name="pg", key="password"),
            ),
        },
    ],
)
def test_parser_round_trip(variant: dict[str, Any]) -> None:
    original = spec(**variant)
    assert backup_spec_from_cronjob(build_backup_cronjob(original)) == original


def test_parser_prefers_live_fields_and_refuses_foreign_cronjobs() -> None:
    cj = build_backup_cronjob(spec())
    cj["spec"]["schedule"] = "30 3 * * 1"
    cj["spec"]["suspend"] = True
    parsed = backup_spec_from_cronjob(cj)
    assert parsed.schedule == "30 3 * * 1" and parsed.suspend is True
    with pytest.raises(ValidationProblem, match=r"no hks\.io/backup-spec"):
        backup_spec_from_cronjob({"metadata": {"name": "other"}, "spec": {}})
    cj["metadata"]["annotations"]["hks.io/backup-spec"] = "{not json"
    with pytest.raises(ValidationProblem, match="unreadable"):
        backup_spec_from_cronjob(cj)
    cj["metadata"]["annotations"]["hks.io/backup-spec"] = json.dumps({"app": "shop"})
    with pytest.raises(ValidationProblem, match="invalid"):
        backup_spec_from_cronjob(cj)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"schedule": "61 * * * *"}, "minute value 61 is out of range 0–59"),
        ({"schedule": "* * * *"}, "5 fields"),
        ({"destination_path": "../other"}, "stay inside the volume"),
        ({"destination_path": "/etc"}, "relative to the volume root"),
        ({"name": "b" * 53}, "at most 52"),
        ({"source_pvc": None}, "needs a source"),
        ({"source_pvc": "backups"}, "different"),
        ({"function": "pg_dump"}, "database connection"),
        ({"function": "custom"}, "image and a command"),
        ({"command": ["rm"]}, "only used by the custom"),
        ({"keep_last": 0}, "greater than or equal to 1"),
        ({"time_zone": "Mars/Base"}, "not a known IANA zone"),
    ],
)
def test_bad_backup_specs(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(**overrides)


def test_database_env_uses_secret() -> None:
    db = DatabaseSource(
        host="mysql", database="shop", user="root", password_secret=KeyRef(name="db", key="pw")
    )
    cj = build_backup_cronjob(spec(function="mysqldump", database=db))
    env = {
        e["name"]: e for e in cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["MYSQL_PWD"] == {
        "name": "MYSQL_PWD",
        "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}},
    }
    assert env["DB_PORT"]["value"] == "3306"


def test_names_are_shell_quoted() -> None:
    script = backup_script(spec(destination_path="it's here"))
    assert "dest='/backup/it'\"'\"'s here'" in script


@pytest.mark.skipif(shutil.which("tar") is None or shutil.which("sh") is None, reason="needs sh and tar")
def test_tar_script_runs_and_applies_retention(tmp_path: Path) -> None:
    """Run the real tar preset with /source and /backup mapped into a temp dir: retention keeps N."""
    source, backup = tmp_path / "source", tmp_path / "backup"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "file.txt").write_text("hello")
    dest = backup / "shop"
    dest.mkdir(parents=True)
    for day in range(1, 6):
        (dest / f"nightly-202601{day:02d}T020000Z.tar.gz").write_text("old")
    (dest / "other-20260101T020000Z.tar.gz").write_text("not ours")
    script = backup_script(spec(name="nightly", destination_path="shop", keep_last=3))
    script = script.replace("/source", str(source)).replace("/backup", str(backup))
    subprocess.run(
        ["sh", "-c", script], check=True, capture_output=True, env={"PATH": os.environ["PATH"]}, timeout=60
    )
    names = sorted(p.name for p in dest.iterdir())
    ours = [n for n in names if n.startswith("nightly-")]
    assert len(ours) == 3
    assert "nightly-20260105T020000Z.tar.gz" in ours and "nightly-20260104T020000Z.tar.gz" in ours
    assert "other-20260101T020000Z.tar.gz" in names
    newest = dest / max(ours)
    listing = subprocess.run(["tar", "-tzf", str(newest)], check=True, capture_output=True, text=True).stdout
    assert "./sub/file.txt" in listing
