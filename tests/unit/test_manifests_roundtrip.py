"""Every object a builder emits deserialises into the `kubernetes` client models and back, losslessly."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from hks_tui.manifests import (
    AppSpec,
    BackupSpec,
    ClaimSpec,
    DatabaseSource,
    EnvVarSpec,
    IngressSpec,
    KeyRef,
    PortSpec,
    ProbeSpec,
    ResourceSpec,
    SchedulingSpec,
    VolumeSpec,
    build_app,
    build_backup_cronjob,
    build_persistent_volume,
    build_storage_quota,
    build_volume,
    build_volume_claim,
    to_yaml,
)

API = ApiClient()


def _objects() -> list[dict[str, Any]]:
    ports = [PortSpec(name="http", port=8080, service_port=80), PortSpec(name="dns", port=53, protocol="UDP")]
    app = AppSpec(
        name="shop",
        image="ghcr.io/acme/shop:2.0",
        ports=ports,
        resources=ResourceSpec(cpu_request="250m", memory_limit="1Gi"),
        probe=ProbeSpec(kind="http", port="http", path="/healthz"),
        env=[EnvVarSpec(name="A", value="1"), EnvVarSpec(name="B", secret=KeyRef(name="s", key="k"))],
        ingress=IngressSpec(host="shop.example.com", tls_secret="tls", class_name="traefik"),
        scheduling=SchedulingSpec(workspace="prod", pool="web"),
    )
    stateful = AppSpec(
        name="db",
        kind="StatefulSet",
        image="postgres:16.4",
        ports=[PortSpec(name="pg", port=5432)],
        probe=ProbeSpec(kind="tcp", port="pg"),
        volumes=[
            ClaimSpec(name="data", size="10Gi", mount_path="/var/lib/postgresql/data", storage_class="fast")
        ],
        env=[EnvVarSpec(name="POSTGRES_DB", config_map=KeyRef(name="cfg", key="db"))],
    )
    volume = VolumeSpec(
        name="media", workspace="prod", size="20Gi", region="jp-east", zone="pve1", storage="local-lvm"
    )
    backups = [
        BackupSpec(
            name="n",
            app="shop",
            schedule="@daily",
            source_pvc="media",
            destination_pvc="backups",
            time_zone="UTC",
        ),
        BackupSpec(
            name="pg",
            app="db",
            schedule="*/30 * * * *",
            function="pg_dump",
            destination_pvc="backups",
            database=DatabaseSource(
                host="db", database="shop", user="u", password_secret=KeyRef(name="pg", key="pw")
            ),
            scheduling=SchedulingSpec(workspace="prod"),
        ),
    ]
    return [
        *build_app(app),
        *build_app(stateful),
        *build_volume(volume),
        build_persistent_volume(volume, claim_namespace="default", claim_name="media"),
        build_volume_claim(volume, "default"),
        build_storage_quota(
            "default", requests_storage="100Gi", persistent_volume_claims=5, per_class={"fast": "50Gi"}
        ),
        *(build_backup_cronjob(b) for b in backups),
    ]


OBJECTS = _objects()


@pytest.mark.parametrize("obj", OBJECTS, ids=[f"{o['kind']}-{o['metadata']['name']}" for o in OBJECTS])
def test_lossless_round_trip_through_client_models(obj: dict[str, Any]) -> None:
    original = copy.deepcopy(obj)
    model = API._ApiClient__deserialize(obj, f"V1{obj['kind']}")  # type: ignore[attr-defined]
    assert type(model).__name__ == f"V1{obj['kind']}"
    assert API.sanitize_for_serialization(model) == original
    assert obj == original  # builders' output is not mutated


def test_client_side_validation_catches_missing_required_fields() -> None:
    """The round trip is a real check: the models refuse an object missing a required field."""
    broken = copy.deepcopy(next(o for o in OBJECTS if o["kind"] == "Deployment"))
    del broken["spec"]["selector"]
    with pytest.raises(ValueError, match="selector"):
        API._ApiClient__deserialize(broken, "V1Deployment")  # type: ignore[attr-defined]
    extra = copy.deepcopy(next(o for o in OBJECTS if o["kind"] == "Service"))
    extra["spec"]["portz"] = []
    model = API._ApiClient__deserialize(extra, "V1Service")  # type: ignore[attr-defined]
    assert API.sanitize_for_serialization(model) != extra  # an unknown key would be lost


def test_yaml_rendering_parses_back() -> None:
    text = to_yaml(OBJECTS)
    assert list(yaml.safe_load_all(text)) == OBJECTS
    assert to_yaml(OBJECTS) == text
    single = to_yaml(OBJECTS[0])
    assert not single.startswith("---") and yaml.safe_load(single) == OBJECTS[0]
    assert "&id" not in text and "*id" not in text  # no YAML anchors/aliases
    cronjob = to_yaml(next(o for o in OBJECTS if o["kind"] == "CronJob"))
    assert "- |\n" in cronjob  # the script is a readable block scalar
