"""Builders for the seed's infrastructure objects (K3s system deployments, the vCluster control planes,
the CSI StorageClass). Tenant apps, volumes and backups use the console's own builders
(:mod:`hks_tui.manifests`), so the demo looks exactly like what the console creates."""

from __future__ import annotations

from typing import Any

MANAGED = {"app.kubernetes.io/managed-by": "hks-tui"}
WS_TOLERATION = "hks.io/workspace"


def container(
    name: str,
    image: str,
    cpu: str,
    memory: str,
    port: int | None = None,
    env: dict[str, str] | None = None,
    limits: bool = True,
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": name,
        "image": image,
        "resources": {"requests": {"cpu": cpu, "memory": memory}},
    }
    if limits:
        c["resources"]["limits"] = {"memory": memory}
    if port:
        c["ports"] = [{"containerPort": port, "name": "http"}]
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return c


def placement(workspace: str | None, pool: str = "default") -> dict[str, Any]:
    """nodeSelector + toleration for a Dedicated-plan workspace's pool (what the console writes)."""
    if workspace is None:
        return {}
    return {
        "nodeSelector": {"hks.io/pool": pool},
        "tolerations": [
            {"key": WS_TOLERATION, "operator": "Equal", "value": workspace, "effect": "NoSchedule"}
        ],
    }


def deployment(
    name: str,
    replicas: int,
    containers: list[dict[str, Any]],
    *,
    workspace: str | None = None,
    labels: dict[str, str] | None = None,
    namespace: str = "default",
) -> dict[str, Any]:
    sel = {"app.kubernetes.io/name": name}
    meta_labels = {**sel, **MANAGED, **(labels or {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": meta_labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": sel},
            "template": {
                "metadata": {"labels": meta_labels},
                "spec": {"containers": containers, **placement(workspace)},
            },
        },
    }


def service(name: str, port: int, target: int, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": name, **MANAGED},
        },
        "spec": {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": port, "targetPort": target}],
        },
    }


def storage_class(
    name: str,
    storage: str,
    *,
    binding: str = "WaitForFirstConsumer",
    reclaim: str = "Delete",
    labels: dict[str, str] | None = None,
    default: bool = False,
    region: str | None = None,
) -> dict[str, Any]:
    sc: dict[str, Any] = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "provisioner": "csi.proxmox.sinextra.dev",
        "parameters": {"storage": storage, "csi.storage.k8s.io/fstype": "ext4", "ssd": "true"},
        "reclaimPolicy": reclaim,
        "volumeBindingMode": binding,
        "allowVolumeExpansion": True,
    }
    if default:
        sc["metadata"]["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    if region:
        sc["allowedTopologies"] = [
            {"matchLabelExpressions": [{"key": "topology.kubernetes.io/region", "values": [region]}]}
        ]
    return sc
