"""AppSpec validation and the application builders' semantics."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hks_tui.manifests import (
    AppSpec,
    ClaimSpec,
    EnvVarSpec,
    IngressSpec,
    KeyRef,
    PortSpec,
    ProbeSpec,
    ResourceSpec,
    SchedulingSpec,
    build_app,
    to_yaml,
)

MANAGED = {"app.kubernetes.io/name": "shop", "app.kubernetes.io/managed-by": "hks-tui"}


def full_spec(**overrides: Any) -> AppSpec:
    data: dict[str, Any] = {
        "name": "shop",
        "namespace": "team-a",
        "image": "ghcr.io/acme/shop:2.0",
        "replicas": 3,
        "ports": [PortSpec(name="http", port=8080, service_port=80), PortSpec(name="metrics", port=9090)],
        "resources": ResourceSpec(
            cpu_request="250m", cpu_limit="1", memory_request="256Mi", memory_limit="1Gi"
        ),
        "probe": ProbeSpec(kind="http", port="http", path="/healthz"),
        "env": [
            EnvVarSpec(name="MODE", value="prod"),
            EnvVarSpec(name="DB_PASSWORD", secret=KeyRef(name="db", key="password")),
            EnvVarSpec(name="FEATURES", config_map=KeyRef(name="shop-config", key="features.json")),
        ],
        "ingress": IngressSpec(host="shop.example.com", tls_secret="shop-tls"),
        "scheduling": SchedulingSpec(workspace="prod", pool="web"),
        "command": ["/app/server"],
        "args": ["--port", "8080"],
        "image_pull_secret": "ghcr",
    }
    data.update(overrides)
    return AppSpec(**data)


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["kind"]: obj for obj in objects}


def test_stateless_app_objects() -> None:
    objects = build_app(full_spec())
    assert [o["kind"] for o in objects] == ["Service", "Deployment", "Ingress"]
    kinds = by_kind(objects)
    for obj in objects:
        assert obj["metadata"]["labels"] == MANAGED
        assert obj["metadata"]["namespace"] == "team-a"
    dep = kinds["Deployment"]["spec"]
    assert dep["replicas"] == 3
    assert dep["selector"]["matchLabels"] == MANAGED
    pod = dep["template"]["spec"]
    assert pod["nodeSelector"] == {"hks.io/pool": "web"}
    assert pod["tolerations"] == [
        {"key": "hks.io/workspace", "operator": "Equal", "value": "prod", "effect": "NoSchedule"}
    ]
    assert pod["imagePullSecrets"] == [{"name": "ghcr"}]
    container = pod["containers"][0]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["env"][1] == {
        "name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
    }
    assert container["env"][2]["valueFrom"]["configMapKeyRef"]["key"] == "features.json"
    assert container["ports"][0] == {"name": "http", "containerPort": 8080, "protocol": "TCP"}
    svc = kinds["Service"]["spec"]
    assert svc["ports"][0] == {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    assert svc["selector"] == MANAGED
    ing = kinds["Ingress"]["spec"]
    assert ing["rules"][0]["http"]["paths"][0]["backend"] == {
        "service": {"name": "shop", "port": {"name": "http"}}
    }
    assert ing["tls"] == [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]


def test_any_dedicated_node_and_shared_plan() -> None:
    pod = by_kind(build_app(full_spec(scheduling=SchedulingSpec(workspace="prod"))))["Deployment"]["spec"][
        "template"
    ]["spec"]
    assert pod["nodeSelector"] == {"hks.io/workspace": "prod"}
    pod = by_kind(build_app(full_spec(scheduling=None)))["Deployment"]["spec"]["template"]["spec"]
    assert "nodeSelector" not in pod and "tolerations" not in pod


def test_stateful_app_with_claims_and_tcp_probe() -> None:
    spec = full_spec(
        kind="StatefulSet",
        ingress=None,
        probe=ProbeSpec(kind="tcp", port=8080),
        volumes=[
            ClaimSpec(name="data", size="10Gi", mount_path="/var/lib/data", storage_class="hks-prod-media")
        ],
    )
    objects = build_app(spec)
    assert [o["kind"] for o in objects] == ["Service", "StatefulSet"]
    sts = objects[1]["spec"]
    assert sts["serviceName"] == "shop"
    claim = sts["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert claim["spec"]["storageClassName"] == "hks-prod-media"
    container = sts["template"]["spec"]["containers"][0]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/var/lib/data"}]
    assert container["livenessProbe"]["tcpSocket"] == {"port": 8080}


def test_app_without_ports_has_no_service() -> None:
    objects = build_app(AppSpec(name="worker", image="busybox", ports=[], command=["sleep", "3600"]))
    assert [o["kind"] for o in objects] == ["Deployment"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Shop"}, "RFC-1035"),
        ({"name": "1shop"}, "RFC-1035"),
        ({"image": "ghcr.io/Acme/shop"}, "lower-case"),
        ({"replicas": 101}, "less than or equal to 100"),
        ({"ports": [PortSpec(name="http", port=80), PortSpec(name="http", port=81)]}, "used twice"),
        ({"ports": [PortSpec(name="a", port=80), PortSpec(name="b", port=80)]}, "80/TCP"),
        ({"ports": []}, "an ingress needs at least one port"),
        ({"ingress": IngressSpec(host="x.example.com", port="grpc")}, "not one of the ports"),
        ({"probe": ProbeSpec(kind="http", port="admin")}, "health check port"),
        ({"volumes": [ClaimSpec(name="d", size="1Gi", mount_path="/d")]}, "Stateful"),
        ({"resources": ResourceSpec(cpu_request="2", cpu_limit="500m")}, "larger than its limit"),
        ({"env": [EnvVarSpec(name="A", value="1"), EnvVarSpec(name="A", value="2")]}, "unique"),
        ({"namespace": "Team"}, "DNS-1123 label"),
    ],
)
def test_bad_specs_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        full_spec(**overrides)


def test_bad_parts_refused() -> None:
    for build in (
        lambda: PortSpec(name="http", port=0),
        lambda: PortSpec(name="HTTP", port=80),
        lambda: EnvVarSpec(name="1A", value="x"),
        lambda: EnvVarSpec(name="A"),
        lambda: EnvVarSpec(name="A", value="x", secret=KeyRef(name="s", key="k")),
        lambda: ClaimSpec(name="d", size="10", mount_path="/d"),
        lambda: ClaimSpec(name="d", size="1Gi", mount_path="/a/../b"),
        lambda: ProbeSpec(kind="http", port=80, path="healthz"),
        lambda: IngressSpec(host="Shop.example.com"),
        lambda: ResourceSpec(cpu_request="1Gi"),
        lambda: PortSpec.model_validate({"name": "http", "port": 80, "extra": 1}),
    ):
        with pytest.raises(ValidationError):
            build()


def test_spec_is_exportable_and_yaml_stable() -> None:
    spec = full_spec()
    again = AppSpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    text = to_yaml(build_app(spec))
    assert text == to_yaml(build_app(again))
    assert text.startswith("---\napiVersion: v1\nkind: Service\nmetadata:")
    assert text.count("\n---\n") == 2


@given(
    st.from_regex(r"[a-z]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True),
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=1, max_value=65535),
)
@settings(max_examples=60, deadline=None)
def test_builder_property(name: str, replicas: int, port: int) -> None:
    spec = AppSpec(name=name, image="nginx", replicas=replicas, ports=[PortSpec(name="main", port=port)])
    service, deployment = build_app(spec)
    assert deployment["metadata"]["name"] == service["metadata"]["name"] == name
    assert deployment["spec"]["template"]["metadata"]["labels"] == service["spec"]["selector"]


def test_spec_yaml_export_and_import() -> None:
    from hks_tui.manifests import dump_spec, load_spec

    spec = full_spec()
    text = dump_spec(spec)
    assert text.startswith("name: shop\n")
    assert load_spec(AppSpec, text) == spec
    with pytest.raises(ValueError, match="mapping"):
        load_spec(AppSpec, "- a\n- b\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_spec(AppSpec, "name: [unclosed\n")
    with pytest.raises(ValidationError, match="RFC-1035"):
        load_spec(AppSpec, text.replace("name: shop", "name: Shop", 1))
