"""Does an AppSpec fit the namespace's ResourceQuotas? Pure arithmetic on the quota status (no I/O).

What the app would add = its pods' requests/limits × replicas and its claim templates × replicas, minus
what the app already uses (an update or re-deploy of an existing app only needs the difference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from hks_tui.manifests.specs import AppSpec
from hks_tui.validation.quantities import parse_quantity

_CPU_KEYS = {"cpu", "requests.cpu", "limits.cpu"}


@dataclass(frozen=True)
class QuotaViolation:
    quota: str
    resource: str
    requested: str
    used: str
    hard: str

    @property
    def message(self) -> str:
        return (
            f"{self.resource}: the app needs {self.requested} more, {self.used} of {self.hard} is used "
            f"(quota {self.quota})"
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message}


def _fmt(resource: str, value: Decimal) -> str:
    if resource in _CPU_KEYS:
        milli = int(value * 1000)
        return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"
    if "storage" in resource or "memory" in resource:
        mib = value / (1024 * 1024)
        if mib >= 1024 and mib % 1024 == 0:
            return f"{int(mib / 1024)}Gi"
        return f"{int(mib)}Mi" if mib == int(mib) else str(int(value))
    return str(int(value))


def _q(value: Any) -> Decimal:
    return parse_quantity(str(value)) if value not in (None, "") else Decimal(0)


def pod_usage(spec: AppSpec) -> dict[str, Decimal]:
    """Quota resources one pod of ``spec`` consumes (a missing request defaults to the limit)."""
    r = spec.resources
    cpu_req = r.cpu_request or r.cpu_limit
    mem_req = r.memory_request or r.memory_limit
    usage = {"pods": Decimal(1), "count/pods": Decimal(1)}
    if cpu_req:
        usage["requests.cpu"] = usage["cpu"] = _q(cpu_req)
    if mem_req:
        usage["requests.memory"] = usage["memory"] = _q(mem_req)
    if r.cpu_limit:
        usage["limits.cpu"] = _q(r.cpu_limit)
    if r.memory_limit:
        usage["limits.memory"] = _q(r.memory_limit)
    return usage


def app_usage(spec: AppSpec) -> dict[str, Decimal]:
    """Everything the app would consume at ``spec.replicas`` (pods and PVCs from claim templates)."""
    total: dict[str, Decimal] = {}
    for key, value in pod_usage(spec).items():
        total[key] = value * spec.replicas
    for claim in spec.volumes:
        size = _q(claim.size) * spec.replicas
        total["requests.storage"] = total.get("requests.storage", Decimal(0)) + size
        total["persistentvolumeclaims"] = total.get("persistentvolumeclaims", Decimal(0)) + spec.replicas
        if claim.storage_class:
            key = f"{claim.storage_class}.storageclass.storage.k8s.io/requests.storage"
            total[key] = total.get(key, Decimal(0)) + size
    if spec.ports:
        total["services"] = Decimal(1)
    return total


def current_usage(
    pods: Sequence[Mapping[str, Any]], claims: Sequence[Mapping[str, Any]]
) -> dict[str, Decimal]:
    """What the app's existing (non-terminal) pods and PVCs already count against the quota."""
    total: dict[str, Decimal] = {}

    def add(key: str, value: Decimal) -> None:
        total[key] = total.get(key, Decimal(0)) + value

    for pod in pods:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        add("pods", Decimal(1))
        add("count/pods", Decimal(1))
        for c in (pod.get("spec") or {}).get("containers") or []:
            res = c.get("resources") or {}
            req, lim = res.get("requests") or {}, res.get("limits") or {}
            for name in ("cpu", "memory"):
                request = req.get(name) or lim.get(name)
                if request:
                    add(f"requests.{name}", _q(request))
                    add(name, _q(request))
                if lim.get(name):
                    add(f"limits.{name}", _q(lim[name]))
    for pvc in claims:
        size = _q(((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage"))
        add("requests.storage", size)
        add("persistentvolumeclaims", Decimal(1))
        cls = (pvc.get("spec") or {}).get("storageClassName")
        if cls:
            add(f"{cls}.storageclass.storage.k8s.io/requests.storage", size)
    return total


def check_app_quota(
    spec: AppSpec,
    quotas: Sequence[Mapping[str, Any]],
    existing: Mapping[str, Decimal] | None = None,
    has_service: bool = False,
) -> list[QuotaViolation]:
    """The quota limits the app would exceed (empty: it fits). ``existing``: :func:`current_usage` of the
    app's objects already there; ``has_service``: its Service already exists (no new one counted)."""
    wanted = app_usage(spec)
    if has_service:
        wanted.pop("services", None)
    before = dict(existing or {})
    out: list[QuotaViolation] = []
    for quota in quotas:
        status = quota.get("status") or {}
        hard = status.get("hard") or (quota.get("spec") or {}).get("hard") or {}
        used = status.get("used") or {}
        name = str((quota.get("metadata") or {}).get("name", ""))
        for resource, limit in hard.items():
            if resource not in wanted:
                continue
            delta = wanted[resource] - before.get(resource, Decimal(0))
            if delta <= 0:
                continue
            in_use = _q(used.get(resource))
            if in_use + delta > _q(limit):
                out.append(
                    QuotaViolation(
                        quota=name,
                        resource=resource,
                        requested=_fmt(resource, delta),
                        used=_fmt(resource, in_use),
                        hard=_fmt(resource, _q(limit)),
                    )
                )
    return out


def missing_requests(spec: AppSpec, quotas: Sequence[Mapping[str, Any]]) -> list[str]:
    """Compute resources a quota constrains that the app's container does not set (the apiserver would
    refuse every pod with "failed quota: must specify …")."""
    r = spec.resources
    have = {
        "requests.cpu": bool(r.cpu_request or r.cpu_limit),
        "cpu": bool(r.cpu_request or r.cpu_limit),
        "requests.memory": bool(r.memory_request or r.memory_limit),
        "memory": bool(r.memory_request or r.memory_limit),
        "limits.cpu": bool(r.cpu_limit),
        "limits.memory": bool(r.memory_limit),
    }
    needed: set[str] = set()
    for quota in quotas:
        hard = (quota.get("status") or {}).get("hard") or (quota.get("spec") or {}).get("hard") or {}
        needed |= {key for key in hard if key in have and not have[key]}
    return sorted(needed)
