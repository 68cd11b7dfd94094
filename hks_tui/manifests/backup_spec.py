"""``BackupSpec``: a scheduled backup of one application's PVC into a volume (carried on its CronJob)."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from hks_tui.manifests.specs import AppName, Image, KeyRef, Namespace, SchedulingSpec
from hks_tui.validation import (
    ValidationProblem,
    validate_cron,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_volume_path,
)

BACKUP_NAME_MAX = 52  # CronJob names: the controller appends 11 characters to a 63-character Job name
FUNCTIONS = ("tar", "rsync", "pg_dump", "mysqldump", "custom")
_DB_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_$-]{0,63}")


def _time_zone(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*", value) or value.lower() == "local":
        raise ValidationProblem(
            "time zone", value, "time-zone", "time zone must be an IANA name such as Asia/Tokyo"
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationProblem(
            "time zone", value, "time-zone", f"time zone {value!r} is not a known IANA zone"
        ) from exc
    return value


def _db_identifier(value: str) -> str:
    if not _DB_NAME_RE.fullmatch(value):
        raise ValidationProblem(
            "database",
            value,
            "db-identifier",
            "database and user names must be 1–64 letters, digits, '_', '$' and '-'",
        )
    return value


BackupName = Annotated[
    str, AfterValidator(lambda v: validate_dns1123_label(v, "backup name", max_length=BACKUP_NAME_MAX))
]
ClaimName = Annotated[str, AfterValidator(lambda v: validate_dns1123_label(v, "claim"))]
DbIdentifier = Annotated[str, AfterValidator(_db_identifier)]


class DatabaseSource(BaseModel):
    """Where ``pg_dump``/``mysqldump`` connect; the password comes from a Secret key, never the spec."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: Annotated[str, AfterValidator(lambda v: validate_dns1123_subdomain(v, "database host"))]
    port: int | None = Field(default=None, ge=1, le=65535)
    database: DbIdentifier
    user: DbIdentifier
    password_secret: KeyRef


class BackupSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: BackupName
    namespace: Namespace = "default"
    app: AppName
    schedule: Annotated[str, AfterValidator(lambda v: validate_cron(v))]
    time_zone: Annotated[str, AfterValidator(_time_zone)] | None = None
    source_pvc: ClaimName | None = None
    destination_pvc: ClaimName
    destination_path: Annotated[
        str, AfterValidator(lambda v: validate_volume_path(v, "destination path"))
    ] = "."
    function: Literal["tar", "rsync", "pg_dump", "mysqldump", "custom"] = "tar"
    image: Image | None = None  # required for custom; overrides the preset's image otherwise
    command: list[str] = Field(
        default_factory=list
    )  # custom only: argv run with BACKUP_SOURCE/BACKUP_DEST/… in the env
    database: DatabaseSource | None = None
    keep_last: int = Field(default=7, ge=1, le=1000)
    suspend: bool = False
    successful_jobs_history_limit: int = Field(default=3, ge=0, le=100)
    failed_jobs_history_limit: int = Field(default=3, ge=0, le=100)
    scheduling: SchedulingSpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BackupSpec:
        if self.function in ("tar", "rsync") and self.source_pvc is None:
            raise ValueError(f"the {self.function} function needs a source volume claim")
        if self.function in ("pg_dump", "mysqldump") and self.database is None:
            raise ValueError(f"the {self.function} function needs the database connection")
        if self.function != "custom" and self.command:
            raise ValueError("a command is only used by the custom function")
        if self.function == "custom" and (self.image is None or not self.command):
            raise ValueError("the custom function needs an image and a command")
        if self.source_pvc is not None and self.source_pvc == self.destination_pvc:
            raise ValueError("the source and the destination must be different volume claims")
        return self
