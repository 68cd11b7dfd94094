"""Drain a host node through the Eviction API, honouring PodDisruptionBudgets.

Skipped: DaemonSet pods and mirror (static) pods, and pods that already finished. Everything else on the
node is evicted — vCluster-synced tenant pods are host pods in the vCluster's host namespace, so evicting
them makes the tenant's controllers reschedule. A 429 (a PDB does not allow the disruption now) is waited
on and retried until the drain timeout; then the step stops with the blocking PDBs named
(:class:`DrainBlockedError`, not retried: the workflow pauses, resumable). ``params["force"]`` (an explicit,
audited override) deletes the pods instead of evicting them, so PDBs are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from hks_tui.clients.errors import BusyError, HksError, NotFoundError
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.nodes.common import bounded_wait, node_deps, node_name, read, timing

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


class DrainBlockedError(HksError):
    """PodDisruptionBudgets kept refusing evictions for the whole drain timeout."""

    retryable = False
    default_next_step = (
        "Scale the application up or wait, then resume the workflow; or resume it with the force "
        "override (deletes the pods, skipping the budgets)."
    )


def skip_reason(pod: Mapping[str, Any]) -> str | None:
    meta = pod.get("metadata") or {}
    if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
        return "mirror pod"
    if any(o.get("kind") == "DaemonSet" and o.get("controller") for o in meta.get("ownerReferences") or []):
        return "DaemonSet pod"
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return "finished"
    return None


def _selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if not selector:
        return False  # a PDB with an empty/null selector selects nothing in policy/v1 for our purpose
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def blocking_pdbs(ctx: StepContext, pod: Mapping[str, Any]) -> list[str]:
    """``namespace/name`` of the PDBs selecting ``pod`` (empty when they cannot be read)."""
    host = node_deps(ctx.deps).host
    meta = pod.get("metadata") or {}
    namespace = str(meta.get("namespace", ""))
    try:
        pdbs = read(lambda: host.list_raw("poddisruptionbudgets", namespace=namespace)).get("items", [])
    except HksError:
        return []
    labels = meta.get("labels") or {}
    return [
        f"{namespace}/{p['metadata']['name']}"
        for p in pdbs
        if _selector_matches((p.get("spec") or {}).get("selector"), labels)
    ]


def _evict(ctx: StepContext, pod: Mapping[str, Any]) -> None:
    from kubernetes import client

    host = node_deps(ctx.deps).host
    name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
    body = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=namespace))
    host.call(
        host.core.create_namespaced_pod_eviction,
        name,
        namespace,
        body,
        what=f"Evict pod {namespace}/{name}",
        action="pod.evict",
        target=f"{namespace}/{name}",
    )


def _delete(ctx: StepContext, pod: Mapping[str, Any]) -> None:
    host = node_deps(ctx.deps).host
    name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
    host.call(
        host.core.delete_namespaced_pod,
        name,
        namespace,
        what=f"Delete pod {namespace}/{name} (forced drain)",
        action="pod.delete.forced",
        target=f"{namespace}/{name}",
        idempotent=True,
    )


def drain(ctx: StepContext) -> dict[str, Any]:
    host = node_deps(ctx.deps).host
    name = node_name(ctx)
    force = bool(ctx.params.get("force"))
    limit = timing(ctx, "drain_timeout")
    deadline = bounded_wait(ctx, limit)
    evicted: set[str] = set()
    skipped: dict[str, str] = {}
    if force:
        ctx.emit("force override: pods are deleted, PodDisruptionBudgets are not honoured")
    while True:
        pods = read(lambda: host.list_raw("pods", field_selector=f"spec.nodeName={name}")).get("items", [])
        pending = []
        for pod in pods:
            key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
            why = skip_reason(pod)
            if why is not None:
                skipped[key] = why
                continue
            pending.append(pod)
        if not pending:
            return {"evicted": sorted(evicted), "skipped": skipped, "forced": force}
        blocked: dict[str, list[str]] = {}
        for pod in pending:
            key = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
            if pod["metadata"].get("deletionTimestamp"):
                continue  # terminating: wait for it to go
            try:
                (_delete if force else _evict)(ctx, pod)
            except NotFoundError:
                pass
            except BusyError:
                blocked[key] = blocking_pdbs(ctx, pod)
                continue
            if key not in evicted:
                ctx.emit(f"{'deleted' if force else 'evicted'} {key}")
            evicted.add(key)
        if time.monotonic() >= deadline or ctx.cancel_requested:
            if blocked:
                names = sorted({pdb for pdbs in blocked.values() for pdb in pdbs})
                budgets = ", ".join(names) if names else "a PodDisruptionBudget"
                raise DrainBlockedError(
                    f"Drain node {name}",
                    f"eviction of {', '.join(sorted(blocked))} is blocked by PodDisruptionBudget "
                    f"{budgets} (429) for {limit:g} s",
                    backend="host",
                    status=429,
                    details={"blocked": blocked, "pdbs": names},
                )
            raise DrainBlockedError(
                f"Drain node {name}",
                f"{len(pending)} pod(s) were still terminating after {limit:g} s",
                "Check the pods' termination, then resume the workflow.",
                backend="host",
            )
        time.sleep(timing(ctx, "poll"))
