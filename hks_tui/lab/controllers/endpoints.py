"""Endpoints controller: one ``Endpoints`` object per Service with a selector, listing the matching
pods' IPs (ready ones under ``addresses``, the others under ``notReadyAddresses``) and the ports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.apps import pod_ready
from hks_tui.lab.controllers.common import is_deleting, labels_of, name_of, ns_of, peek, snapshot, uid_of
from hks_tui.lab.controllers.scheduler import is_terminal
from hks_tui.lab.kube.errors import ApiError
from hks_tui.lab.kube.selectors import labels_match

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster


def _port(service_port: dict[str, Any], pod: dict[str, Any] | None) -> int:
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, str) and pod is not None:
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == target:
                    return int(p.get("containerPort") or 0)
    try:
        return int(str(target))
    except ValueError:
        return int(str(service_port.get("port") or 0))


class EndpointsController:
    def __init__(self, cluster: KubeCluster) -> None:
        self.cluster = cluster

    def reconcile(self) -> None:
        store = self.cluster.store
        pods_by_ns: dict[str, list[dict[str, Any]]] = {}
        for pod in store.iter_objects("pods"):
            if (pod.get("status") or {}).get("podIP") and not is_terminal(pod) and not is_deleting(pod):
                pods_by_ns.setdefault(ns_of(pod) or "", []).append(pod)
        for svc in snapshot(store, "services"):
            selector = (svc.get("spec") or {}).get("selector")
            if not selector:
                continue
            ns = ns_of(svc) or "default"
            members = [p for p in pods_by_ns.get(ns, []) if labels_match(selector, labels_of(p))]
            subset: dict[str, Any] = {}
            for key, group in (
                ("addresses", [p for p in members if pod_ready(p)]),
                ("notReadyAddresses", [p for p in members if not pod_ready(p)]),
            ):
                if group:
                    subset[key] = [
                        {
                            "ip": p["status"]["podIP"],
                            "nodeName": p["spec"].get("nodeName"),
                            "targetRef": {
                                "kind": "Pod",
                                "namespace": ns,
                                "name": name_of(p),
                                "uid": uid_of(p),
                            },
                        }
                        for p in sorted(group, key=name_of)
                    ]
            if subset:
                sample = members[0] if members else None
                subset["ports"] = [
                    {"name": sp.get("name"), "port": _port(sp, sample), "protocol": sp.get("protocol", "TCP")}
                    for sp in (svc.get("spec") or {}).get("ports") or []
                ]
                for port in subset["ports"]:
                    if port["name"] is None:
                        del port["name"]
            desired = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name_of(svc), "namespace": ns, "labels": dict(labels_of(svc))},
                "subsets": [subset] if subset else [],
            }
            current = peek(store, "endpoints", name_of(svc), ns)
            try:
                if current is None:
                    store.create("endpoints", desired, ns)
                elif current.get("subsets") != desired["subsets"]:
                    current["subsets"] = desired["subsets"]
                    current["metadata"].pop("resourceVersion", None)
                    store.replace("endpoints", current)
            except ApiError:
                continue
