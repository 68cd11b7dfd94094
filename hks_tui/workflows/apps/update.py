"""Update workflows of an existing app: ``app.scale``, ``app.set_image``, ``app.restart_all``, ``app.delete``.

Common params: ``workspace``, ``namespace``, ``name`` (the app), ``kind`` (Deployment | StatefulSet, the
workload found by the service), ``wait`` (default true), ``timeout``. Every patch is idempotent (the same
body twice is the same object); ``app.restart_all`` journals its ``restarted_at`` stamp before patching.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hks_tui.manifests.labels import app_labels
from hks_tui.workflows.apps import objects
from hks_tui.workflows.apps.rollout import DEFAULT_TIMEOUT, RolloutFailed, RolloutTimeout, wait_rollout
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.definition import Backoff, OnFailure, Step, WorkflowKind, default_retryable

SCALE, SET_IMAGE, RESTART_ALL, DELETE = "app.scale", "app.set_image", "app.restart_all", "app.delete"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_FAST = Backoff(base=0.5, factor=2.0, cap=5.0)


def _where(ctx: StepContext) -> tuple[str, str, str]:
    return str(ctx.params["kind"]), str(ctx.params["name"]), str(ctx.params["namespace"])


def _workload_name(ctx: StepContext) -> str:
    return str(ctx.params.get("workload") or ctx.params["name"])


def scale(ctx: StepContext) -> dict[str, Any]:
    kind, _, ns = _where(ctx)
    replicas = int(ctx.params["replicas"])
    objects.patch(objects.kube_for(ctx), kind, _workload_name(ctx), ns, {"spec": {"replicas": replicas}})
    ctx.emit(f"{kind} {_workload_name(ctx)} scaled to {replicas}")
    return {"replicas": replicas}


def set_image(ctx: StepContext) -> dict[str, Any]:
    kind, _, ns = _where(ctx)
    kube = objects.kube_for(ctx)
    workload = objects.read(kube, kind, _workload_name(ctx), ns)
    if workload is None:
        from hks_tui.clients.errors import NotFoundError

        raise NotFoundError(f"Set the image of {kind} {ns}/{_workload_name(ctx)}", "it does not exist")
    containers = workload["spec"]["template"]["spec"]["containers"]
    container = str(ctx.params.get("container") or containers[0]["name"])
    body = {
        "spec": {"template": {"spec": {"containers": [{"name": container, "image": ctx.params["image"]}]}}}
    }
    objects.patch(kube, kind, _workload_name(ctx), ns, body)
    ctx.emit(f"{kind} {_workload_name(ctx)}: container {container} → {ctx.params['image']}")
    return {"container": container, "image": ctx.params["image"]}


def restart_all(ctx: StepContext) -> dict[str, Any]:
    kind, _, ns = _where(ctx)
    stamp = ctx.params.get("restarted_at")
    if not stamp:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        ctx.remember(restarted_at=stamp)  # before the call: a retry sends the same body
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    objects.patch(objects.kube_for(ctx), kind, _workload_name(ctx), ns, body)
    ctx.emit(f"{kind} {_workload_name(ctx)}: rolling restart ({RESTARTED_AT}={stamp})")
    return {"restarted_at": stamp}


def rollout(ctx: StepContext) -> dict[str, Any]:
    if not ctx.params.get("wait", True):
        return {"waited": False}
    kind, _, ns = _where(ctx)
    result = wait_rollout(
        objects.kube_for(ctx),
        kind,
        _workload_name(ctx),
        ns,
        timeout=float(ctx.params.get("timeout") or DEFAULT_TIMEOUT),
        on_progress=ctx.emit,
        cancel=lambda: ctx.cancel_requested,
    )
    return {"waited": True, **result}


def _delete_named(kind: str) -> Any:
    def run(ctx: StepContext) -> dict[str, Any]:
        _, name, ns = _where(ctx)
        target = _workload_name(ctx) if kind in ("Deployment", "StatefulSet") else name
        if kind in ("Deployment", "StatefulSet") and kind != ctx.params["kind"]:
            return {"skipped": True}
        gone = objects.delete(objects.kube_for(ctx), kind, target, ns)
        ctx.emit(f"{'deleted' if gone else 'already gone:'} {kind}/{target}")
        return {"deleted": gone}

    return run


def delete_volumes(ctx: StepContext) -> dict[str, Any]:
    if not ctx.params.get("delete_volumes"):
        return {"kept": True}
    _, name, ns = _where(ctx)
    kube = objects.kube_for(ctx)
    selector = ",".join(f"{k}={v}" for k, v in app_labels(name).items())
    deleted: list[str] = []
    for pvc in kube.list_raw("persistentvolumeclaims", namespace=ns, label_selector=selector).get(
        "items", []
    ):
        pvc_name = str(pvc["metadata"]["name"])
        if objects.delete(kube, "PersistentVolumeClaim", pvc_name, ns):
            deleted.append(pvc_name)
            ctx.emit(f"deleted PersistentVolumeClaim/{pvc_name}")
    return {"deleted": deleted}


def _retry_unless_rollout_failed(exc: BaseException) -> bool:
    return not isinstance(exc, RolloutFailed | RolloutTimeout) and default_retryable(exc)


def _rollout_step() -> Step:
    return Step(
        "rollout",
        run=rollout,
        title="Wait for the rollout",
        max_attempts=3,
        backoff=_FAST,
        retry_on=_retry_unless_rollout_failed,
    )


def _describe(verb: str) -> Any:
    return lambda p: f"{verb} {p.get('kind', 'app')} {p.get('namespace', '')}/{p.get('name', '')}"


APP_SCALE = WorkflowKind(
    SCALE,
    [Step("scale", run=scale, title="Set replicas", max_attempts=4, backoff=_FAST), _rollout_step()],
    on_failure=OnFailure.FAIL,
    title="Scale application",
    describe=_describe("scale"),
)
APP_SET_IMAGE = WorkflowKind(
    SET_IMAGE,
    [Step("set_image", run=set_image, title="Set image", max_attempts=4, backoff=_FAST), _rollout_step()],
    on_failure=OnFailure.FAIL,
    title="Update application image",
    describe=_describe("set the image of"),
)
APP_RESTART_ALL = WorkflowKind(
    RESTART_ALL,
    [
        Step("restart", run=restart_all, title="Rolling restart", max_attempts=4, backoff=_FAST),
        _rollout_step(),
    ],
    on_failure=OnFailure.FAIL,
    title="Restart application",
    describe=_describe("restart"),
)
APP_DELETE = WorkflowKind(
    DELETE,
    [
        Step("ingress", run=_delete_named("Ingress"), delete=True, max_attempts=4, backoff=_FAST),
        Step("service", run=_delete_named("Service"), delete=True, max_attempts=4, backoff=_FAST),
        Step("deployment", run=_delete_named("Deployment"), delete=True, max_attempts=4, backoff=_FAST),
        Step("statefulset", run=_delete_named("StatefulSet"), delete=True, max_attempts=4, backoff=_FAST),
        Step("volumes", run=delete_volumes, title="Delete volumes (if asked)", max_attempts=4, backoff=_FAST),
    ],
    on_failure=OnFailure.FAIL,
    title="Delete application",
    describe=_describe("delete"),
)
