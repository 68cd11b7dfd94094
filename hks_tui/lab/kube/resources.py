"""The resource types the lab's Kubernetes API servers serve (the discovery registry)."""

from __future__ import annotations

from dataclasses import dataclass, field

_RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_RO = ("get", "list")


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    plural: str  # store key, e.g. "deployments"
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _RW
    model: str = ""  # kubernetes client model class name, e.g. "V1Pod"
    categories: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """Name used in error messages: ``pods``, ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def list_model(self) -> str:
        return f"{self.model}List"


_ALL = ("all",)

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "namespaces", "Namespace", False, ("ns",), ("status",), model="V1Namespace"),
    ResourceType("", "v1", "nodes", "Node", False, ("no",), ("status", "proxy"), model="V1Node"),
    ResourceType(
        "", "v1", "pods", "Pod", True, ("po",), ("status", "log", "eviction"), model="V1Pod", categories=_ALL
    ),
    ResourceType(
        "", "v1", "services", "Service", True, ("svc",), ("status",), model="V1Service", categories=_ALL
    ),
    ResourceType("", "v1", "endpoints", "Endpoints", True, ("ep",), model="V1Endpoints"),
    ResourceType("", "v1", "events", "Event", True, ("ev",), model="CoreV1Event"),
    ResourceType("", "v1", "configmaps", "ConfigMap", True, ("cm",), model="V1ConfigMap"),
    ResourceType("", "v1", "secrets", "Secret", True, model="V1Secret"),
    ResourceType("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",), model="V1ServiceAccount"),
    ResourceType(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        True,
        ("pvc",),
        ("status",),
        model="V1PersistentVolumeClaim",
    ),
    ResourceType(
        "",
        "v1",
        "persistentvolumes",
        "PersistentVolume",
        False,
        ("pv",),
        ("status",),
        model="V1PersistentVolume",
    ),
    ResourceType(
        "", "v1", "resourcequotas", "ResourceQuota", True, ("quota",), ("status",), model="V1ResourceQuota"
    ),
    ResourceType(
        "storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",), model="V1StorageClass"
    ),
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        True,
        ("deploy",),
        ("status", "scale"),
        model="V1Deployment",
        categories=_ALL,
    ),
    ResourceType(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        True,
        ("rs",),
        ("status", "scale"),
        model="V1ReplicaSet",
        categories=_ALL,
    ),
    ResourceType(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        True,
        ("sts",),
        ("status", "scale"),
        model="V1StatefulSet",
        categories=_ALL,
    ),
    ResourceType("batch", "v1", "jobs", "Job", True, (), ("status",), model="V1Job", categories=_ALL),
    ResourceType(
        "batch", "v1", "cronjobs", "CronJob", True, ("cj",), ("status",), model="V1CronJob", categories=_ALL
    ),
    ResourceType(
        "networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",), ("status",), model="V1Ingress"
    ),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True, model="V1Lease"),
    ResourceType(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        True,
        ("pdb",),
        ("status",),
        model="V1PodDisruptionBudget",
    ),
)

METRICS_GROUP = "metrics.k8s.io"
METRICS_VERSION = "v1beta1"
METRICS_TYPES: tuple[ResourceType, ...] = (
    ResourceType(METRICS_GROUP, METRICS_VERSION, "nodes", "NodeMetrics", False, verbs=_RO),
    ResourceType(METRICS_GROUP, METRICS_VERSION, "pods", "PodMetrics", True, verbs=_RO),
)

BY_PLURAL: dict[str, ResourceType] = {rt.plural: rt for rt in RESOURCE_TYPES}
BY_KIND: dict[str, ResourceType] = {rt.kind: rt for rt in RESOURCE_TYPES}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    rt = BY_PLURAL.get(plural)
    if rt is None or rt.group != group or rt.version != version:
        return None
    return rt


def resource_type(plural: str) -> ResourceType:
    """The registered type for a store key; ``KeyError`` if the lab does not serve it."""
    return BY_PLURAL[plural]


_GROUP_ORDER = ("apps", "batch", "networking.k8s.io", "policy", "storage.k8s.io", "coordination.k8s.io")


def groups() -> dict[str, list[str]]:
    """group → versions, in the apiserver's discovery order (core group excluded; aggregated APIs last)."""
    out: dict[str, list[str]] = {}
    for rt in (*RESOURCE_TYPES, *METRICS_TYPES):
        if rt.group and rt.version not in out.setdefault(rt.group, []):
            out[rt.group].append(rt.version)
    rank = {name: n for n, name in enumerate(_GROUP_ORDER)}
    return dict(sorted(out.items(), key=lambda item: rank.get(item[0], len(rank))))


def types_in(group: str, version: str) -> list[ResourceType]:
    if group == METRICS_GROUP:
        return [rt for rt in METRICS_TYPES if rt.version == version]
    return [rt for rt in RESOURCE_TYPES if rt.group == group and rt.version == version]
