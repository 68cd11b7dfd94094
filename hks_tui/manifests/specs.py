"""Application spec (the wizard's draft and ``hks-tui apps create -f``): pydantic models, strictly validated.

Every string field runs through :mod:`hks_tui.validation`, so a spec that constructs is one the builders
can turn into objects the API server accepts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from hks_tui.validation import (
    check_unique_ports,
    validate_config_key,
    validate_cpu,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_env_name,
    validate_image,
    validate_label_value,
    validate_memory,
    validate_mount_path,
    validate_port_name,
    validate_rfc1035_label,
    validate_size,
)
from hks_tui.validation.quantities import parse_quantity

AppName = Annotated[str, AfterValidator(lambda v: validate_rfc1035_label(v, "application name"))]
Namespace = Annotated[str, AfterValidator(lambda v: validate_dns1123_label(v, "project"))]
ObjectName = Annotated[str, AfterValidator(lambda v: validate_dns1123_subdomain(v, "name"))]
LabelName = Annotated[str, AfterValidator(lambda v: validate_dns1123_label(v, "name"))]
PortName = Annotated[str, AfterValidator(lambda v: validate_port_name(v))]
Cpu = Annotated[str, AfterValidator(lambda v: validate_cpu(v))]
Memory = Annotated[str, AfterValidator(lambda v: validate_memory(v))]
Size = Annotated[str, AfterValidator(lambda v: validate_size(v))]
Image = Annotated[str, AfterValidator(lambda v: validate_image(v))]
MountPath = Annotated[str, AfterValidator(lambda v: validate_mount_path(v))]
EnvName = Annotated[str, AfterValidator(lambda v: validate_env_name(v))]
ConfigKey = Annotated[str, AfterValidator(lambda v: validate_config_key(v))]
Port = Annotated[int, Field(ge=1, le=65535)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortSpec(_Spec):
    name: PortName
    port: Port
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    service_port: Port | None = None  # the Service's port; defaults to the container port


class ResourceSpec(_Spec):
    cpu_request: Cpu | None = None
    cpu_limit: Cpu | None = None
    memory_request: Memory | None = None
    memory_limit: Memory | None = None


class ProbeSpec(_Spec):
    kind: Literal["http", "tcp"]
    port: PortName | Port
    path: str = "/"
    initial_delay_seconds: int = Field(default=5, ge=0, le=3600)
    period_seconds: int = Field(default=10, ge=1, le=3600)
    failure_threshold: int = Field(default=3, ge=1, le=100)

    @model_validator(mode="after")
    def _path(self) -> ProbeSpec:
        if self.kind == "http" and (not self.path.startswith("/") or any(c.isspace() for c in self.path)):
            raise ValueError("health check path must start with '/' and contain no spaces")
        return self


class KeyRef(_Spec):
    name: ObjectName
    key: ConfigKey


class EnvVarSpec(_Spec):
    """A literal value, or a value from a Secret key or a ConfigMap key (exactly one)."""

    name: EnvName
    value: str | None = None
    secret: KeyRef | None = None
    config_map: KeyRef | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EnvVarSpec:
        sources = [self.value is not None, self.secret is not None, self.config_map is not None]
        if sum(sources) != 1:
            raise ValueError(
                f"environment variable {self.name}: give exactly one of value, secret or config_map"
            )
        return self


class IngressSpec(_Spec):
    host: Annotated[str, AfterValidator(lambda v: validate_dns1123_subdomain(v, "ingress host"))]
    path: str = "/"
    port: PortName | None = None  # which service port; the first port when omitted
    tls_secret: ObjectName | None = None
    class_name: ObjectName | None = None

    @model_validator(mode="after")
    def _path(self) -> IngressSpec:
        if not self.path.startswith("/") or any(c.isspace() for c in self.path):
            raise ValueError("ingress path must start with '/' and contain no spaces")
        return self


class ClaimSpec(_Spec):
    """A StatefulSet volume claim template (one PVC per replica)."""

    name: LabelName
    size: Size
    mount_path: MountPath
    storage_class: ObjectName | None = None


class SchedulingSpec(_Spec):
    """Dedicated-plan placement: a node pool, or any dedicated node of the workspace (pool None)."""

    workspace: Annotated[
        str, AfterValidator(lambda v: validate_label_value(validate_dns1123_label(v, "workspace")))
    ]
    pool: Annotated[str, AfterValidator(lambda v: validate_dns1123_label(v, "node pool"))] | None = None


class AppSpec(_Spec):
    name: AppName
    namespace: Namespace = "default"
    kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    image: Image
    image_pull_secret: ObjectName | None = None
    replicas: int = Field(default=1, ge=0, le=100)
    ports: list[PortSpec] = Field(default_factory=list)
    resources: ResourceSpec = ResourceSpec()
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    probe: ProbeSpec | None = None
    env: list[EnvVarSpec] = Field(default_factory=list)
    ingress: IngressSpec | None = None
    volumes: list[ClaimSpec] = Field(default_factory=list)
    scheduling: SchedulingSpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AppSpec:
        check_unique_ports((p.name, p.port, p.protocol) for p in self.ports)
        service_ports = [(p.name, p.service_port or p.port, p.protocol) for p in self.ports]
        check_unique_ports(service_ports, "service ports")
        names = {p.name for p in self.ports}
        if self.ingress is not None:
            if not self.ports:
                raise ValueError("an ingress needs at least one port")
            if self.ingress.port is not None and self.ingress.port not in names:
                raise ValueError(f"ingress port {self.ingress.port!r} is not one of the ports")
        if self.probe is not None and isinstance(self.probe.port, str) and self.probe.port not in names:
            raise ValueError(f"health check port {self.probe.port!r} is not one of the ports")
        if self.volumes and self.kind != "StatefulSet":
            raise ValueError("volume claims need the Stateful type (StatefulSet)")
        claims = [c.name for c in self.volumes]
        if len(set(claims)) != len(claims):
            raise ValueError("volume claim names must be unique")
        mounts = [c.mount_path for c in self.volumes]
        if len(set(mounts)) != len(mounts):
            raise ValueError("two volume claims use the same mount path")
        envs = [e.name for e in self.env]
        if len(set(envs)) != len(envs):
            raise ValueError("environment variable names must be unique")
        r = self.resources
        _check_le(r.cpu_request, r.cpu_limit, "CPU")
        _check_le(r.memory_request, r.memory_limit, "memory")
        return self


def _check_le(request: str | None, limit: str | None, what: str) -> None:
    if request is not None and limit is not None and parse_quantity(request) > parse_quantity(limit):
        raise ValueError(f"{what} request {request} is larger than its limit {limit}")
