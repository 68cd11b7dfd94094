"""The lab's kube-scheduler: pure filtering and scoring, with the real scheduler's failure messages.

Filters (in the real scheduler's order): node unschedulable, node not Ready, nodeSelector / required
node affinity, untolerated ``NoSchedule``/``NoExecute`` taints, volume node affinity (from bound PVs), and
``Insufficient cpu`` / ``Insufficient memory`` / ``Too many pods`` against allocatable. Score: the least
requested CPU fraction wins; ties break on the node name, so placement is deterministic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hks_tui.lab.controllers.quantity import QuantityError, millis, units

TERMINAL_PHASES = ("Succeeded", "Failed")


def pod_resources(pod: dict[str, Any], kind: str = "requests") -> dict[str, int]:
    """Effective pod requests (or limits): max(sum of containers, any init container), cpu in millis."""
    spec = pod.get("spec") or {}
    total: dict[str, int] = {}
    for c in spec.get("containers") or []:
        for res, value in ((c.get("resources") or {}).get(kind) or {}).items():
            try:
                total[res] = total.get(res, 0) + (millis(value) if res == "cpu" else units(value))
            except QuantityError:
                continue
    for c in spec.get("initContainers") or []:
        for res, value in ((c.get("resources") or {}).get(kind) or {}).items():
            try:
                amount = millis(value) if res == "cpu" else units(value)
            except QuantityError:
                continue
            total[res] = max(total.get(res, 0), amount)
    return total


def is_terminal(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def node_ready(node: dict[str, Any]) -> bool:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def tolerates(tolerations: Iterable[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for tol in tolerations:
        effect = tol.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key = tol.get("key") or ""
        operator = tol.get("operator") or "Equal"
        if operator == "Exists":
            if not key or key == taint.get("key"):
                return True
        elif key == taint.get("key") and (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _expr_match(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = (
        expr.get("key", ""),
        expr.get("operator", ""),
        [str(v) for v in expr.get("values") or []],
    )
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        try:
            number, bound = int(labels.get(key, "")), int(values[0])
        except (ValueError, IndexError):
            return False
        return number > bound if op == "Gt" else number < bound
    return False


def node_selector_terms_match(terms: list[dict[str, Any]], node: dict[str, Any]) -> bool:
    """``nodeSelectorTerms`` semantics: OR over terms, AND over each term's expressions."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    fields = {"metadata.name": (node.get("metadata") or {}).get("name", "")}
    for term in terms:
        exprs = term.get("matchExpressions") or []
        field_exprs = term.get("matchFields") or []
        if not exprs and not field_exprs:
            continue
        if all(_expr_match(e, labels) for e in exprs) and all(_expr_match(e, fields) for e in field_exprs):
            return True
    return False


def matches_node_affinity(pod: dict[str, Any], node: dict[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != str(value):
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    return not terms or node_selector_terms_match(terms, node)


def allocatable(node: dict[str, Any]) -> dict[str, int]:
    alloc = (node.get("status") or {}).get("allocatable") or (node.get("status") or {}).get("capacity") or {}
    out: dict[str, int] = {}
    for res, value in alloc.items():
        try:
            out[res] = millis(value) if res == "cpu" else units(value)
        except QuantityError:
            continue
    return out


@dataclass
class Decision:
    node: str | None
    message: str = ""


VolumeFilter = Callable[[dict[str, Any], dict[str, Any]], bool]


class Usage:
    """Requests and pod counts already bound per node (computed once per pass, updated on each bind)."""

    def __init__(self, pods: Iterable[dict[str, Any]] = ()) -> None:
        self.used: dict[str, dict[str, int]] = {}
        self.counts: Counter[str] = Counter()
        self._alloc: dict[str, dict[str, int]] = {}
        for pod in pods:
            node = (pod.get("spec") or {}).get("nodeName")
            if node and not is_terminal(pod):
                self.add(node, pod)

    def allocatable(self, node: dict[str, Any]) -> dict[str, int]:
        name = (node.get("metadata") or {}).get("name", "")
        if name not in self._alloc:
            self._alloc[name] = allocatable(node)
        return self._alloc[name]

    def add(self, node: str, pod: dict[str, Any]) -> None:
        self.counts[node] += 1
        bucket = self.used.setdefault(node, {})
        for res, value in pod_resources(pod).items():
            bucket[res] = bucket.get(res, 0) + value


def schedule(
    pod: dict[str, Any],
    nodes: list[dict[str, Any]],
    pods: list[dict[str, Any]] | Usage,
    volume_filter: VolumeFilter | None = None,
) -> Decision:
    """Pick a node for ``pod`` among ``nodes`` given the pods already bound (all namespaces)."""
    if not nodes:
        return Decision(None, "no nodes available to schedule pods")
    usage = pods if isinstance(pods, Usage) else Usage(pods)
    used, counts = usage.used, usage.counts
    want = pod_resources(pod)
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    reasons: Counter[str] = Counter()
    fits: list[tuple[float, str]] = []
    for node in nodes:
        name = node["metadata"]["name"]
        taints = (node.get("spec") or {}).get("taints") or []
        if (node.get("spec") or {}).get("unschedulable"):
            reasons["node(s) were unschedulable"] += 1
            continue
        if not node_ready(node):
            reasons["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"] += 1
            continue
        if not matches_node_affinity(pod, node):
            reasons["node(s) didn't match Pod's node affinity/selector"] += 1
            continue
        untolerated = [
            t
            for t in taints
            if t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, t)
        ]
        if untolerated:
            t = untolerated[0]
            reasons[f"node(s) had untolerated taint {{{t.get('key')}: {t.get('value') or ''}}}"] += 1
            continue
        if volume_filter is not None and not volume_filter(pod, node):
            reasons["node(s) had volume node affinity conflict"] += 1
            continue
        alloc = usage.allocatable(node)
        have = used.get(name, {})
        short = False
        for res in ("cpu", "memory"):
            if want.get(res, 0) and have.get(res, 0) + want[res] > alloc.get(res, 0):
                reasons[f"Insufficient {res}"] += 1
                short = True
        if counts[name] + 1 > alloc.get("pods", 110):
            reasons["Too many pods"] += 1
            short = True
        if short:
            continue
        cpu_alloc = alloc.get("cpu", 1) or 1
        fits.append(((have.get("cpu", 0) + want.get("cpu", 0)) / cpu_alloc, name))
    if fits:
        fits.sort()
        return Decision(fits[0][1])
    parts = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda item: item[0]))
    total = len(nodes)
    return Decision(
        None,
        f"0/{total} nodes are available: {parts}. preemption: 0/{total} nodes are available: "
        f"{total} Preemption is not helpful for scheduling.",
    )
