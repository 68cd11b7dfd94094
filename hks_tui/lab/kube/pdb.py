"""PodDisruptionBudget arithmetic (the disruption controller's status) and the eviction check."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from hks_tui.lab.kube.errors import ApiError, too_many_requests
from hks_tui.lab.kube.selectors import labels_match
from hks_tui.lab.kube.store import KubeStore


def pod_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def _scaled(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = int(value[:-1])
        except ValueError:
            return 0
        raw = pct * total / 100
        return math.ceil(raw) if round_up else math.floor(raw)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def matching_pods(store: KubeStore, pdb: dict[str, Any]) -> list[dict[str, Any]]:
    """Pods the budget covers (policy/v1: an empty selector selects every pod of the namespace)."""
    selector = (pdb.get("spec") or {}).get("selector")
    if selector is None:
        return []
    ns = pdb["metadata"].get("namespace")
    return [p for p in store.iter_objects("pods", ns, selector) if not p["metadata"].get("deletionTimestamp")]


def compute_status(store: KubeStore, pdb: dict[str, Any], now_iso: str) -> dict[str, Any]:
    pods = matching_pods(store, pdb)
    expected = len(pods)
    healthy = sum(1 for p in pods if pod_ready(p))
    spec = pdb.get("spec") or {}
    if "minAvailable" in spec:
        desired = _scaled(spec["minAvailable"], expected, round_up=True)
    elif "maxUnavailable" in spec:
        desired = max(0, expected - _scaled(spec["maxUnavailable"], expected, round_up=True))
    else:
        desired = expected  # neither set: maxUnavailable defaults to 0 for an unmanaged selector
    allowed = max(0, healthy - desired)
    old = pdb.get("status") or {}
    allowed_state = "True" if allowed > 0 else "False"
    old_cond = next((c for c in old.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), None)
    condition = {
        "type": "DisruptionAllowed",
        "status": allowed_state,
        "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
        "message": "",
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "lastTransitionTime": old_cond["lastTransitionTime"]
        if old_cond and old_cond.get("status") == allowed_state
        else now_iso,
    }
    return {
        "observedGeneration": pdb["metadata"].get("generation", 1),
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "disruptionsAllowed": allowed,
        "expectedPods": expected,
        "conditions": [condition],
        **({"disruptedPods": old["disruptedPods"]} if old.get("disruptedPods") else {}),
    }


def refresh_namespace(store: KubeStore, namespace: str) -> None:
    for pdb in list(store.iter_objects("poddisruptionbudgets", namespace)):
        status = compute_status(store, pdb, store.clock.iso())
        if status != pdb.get("status"):
            updated = {"metadata": dict(pdb["metadata"]), "status": status}
            store.update_status("poddisruptionbudgets", updated)


def install_pdb_status(store: KubeStore) -> None:
    """Keep every PDB's status true as pods and PDBs change (the disruption controller's job).

    On the lab's loop, recomputation is coalesced: one refresh per namespace per loop iteration, however
    many pods changed; without a running loop (direct store use) it is immediate."""
    pending: set[str] = set()

    def flush() -> None:
        namespaces = sorted(pending)
        pending.clear()
        for ns in namespaces:
            refresh_namespace(store, ns)

    def on_change(event_type: str, resource: str, obj: dict[str, Any]) -> None:
        ns = obj["metadata"].get("namespace")
        if resource not in ("pods", "poddisruptionbudgets") or not ns:
            return
        if resource == "poddisruptionbudgets" and event_type == "DELETED":
            return
        if resource == "pods" and next(store.iter_objects("poddisruptionbudgets", ns), None) is None:
            return  # no budget in this namespace: nothing to keep true
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            refresh_namespace(store, ns)
            return
        if not pending:
            loop.call_soon(flush)
        pending.add(ns)

    store.add_listener(on_change)


def check_eviction(store: KubeStore, pod: dict[str, Any]) -> None:
    """Raise 429 when evicting ``pod`` would violate a PDB; 500 when more than one PDB selects it."""
    ns = pod["metadata"].get("namespace")
    pdbs = [
        p
        for p in store.iter_objects("poddisruptionbudgets", ns)
        if (p.get("spec") or {}).get("selector") is not None
        and labels_match(p["spec"]["selector"], pod["metadata"].get("labels"))
    ]
    if not pdbs:
        return
    if len(pdbs) > 1:
        raise ApiError(
            500,
            "InternalError",
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        )
    pdb = pdbs[0]
    if not pod_ready(pod):
        return  # evicting an unhealthy pod never reduces the healthy count
    status = compute_status(store, pdb, store.clock.iso())
    if status["disruptionsAllowed"] <= 0:
        error = too_many_requests(
            "Cannot evict pod as it would violate the pod's disruption budget.", retry_after=10
        )
        error.details = {
            "causes": [
                {
                    "reason": "DisruptionBudget",
                    "message": f"The disruption budget {pdb['metadata']['name']} needs {status['desiredHealthy']} "
                    f"healthy pods and has {status['currentHealthy']} currently",
                }
            ]
        }
        raise error
