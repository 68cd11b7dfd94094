"""``AppSpec`` → Service + Deployment/StatefulSet + optional Ingress, as API JSON (camelCase dicts)."""

from __future__ import annotations

from typing import Any

from hks_tui.manifests.labels import POOL, WORKSPACE, app_labels, workspace_toleration
from hks_tui.manifests.specs import AppSpec, EnvVarSpec, ProbeSpec


def _metadata(spec: AppSpec, name: str | None = None) -> dict[str, Any]:
    return {"name": name or spec.name, "namespace": spec.namespace, "labels": app_labels(spec.name)}


def _env(item: EnvVarSpec) -> dict[str, Any]:
    if item.secret is not None:
        return {
            "name": item.name,
            "valueFrom": {"secretKeyRef": {"name": item.secret.name, "key": item.secret.key}},
        }
    if item.config_map is not None:
        ref = {"name": item.config_map.name, "key": item.config_map.key}
        return {"name": item.name, "valueFrom": {"configMapKeyRef": ref}}
    return {"name": item.name, "value": item.value}


def _probe(probe: ProbeSpec) -> dict[str, Any]:
    action: dict[str, Any] = (
        {"httpGet": {"path": probe.path, "port": probe.port}}
        if probe.kind == "http"
        else {"tcpSocket": {"port": probe.port}}
    )
    return {
        **action,
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "failureThreshold": probe.failure_threshold,
    }


def _resources(spec: AppSpec) -> dict[str, Any]:
    r = spec.resources
    requests = {k: v for k, v in (("cpu", r.cpu_request), ("memory", r.memory_request)) if v is not None}
    limits = {k: v for k, v in (("cpu", r.cpu_limit), ("memory", r.memory_limit)) if v is not None}
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return out


def build_container(spec: AppSpec) -> dict[str, Any]:
    container: dict[str, Any] = {"name": spec.name, "image": spec.image}
    if spec.command:
        container["command"] = list(spec.command)
    if spec.args:
        container["args"] = list(spec.args)
    if spec.ports:
        container["ports"] = [
            {"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in spec.ports
        ]
    if spec.env:
        container["env"] = [_env(item) for item in spec.env]
    resources = _resources(spec)
    if resources:
        container["resources"] = resources
    if spec.probe is not None:
        container["readinessProbe"] = _probe(spec.probe)
        container["livenessProbe"] = {
            **_probe(spec.probe),
            "initialDelaySeconds": spec.probe.initial_delay_seconds + 10,
        }
    if spec.volumes:
        container["volumeMounts"] = [{"name": c.name, "mountPath": c.mount_path} for c in spec.volumes]
    return container


def build_pod_template(spec: AppSpec) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [build_container(spec)]}
    if spec.image_pull_secret:
        pod["imagePullSecrets"] = [{"name": spec.image_pull_secret}]
    if spec.scheduling is not None:
        ws = spec.scheduling.workspace
        pool = spec.scheduling.pool
        pod["nodeSelector"] = {POOL: pool} if pool else {WORKSPACE: ws}
        pod["tolerations"] = [workspace_toleration(ws)]
    return {"metadata": {"labels": app_labels(spec.name)}, "spec": pod}


def build_workload(spec: AppSpec) -> dict[str, Any]:
    """The Deployment or StatefulSet."""
    body: dict[str, Any] = {
        "replicas": spec.replicas,
        "selector": {"matchLabels": app_labels(spec.name)},
        "template": build_pod_template(spec),
    }
    if spec.kind == "StatefulSet":
        body = {"serviceName": spec.name, **body}
        if spec.volumes:
            body["volumeClaimTemplates"] = [_claim_template(spec, claim) for claim in spec.volumes]
    return {"apiVersion": "apps/v1", "kind": spec.kind, "metadata": _metadata(spec), "spec": body}


def _claim_template(spec: AppSpec, claim: Any) -> dict[str, Any]:
    claim_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": claim.size}},
    }
    if claim.storage_class:
        claim_spec["storageClassName"] = claim.storage_class
    return {"metadata": {"name": claim.name, "labels": app_labels(spec.name)}, "spec": claim_spec}


def build_service(spec: AppSpec) -> dict[str, Any] | None:
    """A ClusterIP Service for the ports (None when the app exposes no port)."""
    if not spec.ports:
        return None
    ports = [
        {"name": p.name, "port": p.service_port or p.port, "targetPort": p.name, "protocol": p.protocol}
        for p in spec.ports
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec),
        "spec": {"type": "ClusterIP", "selector": app_labels(spec.name), "ports": ports},
    }


def build_ingress(spec: AppSpec) -> dict[str, Any] | None:
    if spec.ingress is None:
        return None
    ing = spec.ingress
    port_name = ing.port or spec.ports[0].name
    rule = {
        "host": ing.host,
        "http": {
            "paths": [
                {
                    "path": ing.path,
                    "pathType": "Prefix",
                    "backend": {"service": {"name": spec.name, "port": {"name": port_name}}},
                }
            ]
        },
    }
    body: dict[str, Any] = {}
    if ing.class_name:
        body["ingressClassName"] = ing.class_name
    body["rules"] = [rule]
    if ing.tls_secret:
        body["tls"] = [{"hosts": [ing.host], "secretName": ing.tls_secret}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _metadata(spec),
        "spec": body,
    }


def build_app(spec: AppSpec) -> list[dict[str, Any]]:
    """All objects of the application, in apply order: Service, workload, Ingress."""
    objects = [build_service(spec), build_workload(spec), build_ingress(spec)]
    return [obj for obj in objects if obj is not None]
