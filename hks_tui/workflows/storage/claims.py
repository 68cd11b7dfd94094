"""Which volume claims belong to an application (its pods' and workloads' PVC volumes)."""

from __future__ import annotations

from typing import Any

from hks_tui.manifests.labels import APP, NAME


def _claims_of_pod_spec(pod_spec: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for vol in pod_spec.get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            names.add(str(claim))
    return names


def app_claims(kube: Any, namespace: str, app: str) -> set[str]:
    """Claims mounted by app ``app`` in ``namespace``: Deployment/StatefulSet pod templates named ``app``
    or labelled ``app.kubernetes.io/name=<app>`` / ``hks.io/app=<app>``, plus StatefulSet claim templates."""
    claims: set[str] = set()
    for resource in ("deployments", "statefulsets"):
        items = kube.list_raw(resource, namespace=namespace).get("items") or []
        for item in items:
            meta = item.get("metadata") or {}
            labels = meta.get("labels") or {}
            if app not in (meta.get("name"), labels.get(NAME), labels.get(APP)):
                continue
            spec = item.get("spec") or {}
            claims |= _claims_of_pod_spec((spec.get("template") or {}).get("spec") or {})
            replicas = int(spec.get("replicas") or 1)
            for template in spec.get("volumeClaimTemplates") or []:
                base = (template.get("metadata") or {}).get("name")
                claims |= {f"{base}-{meta.get('name')}-{i}" for i in range(replicas)}
    return claims
