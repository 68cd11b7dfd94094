"""Pure views of an Application: list rows, pod rows, status, endpoints and "why pending?" (no I/O).

Everything here takes the raw API JSON (dicts, as ``KubeClient.list_raw`` returns them) so the same
functions serve the list, the detail view and the headless commands, and are unit-testable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from hks_tui.manifests.labels import MANAGED_BY, MANAGER, NAME

#: container waiting reasons that mean "this will not start by itself"
FAILURE_REASONS = (
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
)
WORKLOAD_KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet"}


@dataclass(frozen=True)
class AppRow:
    """One row of the Application list (``--json`` field names are documented in README.md)."""

    name: str
    namespace: str
    kind: str  # Deployment | StatefulSet
    type: str  # Stateless | Stateful
    status: str  # "Running 3/3", "Progressing 1/3", "Degraded", "Failed: ImagePullBackOff", "Building"
    ready: int
    replicas: int
    endpoints: list[str]
    image: str
    age: str
    restarts: int
    managed: bool  # False: made by another tool, listed read-only as "external"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PodRow:
    name: str
    status: str
    ready: str  # "1/1"
    restarts: int
    node: str
    age: str
    reason: str = ""  # the waiting/terminated reason or the scheduler's message

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PendingReason:
    """Why a pod cannot be scheduled (or created), and what to do about it."""

    pod: str
    cause: str  # "insufficient resources" | "taints" | "node selector" | "quota" | "volume" | "unknown"
    message: str
    fix: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AppDetail:
    row: AppRow
    objects: list[dict[str, Any]] = field(default_factory=list)  # kind, name, state
    pods: list[PodRow] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # time, type, reason, object, message
    pending: list[PendingReason] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.row.to_json(),
            "objects": self.objects,
            "pods": [p.to_json() for p in self.pods],
            "events": self.events,
            "pending": [p.to_json() for p in self.pending],
        }


# -- small helpers ---------------------------------------------------------------------------------
def meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    return dict(obj.get("metadata") or {})


def labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def app_name_of(obj: Mapping[str, Any]) -> str:
    """The Application a workload belongs to: its ``app.kubernetes.io/name`` label, else its own name."""
    return str(labels(obj).get(NAME) or meta(obj).get("name") or "")


def is_managed(obj: Mapping[str, Any]) -> bool:
    lab = labels(obj)
    return lab.get(MANAGED_BY) == MANAGER and bool(lab.get(NAME))


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age(value: Any, now: datetime | None = None) -> str:
    """``kubectl``-style age: 45s, 12m, 3h, 5d."""
    created = parse_time(value)
    if created is None:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def selector_matches(selector: Mapping[str, str], obj: Mapping[str, Any]) -> bool:
    lab = labels(obj)
    return bool(selector) and all(lab.get(k) == v for k, v in selector.items())


def workload_selector(workload: Mapping[str, Any]) -> dict[str, str]:
    spec = workload.get("spec") or {}
    return dict((spec.get("selector") or {}).get("matchLabels") or {})


def pods_of(workload: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    selector = workload_selector(workload)
    ns = meta(workload).get("namespace")
    return [dict(p) for p in pods if meta(p).get("namespace") == ns and selector_matches(selector, p)]


def _containers_status(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list((pod.get("status") or {}).get("containerStatuses") or [])


def pod_failure(pod: Mapping[str, Any]) -> str:
    """The first failure reason of a pod's containers (``ImagePullBackOff``…) or ``""``."""
    for cs in _containers_status(pod):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in FAILURE_REASONS:
            return str(waiting["reason"])
    if (pod.get("status") or {}).get("phase") == "Failed":
        return str((pod.get("status") or {}).get("reason") or "Failed")
    return ""


def unschedulable(pod: Mapping[str, Any]) -> str:
    """The scheduler's message when the pod is ``PodScheduled=False/Unschedulable``, else ``""``."""
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return str(cond.get("message") or cond.get("reason") or "Unschedulable")
    return ""


def pod_restarts(pod: Mapping[str, Any]) -> int:
    return sum(int(cs.get("restartCount") or 0) for cs in _containers_status(pod))


def pod_row(pod: Mapping[str, Any], now: datetime | None = None) -> PodRow:
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    statuses = _containers_status(pod)
    total = len(spec.get("containers") or []) or len(statuses)
    ready = sum(1 for cs in statuses if cs.get("ready"))
    shown = str(status.get("phase") or "Pending")
    reason = ""
    for cs in statuses:
        state = cs.get("state") or {}
        for key in ("waiting", "terminated"):
            if (state.get(key) or {}).get("reason"):
                shown = str(state[key]["reason"])
                reason = str(state[key].get("message") or "")
                break
    if shown == "Pending" and unschedulable(pod):
        reason = unschedulable(pod)
    if meta(pod).get("deletionTimestamp"):
        shown = "Terminating"
    return PodRow(
        name=str(meta(pod).get("name", "")),
        status=shown,
        ready=f"{ready}/{total}",
        restarts=pod_restarts(pod),
        node=str(spec.get("nodeName") or ""),
        age=age(meta(pod).get("creationTimestamp"), now),
        reason=reason,
    )


def _condition(obj: Mapping[str, Any], kind: str) -> dict[str, Any]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return {}


