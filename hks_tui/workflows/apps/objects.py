"""Kubernetes object operations shared by the app workflows: read / dry-run / apply / delete by kind.

Reads return raw JSON (no model parsing); writes pass dicts to the typed API methods of
:class:`~hks_tui.clients.kube.KubeClient` through ``kube.call`` (so the transport guard audits them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hks_tui.clients.errors import ConflictError, HksError, InvalidError, NotFoundError

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient
    from hks_tui.workflows.context import StepContext


@dataclass(frozen=True)
class KindOps:
    api: str  # KubeClient attribute: core | apps | networking
    snake: str  # deployment | stateful_set | service | ingress | persistent_volume_claim
    plural: str  # list_raw resource name


KINDS: dict[str, KindOps] = {
    "Service": KindOps("core", "service", "services"),
    "Deployment": KindOps("apps", "deployment", "deployments"),
    "StatefulSet": KindOps("apps", "stateful_set", "statefulsets"),
    "Ingress": KindOps("networking", "ingress", "ingresses"),
    "PersistentVolumeClaim": KindOps("core", "persistent_volume_claim", "persistentvolumeclaims"),
}


def kube_for(ctx: StepContext) -> KubeClient:
    """The vCluster client of the workflow's workspace, from whatever the engine was built with:
    a ``KubeClient``, an object with ``vcluster_client(ws)`` (``NodeService``, ``AppService``), or
    ``Services`` (``deps.nodes.vcluster_client``)."""
    deps = ctx.deps
    workspace = str(ctx.params.get("workspace", ""))
    if hasattr(deps, "list_raw") and hasattr(deps, "call"):
        return deps  # type: ignore[no-any-return]
    if hasattr(deps, "vcluster_client"):
        return deps.vcluster_client(workspace)  # type: ignore[no-any-return]
    nodes = getattr(deps, "nodes", None)
    if nodes is not None and hasattr(nodes, "vcluster_client"):
        return nodes.vcluster_client(workspace)  # type: ignore[no-any-return]
    raise HksError(
        f"Run {ctx.kind}",
        "the workflow engine was built without Kubernetes clients",
        "Build the engine with deps=services (or a KubeClient).",
    )


def _method(kube: KubeClient, kind: str, verb: str) -> Any:
    ops = KINDS[kind]
    return getattr(getattr(kube, ops.api), f"{verb}_namespaced_{ops.snake}")


def read(kube: KubeClient, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    """The object as raw JSON, or ``None`` when it does not exist."""
    try:
        resp = kube.call(
            _method(kube, kind, "read"), name, namespace, _preload_content=False, what=f"Read {kind} {name}"
        )
    except NotFoundError:
        return None
    return dict(json.loads(resp.data))


def read_pod(kube: KubeClient, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        resp = kube.call(kube.core.read_namespaced_pod, name, namespace, _preload_content=False)
    except NotFoundError:
        return None
    return dict(json.loads(resp.data))


def _ident(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return str(obj["kind"]), str(meta["name"]), str(meta.get("namespace") or "default")


def dry_run(kube: KubeClient, obj: Mapping[str, Any]) -> str:
    """Server-side dry run of creating (or, when it exists, patching) ``obj``; returns "create"/"update"."""
    kind, name, ns = _ident(obj)
    try:
        kube.call(
            _method(kube, kind, "create"),
            ns,
            dict(obj),
            dry_run="All",
            _preload_content=False,
            what=f"Dry-run create {kind} {name}",
            action=f"kube.dryrun.{kind.lower()}",
        )
        return "create"
    except ConflictError:
        kube.call(
            _method(kube, kind, "patch"),
            name,
            ns,
            dict(obj),
            dry_run="All",
            _preload_content=False,
            what=f"Dry-run update {kind} {name}",
            action=f"kube.dryrun.{kind.lower()}",
        )
        return "update"


def apply(kube: KubeClient, obj: Mapping[str, Any]) -> str:
    """Create ``obj``, or strategic-merge-patch it when it already exists (adopt); "created"/"updated"."""
    kind, name, ns = _ident(obj)
    if read(kube, kind, name, ns) is None:
        try:
            kube.call(_method(kube, kind, "create"), ns, dict(obj), _preload_content=False)
            return "created"
        except ConflictError:
            pass  # created meanwhile (e.g. a lost response on an earlier attempt): adopt it
    kube.call(_method(kube, kind, "patch"), name, ns, dict(obj), _preload_content=False)
    return "updated"


def patch(kube: KubeClient, kind: str, name: str, namespace: str, body: Mapping[str, Any]) -> None:
    kube.call(_method(kube, kind, "patch"), name, namespace, dict(body), _preload_content=False)


def delete(kube: KubeClient, kind: str, name: str, namespace: str) -> bool:
    """Delete (background propagation); ``False`` when it was already gone."""
    try:
        kube.call(
            _method(kube, kind, "delete"),
            name,
            namespace,
            propagation_policy="Background",
            _preload_content=False,
        )
        return True
    except NotFoundError:
        return False


_CONTAINER = re.compile(r"^spec\.template\.spec\.containers\[\d+\]\.?")
_DIRECT = {
    "image": "image",
    "ports": "ports",
    "env": "env",
    "resources": "resources",
    "command": "command",
    "args": "args",
    "readinessProbe": "probe",
    "livenessProbe": "probe",
    "volumeMounts": "volumes",
}


def spec_field(kind: str, path: str) -> str:
    """The AppSpec field a server cause's ``field`` path is about (best effort; else the path)."""
    if path.startswith("metadata.name"):
        return "name"
    if path.startswith("metadata.namespace"):
        return "namespace"
    if kind in ("Deployment", "StatefulSet"):
        if path.startswith("spec.replicas"):
            return "replicas"
        if path.startswith("spec.volumeClaimTemplates"):
            return "volumes"
        if path.startswith(("spec.template.spec.nodeSelector", "spec.template.spec.tolerations")):
            return "scheduling"
        if path.startswith("spec.template.spec.imagePullSecrets"):
            return "image_pull_secret"
        rest = _CONTAINER.sub("", path)
        if rest != path:
            head = re.split(r"[.\[]", rest, maxsplit=1)[0]
            if head in _DIRECT:
                return _DIRECT[head] + rest[len(head) :] if head in ("ports", "env") else _DIRECT[head]
    if kind == "Service" and path.startswith("spec.ports"):
        return "ports"
    if kind == "Ingress":
        if ".host" in path:
            return "ingress.host"
        if ".path" in path:
            return "ingress.path"
        if path.startswith("spec.tls"):
            return "ingress.tls_secret"
        return "ingress"
    return path


def invalid_with_spec_fields(err: InvalidError, kind: str) -> InvalidError:
    """The same error with its causes keyed by AppSpec field (the server's path kept in the message)."""
    mapped: dict[str, str] = {}
    for path, message in err.field_errors.items():
        key = spec_field(kind, path)
        text = f"{message} ({kind} {path})"
        mapped[key] = f"{mapped[key]}; {text}" if key in mapped else text
    details = {**err.details, "errors": mapped, "server_errors": err.field_errors, "kind": kind}
    return InvalidError(
        err.what, err.why, err.next_step, backend=err.backend, status=err.status, details=details
    )
