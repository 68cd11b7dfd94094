"""Builders for the seed's Kubernetes objects (plain dicts as a client would POST them)."""

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


def statefulset(
    name: str,
    replicas: int,
    containers: list[dict[str, Any]],
    claim: str,
    size: str,
    storage_class: str,
    *,
    workspace: str | None = None,
    namespace: str = "default",
) -> dict[str, Any]:
    sel = {"app.kubernetes.io/name": name}
    labels = {**sel, **MANAGED}
    for c in containers:
        c.setdefault("volumeMounts", []).append({"name": claim, "mountPath": "/var/lib/data"})
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": sel},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": containers, **placement(workspace)},
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": claim},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": storage_class,
                        "resources": {"requests": {"storage": size}},
                    },
                }
            ],
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


def static_volume(
    name: str,
    workspace: str,
    size: str,
    handle: str,
    region: str,
    zone: str | None,
    storage: str,
    namespace: str = "default",
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A console-created Storage Volume: StorageClass + PV (pre-bound by claimRef) + PVC."""
    labels = {"hks.io/volume": name, "hks.io/workspace": workspace, **MANAGED}
    sc_name = f"hks-{workspace}-{name}"
    sc = storage_class(sc_name, storage, binding="Immediate", reclaim="Retain", labels=labels)
    exprs = [{"key": "topology.kubernetes.io/region", "operator": "In", "values": [region]}]
    if zone:
        exprs.append({"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]})
    pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": sc_name,
            "labels": labels,
            "annotations": {"pv.kubernetes.io/provisioned-by": "csi.proxmox.sinextra.dev"},
        },
        "spec": {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": sc_name,
            "volumeMode": "Filesystem",
            "claimRef": {
                "kind": "PersistentVolumeClaim",
                "apiVersion": "v1",
                "namespace": namespace,
                "name": name,
            },
            "csi": {
                "driver": "csi.proxmox.sinextra.dev",
                "volumeHandle": handle,
                "fsType": "ext4",
                "volumeAttributes": {"storage": storage},
            },
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": exprs}]}},
        },
    }
    pvc = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": sc_name,
            "volumeName": sc_name,
            "resources": {"requests": {"storage": size}},
        },
    }
    return sc, pv, pvc


def backup_cronjob(
    name: str, schedule: str, source: str, target: str, workspace: str, namespace: str = "default"
) -> dict[str, Any]:
    labels = {"hks.io/backup": name, "hks.io/workspace": workspace, **MANAGED}
    pod_spec = {
        "restartPolicy": "Never",
        "containers": [
            {
                "name": "backup",
                "image": "ghcr.io/hexabase/hks-backup:1.4.0",
                "args": ["--source", "/source", "--target", f"/backup/{source}"],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "volumeMounts": [
                    {"name": "source", "mountPath": "/source", "readOnly": True},
                    {"name": "backup", "mountPath": "/backup"},
                ],
            }
        ],
        "volumes": [
            {"name": "source", "persistentVolumeClaim": {"claimName": source, "readOnly": True}},
            {"name": "backup", "persistentVolumeClaim": {"claimName": target}},
        ],
        **placement(workspace),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": {"hks.io/backup-source": source, "hks.io/backup-target": target},
        },
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {"labels": labels},
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "metadata": {"labels": labels, "annotations": {"hks.io/backup-target": "backup"}},
                        "spec": pod_spec,
                    },
                },
            },
        },
    }