def rollout_counts(workload: Mapping[str, Any]) -> tuple[int, int, int]:
    """(desired, ready, updated) replicas of a Deployment or StatefulSet."""
    spec = workload.get("spec") or {}
    status = workload.get("status") or {}
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    ready = int(status.get("readyReplicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    return desired, ready, updated


def rollout_done(workload: Mapping[str, Any]) -> bool:
    """The controller saw the latest spec and every desired replica is updated and ready."""
    desired, ready, updated = rollout_counts(workload)
    status = workload.get("status") or {}
    generation = int(meta(workload).get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    current = int(status.get("replicas") or 0)
    return observed >= generation and ready == desired and updated >= desired and current == desired


def workload_status(workload: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> str:
    desired, ready, _ = rollout_counts(workload)
    live = [p for p in pods if not meta(p).get("deletionTimestamp")]
    for pod in live:
        failure = pod_failure(pod)
        if failure:
            return f"Failed: {failure}"
    if rollout_done(workload):
        return f"Running {ready}/{desired}"
    replica_failure = _condition(workload, "ReplicaFailure")
    progressing = _condition(workload, "Progressing")
    if (
        replica_failure.get("status") == "True"
        or progressing.get("reason") == "ProgressDeadlineExceeded"
        or any(unschedulable(p) for p in live)
    ):
        return "Degraded"
    return f"Progressing {ready}/{desired}"


def endpoints(service: Mapping[str, Any] | None, ingress: Mapping[str, Any] | None) -> list[str]:
    """Ingress URLs (``https`` when a TLS entry covers the host), else the Service's ports."""
    urls: list[str] = []
    if ingress is not None:
        spec = ingress.get("spec") or {}
        tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
        for rule in spec.get("rules") or []:
            host = rule.get("host") or "*"
            scheme = "https" if host in tls_hosts else "http"
            for path in (rule.get("http") or {}).get("paths") or [{"path": "/"}]:
                urls.append(f"{scheme}://{host}{path.get('path') or '/'}")
    if urls:
        return urls
    if service is not None:
        spec = service.get("spec") or {}
        return [f"{p.get('port')}/{p.get('protocol') or 'TCP'}" for p in spec.get("ports") or []]
    return []


def first_image(workload: Mapping[str, Any]) -> str:
    containers = ((workload.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    return str(containers[0].get("image", "")) if containers else ""


def app_row(
    workload: Mapping[str, Any],
    kind: str,
    pods: Sequence[Mapping[str, Any]],
    service: Mapping[str, Any] | None = None,
    ingress: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AppRow:
    desired, ready, _ = rollout_counts(workload)
    mine = pods_of(workload, pods)
    return AppRow(
        name=app_name_of(workload),
        namespace=str(meta(workload).get("namespace", "")),
        kind=kind,
        type="Stateful" if kind == "StatefulSet" else "Stateless",
        status=workload_status(workload, mine),
        ready=ready,
        replicas=desired,
        endpoints=endpoints(service, ingress),
        image=first_image(workload),
        age=age(meta(workload).get("creationTimestamp"), now),
        restarts=sum(pod_restarts(p) for p in mine),
        managed=is_managed(workload),
    )


# -- why pending? ----------------------------------------------------------------------------------
def classify_pending(message: str) -> tuple[str, str]:
    """(cause, suggested fix) for a scheduler / admission message."""
    text = message.lower()
    if "exceeded quota" in text or "failed quota" in text:
        return (
            "quota",
            "Lower the app's CPU/memory requests or replicas, free quota by scaling other apps down, "
            "or raise the workspace quota (or move to the Dedicated plan).",
        )
    if "untolerated taint" in text or "had taint" in text:
        return (
            "taints",
            "Schedule onto the workspace's dedicated nodes: set the node pool in the app's scheduling "
            "(adds the nodeSelector and the toleration for the workspace taint).",
        )
    if "insufficient" in text or "too many pods" in text:
        return (
            "insufficient resources",
            "Lower the CPU/memory requests or replicas, or add nodes (or a larger node type) to the pool.",
        )
    if "node affinity" in text or "node selector" in text or "didn't match" in text:
        return (
            "node selector",
            "No node carries the selected pool label: pick an existing node pool or add nodes to it.",
        )
    if "persistentvolumeclaim" in text or "volume" in text:
        return ("volume", "Check the app's volume claims: the storage class exists and can provision.")
    return ("unknown", "See the events of the pod for the scheduler's full message.")


def pending_reasons(
    pods: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]], owners: Sequence[str] = ()
) -> list[PendingReason]:
    """Unschedulable pods (condition + latest ``FailedScheduling`` event) and refused pod creations
    (``FailedCreate`` on the app's ReplicaSets/StatefulSet, e.g. quota) with a suggested fix."""
    latest: dict[tuple[str, str], str] = {}
    for ev in sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or "")):
        involved = ev.get("involvedObject") or {}
        latest[(str(ev.get("reason")), str(involved.get("name")))] = str(ev.get("message") or "")
    out: list[PendingReason] = []
    for pod in pods:
        name = str(meta(pod).get("name", ""))
        message = unschedulable(pod)
        if not message:
            continue
        message = latest.get(("FailedScheduling", name), message)
        cause, fix = classify_pending(message)
        out.append(PendingReason(name, cause, message, fix))
    for owner in owners:
        message = latest.get(("FailedCreate", owner), "")
        if message:
            cause, fix = classify_pending(message)
            out.append(PendingReason(f"(not created by {owner})", cause, message, fix))
    return out


def event_row(ev: Mapping[str, Any]) -> dict[str, Any]:
    involved = ev.get("involvedObject") or {}
    return {
        "time": str(ev.get("lastTimestamp") or ev.get("eventTime") or ""),
        "type": str(ev.get("type") or ""),
        "reason": str(ev.get("reason") or ""),
        "object": f"{involved.get('kind', '')}/{involved.get('name', '')}",
        "message": str(ev.get("message") or ""),
        "count": int(ev.get("count") or 1),
    }
