"""Server-side printing: ``meta.k8s.io/v1`` ``Table`` answers for ``kubectl get`` (Accept ``as=Table``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hks_tui.lab.kube.resources import ResourceType

if TYPE_CHECKING:
    from hks_tui.lab.kube.httputil import Ctx

Row = Callable[[dict[str, Any], float], list[Any]]


def wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    first = accept.split(",")[0]
    return "as=Table" in first and "g=meta.k8s.io" in first


def human_duration(seconds: float) -> str:
    """kubectl's ``duration.HumanDuration``."""
    s = int(max(0, seconds))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if h < 24 * 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 365 * 2:
        return f"{d}d"
    return f"{d // 365}y{d % 365}d" if d < 365 * 8 else f"{d // 365}y"


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _age(obj: dict[str, Any], now: float) -> str:
    created = parse_time(obj["metadata"].get("creationTimestamp"))
    return "<unknown>" if created is None else human_duration(now - created)


def _pod_status(pod: dict[str, Any]) -> tuple[str, int, int, int]:
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    for c in statuses:
        state = c.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return reason, ready, len((pod.get("spec") or {}).get("containers") or []), restarts


def _pod(obj: dict[str, Any], now: float) -> list[Any]:
    reason, ready, total, restarts = _pod_status(obj)
    return [
        obj["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restarts,
        _age(obj, now),
        (obj.get("status") or {}).get("podIP") or "<none>",
        (obj.get("spec") or {}).get("nodeName") or "<none>",
    ]


def _deploy(obj: dict[str, Any], now: float) -> list[Any]:
    st, sp = obj.get("status") or {}, obj.get("spec") or {}
    return [
        obj["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{sp.get('replicas', 0)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        _age(obj, now),
    ]


def _rs(obj: dict[str, Any], now: float) -> list[Any]:
    st, sp = obj.get("status") or {}, obj.get("spec") or {}
    return [
        obj["metadata"]["name"],
        sp.get("replicas", 0),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        _age(obj, now),
    ]


def _sts(obj: dict[str, Any], now: float) -> list[Any]:
    st, sp = obj.get("status") or {}, obj.get("spec") or {}
    return [obj["metadata"]["name"], f"{st.get('readyReplicas', 0)}/{sp.get('replicas', 0)}", _age(obj, now)]


def _svc(obj: dict[str, Any], now: float) -> list[Any]:
    sp = obj.get("spec") or {}
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in sp.get("ports") or []) or "<none>"
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or (
        "<pending>" if sp.get("type") == "LoadBalancer" else "<none>"
    )
    return [
        obj["metadata"]["name"],
        sp.get("type", "ClusterIP"),
        sp.get("clusterIP", "<none>"),
        external,
        ports,
        _age(obj, now),
    ]


def _node(obj: dict[str, Any], now: float) -> list[Any]:
    conds = (obj.get("status") or {}).get("conditions") or []
    ready = next((c for c in conds if c.get("type") == "Ready"), None)
    status = "Ready" if ready and ready.get("status") == "True" else ("NotReady" if ready else "Unknown")
    if (obj.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(
        k.split("/", 1)[1]
        for k in (obj["metadata"].get("labels") or {})
        if k.startswith("node-role.kubernetes.io/")
    )
    version = ((obj.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    return [obj["metadata"]["name"], status, ",".join(roles) or "<none>", _age(obj, now), version]


def _ns(obj: dict[str, Any], now: float) -> list[Any]:
    return [obj["metadata"]["name"], (obj.get("status") or {}).get("phase", "Active"), _age(obj, now)]


def _pvc(obj: dict[str, Any], now: float) -> list[Any]:
    sp, st = obj.get("spec") or {}, obj.get("status") or {}
    modes = ",".join(
        {
            "ReadWriteOnce": "RWO",
            "ReadOnlyMany": "ROX",
            "ReadWriteMany": "RWX",
            "ReadWriteOncePod": "RWOP",
        }.get(m, m)
        for m in st.get("accessModes") or []
    )
    return [
        obj["metadata"]["name"],
        st.get("phase", "Pending"),
        sp.get("volumeName", ""),
        (st.get("capacity") or {}).get("storage", ""),
        modes,
        sp.get("storageClassName") or "<unset>",
        _age(obj, now),
    ]


def _pv(obj: dict[str, Any], now: float) -> list[Any]:
    sp, st = obj.get("spec") or {}, obj.get("status") or {}
    claim = sp.get("claimRef") or {}
    modes = ",".join(
        {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX"}.get(m, m)
        for m in sp.get("accessModes") or []
    )
    return [
        obj["metadata"]["name"],
        (sp.get("capacity") or {}).get("storage", ""),
        modes,
        sp.get("persistentVolumeReclaimPolicy", ""),
        st.get("phase", ""),
        f"{claim.get('namespace')}/{claim.get('name')}" if claim else "",
        sp.get("storageClassName", ""),
        _age(obj, now),
    ]


def _job(obj: dict[str, Any], now: float) -> list[Any]:
    sp, st = obj.get("spec") or {}, obj.get("status") or {}
    conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
    status = (
        "Complete"
        if conds.get("Complete") == "True"
        else "Failed"
        if conds.get("Failed") == "True"
        else "Running"
    )
    start, done = parse_time(st.get("startTime")), parse_time(st.get("completionTime"))
    duration = human_duration((done or now) - start) if start else ""
    return [
        obj["metadata"]["name"],
        status,
        f"{st.get('succeeded', 0)}/{sp.get('completions', 1)}",
        duration,
        _age(obj, now),
    ]


def _cronjob(obj: dict[str, Any], now: float) -> list[Any]:
    sp, st = obj.get("spec") or {}, obj.get("status") or {}
    last = parse_time(st.get("lastScheduleTime"))
    return [
        obj["metadata"]["name"],
        sp.get("schedule", ""),
        "True" if sp.get("suspend") else "False",
        len(st.get("active") or []),
        human_duration(now - last) if last else "<none>",
        _age(obj, now),
    ]


def _event(obj: dict[str, Any], now: float) -> list[Any]:
    inv = obj.get("involvedObject") or {}
    last = parse_time(obj.get("lastTimestamp") or obj.get("eventTime")) or parse_time(
        obj["metadata"].get("creationTimestamp")
    )
    return [
        human_duration(now - last) if last else "<unknown>",
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}",
        obj.get("message", ""),
    ]


def _pdb(obj: dict[str, Any], now: float) -> list[Any]:
    sp, st = obj.get("spec") or {}, obj.get("status") or {}
    return [
        obj["metadata"]["name"],
        str(sp.get("minAvailable", "N/A")),
        str(sp.get("maxUnavailable", "N/A")),
        st.get("disruptionsAllowed", 0),
        _age(obj, now),
    ]


def _default(obj: dict[str, Any], now: float) -> list[Any]:
    return [obj["metadata"]["name"], _age(obj, now)]


_S, _I = "string", "integer"
COLUMNS: dict[str, tuple[list[tuple[str, str, int]], Row]] = {
    "pods": (
        [
            ("Name", _S, 0),
            ("Ready", _S, 0),
            ("Status", _S, 0),
            ("Restarts", _I, 0),
            ("Age", _S, 0),
            ("IP", _S, 1),
            ("Node", _S, 1),
        ],
        _pod,
    ),
    "deployments": (
        [("Name", _S, 0), ("Ready", _S, 0), ("Up-to-date", _I, 0), ("Available", _I, 0), ("Age", _S, 0)],
        _deploy,
    ),
    "replicasets": (
        [("Name", _S, 0), ("Desired", _I, 0), ("Current", _I, 0), ("Ready", _I, 0), ("Age", _S, 0)],
        _rs,
    ),
    "statefulsets": ([("Name", _S, 0), ("Ready", _S, 0), ("Age", _S, 0)], _sts),
    "services": (
        [
            ("Name", _S, 0),
            ("Type", _S, 0),
            ("Cluster-IP", _S, 0),
            ("External-IP", _S, 0),
            ("Port(s)", _S, 0),
            ("Age", _S, 0),
        ],
        _svc,
    ),
    "nodes": (
        [("Name", _S, 0), ("Status", _S, 0), ("Roles", _S, 0), ("Age", _S, 0), ("Version", _S, 0)],
        _node,
    ),
    "namespaces": ([("Name", _S, 0), ("Status", _S, 0), ("Age", _S, 0)], _ns),
    "persistentvolumeclaims": (
        [
            ("Name", _S, 0),
            ("Status", _S, 0),
            ("Volume", _S, 0),
            ("Capacity", _S, 0),
            ("Access Modes", _S, 0),
            ("StorageClass", _S, 0),
            ("Age", _S, 0),
        ],
        _pvc,
    ),
    "persistentvolumes": (
        [
            ("Name", _S, 0),
            ("Capacity", _S, 0),
            ("Access Modes", _S, 0),
            ("Reclaim Policy", _S, 0),
            ("Status", _S, 0),
            ("Claim", _S, 0),
            ("StorageClass", _S, 0),
            ("Age", _S, 0),
        ],
        _pv,
    ),
    "jobs": (
        [("Name", _S, 0), ("Status", _S, 0), ("Completions", _S, 0), ("Duration", _S, 0), ("Age", _S, 0)],
        _job,
    ),
    "cronjobs": (
        [
            ("Name", _S, 0),
            ("Schedule", _S, 0),
            ("Suspend", _S, 0),
            ("Active", _I, 0),
            ("Last Schedule", _S, 0),
            ("Age", _S, 0),
        ],
        _cronjob,
    ),
    "events": (
        [("Last Seen", _S, 0), ("Type", _S, 0), ("Reason", _S, 0), ("Object", _S, 0), ("Message", _S, 0)],
        _event,
    ),
    "poddisruptionbudgets": (
        [
            ("Name", _S, 0),
            ("Min Available", _S, 0),
            ("Max Unavailable", _S, 0),
            ("Allowed Disruptions", _I, 0),
            ("Age", _S, 0),
        ],
        _pdb,
    ),
}


def to_table(
    ctx: Ctx, rt: ResourceType, listed: dict[str, Any], include_columns: bool = True
) -> dict[str, Any]:
    columns, row = COLUMNS.get(rt.plural, ([("Name", _S, 0), ("Age", _S, 0)], _default))
    now = ctx.cluster.clock.now()
    include = ctx.query.get("includeObject") or "Metadata"  # None | Metadata | Object
    rows = []
    for obj in listed.get("items", []):
        entry: dict[str, Any] = {"cells": row(obj, now)}
        if include == "Object":
            entry["object"] = {"kind": rt.kind, "apiVersion": rt.api_version, **obj}
        elif include != "None":
            meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
            entry["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
            }
        rows.append(entry)
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(listed.get("metadata") or {}),
        "rows": rows,
    }
    if include_columns:
        table["columnDefinitions"] = [
            {
                "name": name,
                "type": kind,
                "format": "name" if name == "Name" else "",
                "description": name,
                "priority": priority,
            }
            for name, kind, priority in columns
        ]
    return table
