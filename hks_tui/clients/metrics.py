"""Metrics: Prometheus (prometheus-api-client) when configured, else the Kubernetes-native sources.

Fallback sources when no Prometheus is configured: ResourceQuota ``status`` (quota usage),
``metrics.k8s.io/v1beta1`` (node and pod CPU/memory), and the kubelet stats summary through the nodes
proxy (PVC usage). Every request goes through the transport guard (timeouts, small retry, mapping).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests

from hks_tui.clients.errors import HksError
from hks_tui.clients.guard import TransportGuard
from hks_tui.clients.kube import KubeClient
from hks_tui.clients.transport import GuardedHTTPAdapter

BACKEND = "prometheus"


def parse_quantity(value: Any) -> float:
    """A Kubernetes quantity (``500m``, ``2Gi``, ``1.5``) as a float in base units."""
    from kubernetes.utils import parse_quantity as _parse

    if value is None or value == "":
        return 0.0
    return float(_parse(value) if not isinstance(value, int | float | Decimal) else value)


@dataclass(frozen=True)
class QuotaUsage:
    namespace: str
    quota: str
    resource: str  # e.g. "requests.cpu"
    hard: float
    used: float

    @property
    def ratio(self) -> float:
        return self.used / self.hard if self.hard else 0.0


@dataclass(frozen=True)
class ResourceUsage:
    """CPU (cores) and memory (bytes) of a node or a pod."""

    name: str
    namespace: str
    cpu: float
    memory: float


@dataclass(frozen=True)
class PvcUsage:
    namespace: str
    pvc: str
    used_bytes: float
    capacity_bytes: float

    @property
    def ratio(self) -> float:
        return self.used_bytes / self.capacity_bytes if self.capacity_bytes else 0.0


class MetricsClient:
    """Usage figures from Prometheus or, without one, from the clusters themselves."""

    def __init__(
        self,
        *,
        guard: TransportGuard,
        prometheus_url: str | None = None,
        timeout: float = 5.0,
        verify: bool | str = True,
        max_attempts: int = 2,
    ) -> None:
        self.guard = guard
        self.prometheus_url = prometheus_url.rstrip("/") if prometheus_url else None
        self.timeout = timeout
        self.max_attempts = max_attempts
        self._prom: Any = None
        if self.prometheus_url:
            from prometheus_api_client import PrometheusConnect
            from urllib3.util.retry import Retry

            session = requests.Session()
            session.verify = verify
            self._prom = PrometheusConnect(
                url=self.prometheus_url,
                retry=Retry(total=0),
                session=session,
                timeout=timeout,  # type: ignore[arg-type]
            )
            # prometheus-api-client mounts its own adapter on its URL: replace it with the guarded one
            # (the guard does the bounded retries).
            adapter = GuardedHTTPAdapter(guard, BACKEND)
            session.mount(self._prom.url, adapter)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._session = session

    @property
    def has_prometheus(self) -> bool:
        return self._prom is not None

    def _require(self) -> Any:
        if self._prom is None:
            raise HksError(
                "Query Prometheus",
                "no Prometheus URL is configured for this profile",
                "Set `prometheus_url` in the profile, or use the Kubernetes-native figures.",
                backend=BACKEND,
            )
        return self._prom

    # ------------------------------------------------------------------ Prometheus
    def ready(self, *, timeout: float | None = None) -> str:
        """``GET /-/ready`` with a short timeout; returns the server's answer or raises HksError."""
        self._require()
        url = f"{self.prometheus_url}/-/ready"

        def probe() -> str:
            resp = self._session.get(url, timeout=timeout or self.timeout)
            if resp.status_code >= 400:
                raise HksError(
                    "Prometheus readiness check",
                    f"HTTP {resp.status_code}: {resp.text.strip()[:200]}",
                    backend=BACKEND,
                    status=resp.status_code,
                )
            return resp.text.strip()

        return self.guard.call(BACKEND, "Prometheus readiness check", probe, max_attempts=1)

    def query(self, promql: str, *, what: str = "") -> list[dict[str, Any]]:
        """An instant query: ``[{"metric": {...}, "value": [ts, "x"]}, …]``."""
        prom = self._require()
        return list(
            self.guard.call(
                BACKEND,
                what or f"Prometheus query {promql[:60]}",
                lambda: prom.custom_query(query=promql),
                max_attempts=self.max_attempts,
            )
        )

    def query_range(
        self, promql: str, start: datetime, end: datetime, step: str, *, what: str = ""
    ) -> list[dict[str, Any]]:
        prom = self._require()
        return list(
            self.guard.call(
                BACKEND,
                what or f"Prometheus range query {promql[:60]}",
                lambda: prom.custom_query_range(query=promql, start_time=start, end_time=end, step=step),
                max_attempts=self.max_attempts,
            )
        )

    # ------------------------------------------------------------------ combined
    def quota_usage(self, kube: KubeClient, namespace: str | None = None) -> list[QuotaUsage]:
        """Quota hard/used per resource: ``kube_resourcequota`` if Prometheus is there, else the
        ResourceQuota status of ``kube``'s cluster."""
        if self._prom is not None:
            selector = f'{{namespace="{namespace}"}}' if namespace else ""
            rows = self.query(f"kube_resourcequota{selector}", what="Read quota usage from Prometheus")
            table: dict[tuple[str, str, str], dict[str, float]] = {}
            for row in rows:
                m = row.get("metric", {})
                key = (
                    str(m.get("namespace", "")),
                    str(m.get("resourcequota", "")),
                    str(m.get("resource", "")),
                )
                table.setdefault(key, {})[str(m.get("type", ""))] = float(row["value"][1])
            return [
                QuotaUsage(ns, q, res, vals.get("hard", 0.0), vals.get("used", 0.0))
                for (ns, q, res), vals in sorted(table.items())
            ]
        return quota_usage_from_status(kube.list_raw("resourcequotas", namespace=namespace))

    def node_usage(self, kube: KubeClient) -> list[ResourceUsage]:
        """Node CPU/memory from ``metrics.k8s.io``."""
        data = kube.call(
            kube.custom.list_cluster_custom_object,
            "metrics.k8s.io",
            "v1beta1",
            "nodes",
            what=f"Read node metrics of {kube.context}",
        )
        return [_usage(item) for item in (data or {}).get("items", [])]

    def pod_usage(self, kube: KubeClient, namespace: str | None = None) -> list[ResourceUsage]:
        """Pod CPU/memory (sum over containers) from ``metrics.k8s.io``."""
        custom = kube.custom
        if namespace:
            data = kube.call(
                custom.list_namespaced_custom_object,
                "metrics.k8s.io",
                "v1beta1",
                namespace,
                "pods",
                what=f"Read pod metrics in {namespace}",
            )
        else:
            data = kube.call(
                custom.list_cluster_custom_object,
                "metrics.k8s.io",
                "v1beta1",
                "pods",
                what="Read pod metrics",
            )
        return [_usage(item) for item in (data or {}).get("items", [])]

    def kubelet_summary(self, kube: KubeClient, node: str) -> dict[str, Any]:
        """The kubelet stats summary of ``node`` through the API server's nodes proxy."""
        resp = kube.call(
            kube.core.connect_get_node_proxy_with_path,
            node,
            "stats/summary",
            what=f"Read kubelet stats of {node}",
            _preload_content=False,
        )
        return dict(json.loads(resp.data))

    def pvc_usage(self, kube: KubeClient) -> list[PvcUsage]:
        """PVC used/capacity bytes: ``kubelet_volume_stats_*`` or the kubelet summaries of every node."""
        if self._prom is not None:
            used = self.query("max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes)")
            cap = self.query(
                "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes)"
            )
            caps = {
                (r["metric"].get("namespace", ""), r["metric"].get("persistentvolumeclaim", "")): float(
                    r["value"][1]
                )
                for r in cap
            }
            out = []
            for r in used:
                key = (r["metric"].get("namespace", ""), r["metric"].get("persistentvolumeclaim", ""))
                out.append(PvcUsage(key[0], key[1], float(r["value"][1]), caps.get(key, 0.0)))
            return sorted(out, key=lambda p: (p.namespace, p.pvc))
        found: dict[tuple[str, str], PvcUsage] = {}
        for node in kube.list_raw("nodes").get("items", []):
            summary = self.kubelet_summary(kube, node["metadata"]["name"])
            for pod in summary.get("pods", []):
                for vol in pod.get("volume", []) or []:
                    ref = vol.get("pvcRef")
                    if not ref:
                        continue
                    key = (str(ref.get("namespace", "")), str(ref.get("name", "")))
                    found[key] = PvcUsage(
                        key[0], key[1], float(vol.get("usedBytes", 0)), float(vol.get("capacityBytes", 0))
                    )
        return [found[k] for k in sorted(found)]

    def close(self) -> None:
        if self._prom is not None:
            self._prom.close()


