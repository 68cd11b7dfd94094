"""Applications of a workspace: list, detail ("why pending?"), deploy/update/delete workflows, logs.

An Application is the set of objects labelled ``app.kubernetes.io/name=<app>`` and
``app.kubernetes.io/managed-by=hks-tui`` (Deployment or StatefulSet + Service + optional Ingress +
PVCs); other Deployments/StatefulSets are listed read-only as ``external`` (``managed=False``).

Build it from :class:`~hks_tui.services.Services`: ``AppService(services, "dev")``. Mutations run as
durable workflows (:mod:`hks_tui.workflows.apps`) on an engine built with ``deps=services``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hks_tui.clients.errors import ConflictError, ForbiddenError, HksError, InvalidError, NotFoundError
from hks_tui.manifests import AppSpec, dump_spec
from hks_tui.manifests.labels import app_labels
from hks_tui.services.apps_live import RESOURCES as LIVE_RESOURCES
from hks_tui.services.apps_live import AppListWatch, build_rows
from hks_tui.services.apps_logs import AppLogStream
from hks_tui.workflows.apps import (
    APP_KINDS,
    DELETE,
    DEPLOY,
    DEPLOY_KEEP,
    RESTART_ALL,
    SCALE,
    SET_IMAGE,
)
from hks_tui.workflows.apps import objects as ops
from hks_tui.workflows.apps.state import (
    AppDetail,
    AppRow,
    app_row,
    event_row,
    is_managed,
    meta,
    pending_reasons,
    pod_row,
    pods_of,
)

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient
    from hks_tui.models import WorkflowRecord
    from hks_tui.services import Services
    from hks_tui.workflows import WorkflowEngine

_WORKLOADS = (("deployments", "Deployment"), ("statefulsets", "StatefulSet"))


def app_selector(name: str) -> str:
    return ",".join(f"{k}={v}" for k, v in app_labels(name).items())


class AppService:
    def __init__(self, services: Services, workspace: str | None = None, *, engine: Any = None) -> None:
        self.services = services
        refs = services.workspaces.refs
        current = str(getattr(getattr(services.clients, "profile", None), "workspace", "") or "")
        self.workspace = workspace or current or (sorted(refs)[0] if refs else "")
        self.executor = services.executor
        self._engine: WorkflowEngine | None = engine

    # -- plumbing ------------------------------------------------------------------------------------
    @property
    def kube(self) -> KubeClient:
        return self.services.nodes.vcluster_client(self.workspace)

    def vcluster_client(self, workspace: str) -> KubeClient:
        return self.services.nodes.vcluster_client(workspace)

    @property
    def engine(self) -> WorkflowEngine:
        if self._engine is None:
            from hks_tui.workflows import WorkflowEngine

            if self.services.store is None:
                raise HksError("Run an application workflow", "no state database is open")
            self._engine = WorkflowEngine(
                self.services.store, APP_KINDS, deps=self.services, executor=self.executor
            )
        return self._engine

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.aclose()
            self._engine = None

    # -- list ------------------------------------------------------------------------------------------
    async def list(self, namespace: str | None = None) -> builtins.list[AppRow]:
        """Every app (managed and external) of ``namespace`` or of all projects, sorted by project/name."""
        return await self.executor.run(self.list_sync, namespace)

    def _lists(self, namespace: str | None, *resources: str) -> builtins.list[builtins.list[dict[str, Any]]]:
        kube = self.kube
        return [list(kube.list_raw(r, namespace=namespace).get("items") or []) for r in resources]

    def list_sync(self, namespace: str | None = None) -> builtins.list[AppRow]:
        return build_rows(*self._lists(namespace, *LIVE_RESOURCES))

    def watch_rows(
        self, on_rows: Callable[[builtins.list[AppRow]], None], namespace: str | None = None
    ) -> AppListWatch:
        """Live list by watch (shared watch cache): ``on_rows(rows)`` after each change; ``.stop()``."""
        return AppListWatch(self.services.watch_cache, self.kube, on_rows, namespace=namespace).start()

    # -- detail ----------------------------------------------------------------------------------------
    async def show(self, name: str, namespace: str = "default") -> AppDetail:
        return await self.executor.run(self.show_sync, name, namespace)

    def find_workload(self, name: str, namespace: str) -> tuple[str, dict[str, Any]]:
        """(kind, object) of the app's Deployment/StatefulSet: by the app label, else by name (external)."""
        kube = self.kube
        for resource, kind in _WORKLOADS:
            items = kube.list_raw(resource, namespace=namespace, label_selector=app_selector(name))
            if items.get("items"):
                return kind, dict(items["items"][0])
        for _, kind in _WORKLOADS:
            obj = ops.read(kube, kind, name, namespace)
            if obj is not None:
                return kind, obj
        raise NotFoundError(
            f"Find application {namespace}/{name}",
            f"no Deployment or StatefulSet of that name in {self.workspace}/{namespace}",
            "List the project's apps with `hks-tui apps list`.",
        )

    def show_sync(self, name: str, namespace: str = "default") -> AppDetail:
        kind, workload = self.find_workload(name, namespace)
        managed = is_managed(workload)
        kube = self.kube
        pods, rss, events = self._lists(namespace, "pods", "replicasets", "events")
        svc = ops.read(kube, "Service", name, namespace) if managed else None
        ing = ops.read(kube, "Ingress", name, namespace) if managed else None
        claims = kube.list_raw(
            "persistentvolumeclaims", namespace=namespace, label_selector=app_selector(name)
        )
        mine = pods_of(workload, pods)
        wl_name = str(meta(workload)["name"])
        owned_rs = [
            rs for rs in rss if any(o.get("name") == wl_name for o in meta(rs).get("ownerReferences") or [])
        ]
        objects = [_object_state(kind, workload)]
        objects += [_object_state("ReplicaSet", rs) for rs in owned_rs]
        objects += [_object_state(k, o) for k, o in (("Service", svc), ("Ingress", ing)) if o is not None]
        objects += [_object_state("PersistentVolumeClaim", c) for c in claims.get("items") or []]
        names = {str(meta(o).get("name")) for o in [workload, *owned_rs, *mine, *(claims.get("items") or [])]}
        names |= {name}
        mine_events = [e for e in events if str((e.get("involvedObject") or {}).get("name")) in names]
        mine_events.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
        owners = [wl_name, *(str(meta(rs)["name"]) for rs in owned_rs)]
        return AppDetail(
            row=app_row(workload, kind, pods, svc, ing),
            objects=objects,
            pods=[pod_row(p) for p in sorted(mine, key=lambda p: str(meta(p).get("name")))],
            events=[event_row(e) for e in mine_events[-20:]],
            pending=pending_reasons(mine, mine_events, owners),
        )

    # -- workflows -------------------------------------------------------------------------------------
    async def _run(self, kind: str, params: dict[str, Any], target: str) -> WorkflowRecord:
        params = {"workspace": self.workspace, **params}
        from hks_tui.workflows import SecretInParamsError, TargetBusyError

        engine = self.engine
        try:
            record = engine.create(kind, params, workspace=self.workspace, target=target, exclusive=True)
        except SecretInParamsError:
            raise InvalidError(
                f"Start {kind} on {self.workspace}/{target}",
                "the spec holds a secret-looking literal value (workflow parameters are stored on disk)",
                "Take the value from a Secret (env `secret: {name, key}`) instead of a literal.",
                details={"errors": {"env": "use a Secret reference for secret values"}},
            ) from None
        except TargetBusyError as exc:
            raise ConflictError(
                f"Start {kind} on {self.workspace}/{target}",
                str(exc),
                "Wait for it to finish, or resume/cancel it (`hks-tui workflows`).",
            ) from None
        return await engine.run(record.id)

    async def deploy(
        self, spec: AppSpec, *, wait: bool = True, rollback: bool = False, timeout: float | None = None
    ) -> WorkflowRecord:
        """Run ``app.deploy`` (rollback: delete what it created on failure) or ``app.deploy.keep``."""
        params: dict[str, Any] = {"spec": dump_spec(spec), "wait": wait}
        if timeout is not None:
            params["timeout"] = timeout
        return await self._run(DEPLOY if rollback else DEPLOY_KEEP, params, f"{spec.namespace}/{spec.name}")

    async def _managed(self, name: str, namespace: str, action: str) -> tuple[str, dict[str, Any]]:
        kind, workload = await self.executor.run(self.find_workload, name, namespace)
        if not is_managed(workload):
            raise ForbiddenError(
                f"{action} {namespace}/{name}",
                "it is an external app (not made by hks-tui); it is listed read-only",
                "Change it with the tool that created it.",
            )
        return kind, workload

    async def _update(
        self,
        kind_name: str,
        name: str,
        namespace: str,
        action: str,
        extra: dict[str, Any],
        wait: bool,
        timeout: float | None,
    ) -> WorkflowRecord:
        kind, workload = await self._managed(name, namespace, action)
        params = {"namespace": namespace, "name": name, "kind": kind, "workload": meta(workload)["name"]}
        params.update(extra, wait=wait)
        if timeout is not None:
            params["timeout"] = timeout
        return await self._run(kind_name, params, f"{namespace}/{name}")

    async def scale(
        self,
        name: str,
        replicas: int,
        namespace: str = "default",
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> WorkflowRecord:
        if not 0 <= replicas <= 100:
            raise InvalidError(
                f"Scale {namespace}/{name}",
                "replicas must be 0–100",
                details={"errors": {"replicas": "must be 0–100"}},
            )
        return await self._update(SCALE, name, namespace, "Scale", {"replicas": replicas}, wait, timeout)

    async def set_image(
        self,
        name: str,
        image: str,
        namespace: str = "default",
        *,
        container: str | None = None,
        wait: bool = True,
        timeout: float | None = None,
    ) -> WorkflowRecord:
        from hks_tui.validation import validate_image

        try:
            image = validate_image(image)
        except ValueError as exc:
            raise InvalidError(
                f"Set the image of {namespace}/{name}", str(exc), details={"errors": {"image": str(exc)}}
            ) from None
        extra: dict[str, Any] = {"image": image}
        if container:
            extra["container"] = container
        return await self._update(SET_IMAGE, name, namespace, "Set the image of", extra, wait, timeout)

    async def restart_all(
        self, name: str, namespace: str = "default", *, wait: bool = True, timeout: float | None = None
    ) -> WorkflowRecord:
        """Rolling restart through the ``kubectl.kubernetes.io/restartedAt`` template annotation."""
        return await self._update(RESTART_ALL, name, namespace, "Restart", {}, wait, timeout)

    async def restart_pod(self, name: str, pod: str, namespace: str = "default") -> str:
        """Delete one pod of the app (its controller replaces it); returns the pod name."""
        _kind, workload = await self._managed(name, namespace, "Restart a pod of")

        def run() -> str:
            kube = self.kube
            found = ops.read_pod(kube, pod, namespace)
            if found is None or not pods_of(workload, [found]):
                raise NotFoundError(
                    f"Restart pod {pod}", f"no pod of that name belongs to {namespace}/{name}"
                )
            kube.call(kube.core.delete_namespaced_pod, pod, namespace, _preload_content=False)
            return pod

        return await self.executor.run(run)

    async def delete(
        self, name: str, namespace: str = "default", *, confirm: str, delete_volumes: bool = False
    ) -> WorkflowRecord:
        """Delete the workload, Service and Ingress (PVCs only with ``delete_volumes``); ``confirm`` must be
        the app's exact name."""
        if confirm != name:
            raise InvalidError(
                f"Delete application {namespace}/{name}",
                f"the confirmation {confirm!r} is not the app's name",
                f"Type the exact name: {name}",
                details={"errors": {"confirm": f"type {name} to confirm"}},
            )
        return await self._update(
            DELETE, name, namespace, "Delete", {"delete_volumes": delete_volumes}, False, None
        )

    # -- logs -------------------------------------------------------------------------------------------
    async def logs(
        self, name: str, namespace: str = "default", *, tail: int = 100
    ) -> builtins.list[tuple[str, str]]:
        """The last ``tail`` lines of each pod of the app, as (pod, line)."""
        _kind, workload = await self.executor.run(self.find_workload, name, namespace)

        def run() -> builtins.list[tuple[str, str]]:
            kube = self.kube
            pods = pods_of(workload, kube.list_raw("pods", namespace=namespace).get("items") or [])
            out: builtins.list[tuple[str, str]] = []
            for pod in sorted(pods, key=lambda p: str(meta(p)["name"])):
                pod_name = str(meta(pod)["name"])
                try:
                    text = kube.call(kube.core.read_namespaced_pod_log, pod_name, namespace, tail_lines=tail)
                except HksError:
                    continue  # not started yet: no log
                out.extend((pod_name, line) for line in str(text).splitlines())
            return out

        return await self.executor.run(run)

    async def follow_logs(
        self,
        name: str,
        on_line: Callable[[str, str], None],
        on_state: Callable[[str, str], None] | None = None,
        namespace: str = "default",
        *,
        tail: int = 10,
        container: str | None = None,
        stall_after: float = 60.0,
    ) -> AppLogStream:
        """Start an aggregated follow of all the app's pods (pods that come and go are followed)."""
        _kind, workload = await self.executor.run(self.find_workload, name, namespace)
        selector = ",".join(
            f"{k}={v}" for k, v in (workload["spec"]["selector"].get("matchLabels") or {}).items()
        )
        stream = AppLogStream(
            self.kube,
            namespace,
            selector,
            on_line,
            on_state,
            tail_lines=tail,
            container=container,
            stall_after=stall_after,
        )
        return stream.start()


def _object_state(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        state = f"{status.get('readyReplicas') or 0}/{spec.get('replicas', 0)} ready"
    elif kind == "PersistentVolumeClaim":
        state = (
            f"{status.get('phase', 'Pending')} {(status.get('capacity') or {}).get('storage', '')}".strip()
        )
    elif kind == "Service":
        state = f"{spec.get('type', 'ClusterIP')} {spec.get('clusterIP') or ''}".strip()
    elif kind == "Ingress":
        state = ", ".join(str(r.get("host", "*")) for r in spec.get("rules") or [])
    else:
        state = ""
    return {"kind": kind, "name": str(meta(obj).get("name", "")), "state": state}
