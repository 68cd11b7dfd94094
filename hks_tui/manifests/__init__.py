"""Pure manifest builders: domain specs → Kubernetes objects as API JSON dicts (no I/O, no Textual)."""

from hks_tui.manifests.apps import build_app, build_ingress, build_service, build_workload
from hks_tui.manifests.backup_commands import PRESET_IMAGES, backup_script
from hks_tui.manifests.backup_spec import BackupSpec, DatabaseSource
from hks_tui.manifests.backups import backup_spec_from_cronjob, build_backup_cronjob
from hks_tui.manifests.quotas import QuotaCheck, build_storage_quota, check_quota_ceiling
from hks_tui.manifests.render import dump_spec, load_spec, to_yaml
from hks_tui.manifests.specs import (
    AppSpec,
    ClaimSpec,
    EnvVarSpec,
    IngressSpec,
    KeyRef,
    PortSpec,
    ProbeSpec,
    ResourceSpec,
    SchedulingSpec,
)
from hks_tui.manifests.volumes import (
    VolumeSpec,
    build_persistent_volume,
    build_storage_class,
    build_volume,
    build_volume_claim,
    claim_resize_patch,
    volume_capacity_patch,
)

__all__ = [
    "PRESET_IMAGES",
    "AppSpec",
    "BackupSpec",
    "ClaimSpec",
    "DatabaseSource",
    "EnvVarSpec",
    "IngressSpec",
    "KeyRef",
    "PortSpec",
    "ProbeSpec",
    "QuotaCheck",
    "ResourceSpec",
    "SchedulingSpec",
    "VolumeSpec",
    "backup_script",
    "backup_spec_from_cronjob",
    "build_app",
    "build_backup_cronjob",
    "build_ingress",
    "build_persistent_volume",
    "build_service",
    "build_storage_class",
    "build_storage_quota",
    "build_volume",
    "build_volume_claim",
    "build_workload",
    "check_quota_ceiling",
    "claim_resize_patch",
    "dump_spec",
    "load_spec",
    "to_yaml",
    "volume_capacity_patch",
]