def quota_usage_from_status(quota_list: dict[str, Any]) -> list[QuotaUsage]:
    """Flatten a raw ResourceQuotaList into one row per (quota, resource)."""
    out: list[QuotaUsage] = []
    for item in quota_list.get("items", []):
        meta = item.get("metadata", {})
        status = item.get("status") or {}
        hard = status.get("hard") or (item.get("spec") or {}).get("hard") or {}
        used = status.get("used") or {}
        for resource in sorted(hard):
            out.append(
                QuotaUsage(
                    str(meta.get("namespace", "")),
                    str(meta.get("name", "")),
                    resource,
                    parse_quantity(hard[resource]),
                    parse_quantity(used.get(resource, 0)),
                )
            )
    return out


def _usage(item: dict[str, Any]) -> ResourceUsage:
    meta = item.get("metadata", {})
    usage = item.get("usage")
    if usage is None:
        cpu = sum(parse_quantity((c.get("usage") or {}).get("cpu")) for c in item.get("containers", []))
        mem = sum(parse_quantity((c.get("usage") or {}).get("memory")) for c in item.get("containers", []))
    else:
        cpu, mem = parse_quantity(usage.get("cpu")), parse_quantity(usage.get("memory"))
    return ResourceUsage(str(meta.get("name", "")), str(meta.get("namespace", "")), cpu, mem)
