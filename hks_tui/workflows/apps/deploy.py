"""``app.deploy``: dry run → quota check → apply in order (create or adopt) → wait for the rollout.

Params (JSON, journaled): ``workspace``, ``spec`` (the AppSpec as YAML, ``dump_spec`` format — objects
are rebuilt from it by the pure builders at each step), ``wait`` (default true), ``timeout`` (seconds),
and, added while running, ``created`` (the objects this workflow created, for rollback).

Two kinds share the steps: ``app.deploy`` rolls back on failure (deletes what *it* created, never an
adopted object) and ends ``compensated``; ``app.deploy.keep`` leaves what was applied and ends ``failed``.
"""

from __future__ import annotations

from typing import Any

from hks_tui.clients.errors import InvalidError, QuotaExceededError
from hks_tui.manifests import AppSpec, build_app, load_spec
from hks_tui.manifests.labels import app_labels
from hks_tui.workflows.apps import objects
from hks_tui.workflows.apps.quota import check_app_quota, current_usage, missing_requests
from hks_tui.workflows.apps.rollout import DEFAULT_TIMEOUT, wait_rollout
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.definition import Backoff, OnFailure, Step, WorkflowKind, default_retryable

DEPLOY = "app.deploy"
DEPLOY_KEEP = "app.deploy.keep"
_FAST = Backoff(base=0.5, factor=2.0, cap=5.0)


def spec_of(ctx: StepContext) -> AppSpec:
    return load_spec(AppSpec, str(ctx.params["spec"]))


def _selector(name: str) -> str:
    return ",".join(f"{k}={v}" for k, v in app_labels(name).items())


def dry_run(ctx: StepContext) -> dict[str, Any]:
    """Server-side dry run of every object; the server's causes come back keyed by AppSpec field."""
    kube = objects.kube_for(ctx)
    plan: list[str] = []
    for obj in build_app(spec_of(ctx)):
        try:
            verb = objects.dry_run(kube, obj)
        except InvalidError as err:
            raise objects.invalid_with_spec_fields(err, str(obj["kind"])) from None
        plan.append(f"{verb} {obj['kind']} {obj['metadata']['name']}")
        ctx.emit(f"dry run: {plan[-1]} accepted")
    return {"plan": plan}


def quota(ctx: StepContext) -> dict[str, Any]:
    """Refuse (with the numbers) when the app would exceed a ResourceQuota of its namespace."""
    kube = objects.kube_for(ctx)
    spec = spec_of(ctx)
    quotas = kube.list_raw("resourcequotas", namespace=spec.namespace).get("items", [])
    if not quotas:
        return {"quotas": 0}
    missing = missing_requests(spec, quotas)
    if missing:
        raise InvalidError(
            f"Check the quota of {spec.namespace} for {spec.name}",
            f"the namespace quota constrains {', '.join(missing)}, which the app does not set",
            "Set CPU and memory requests (and limits if the quota asks for them).",
            details={"errors": {"resources": f"required by the namespace quota: {', '.join(missing)}"}},
        )
    selector = _selector(spec.name)
    pods = kube.list_raw("pods", namespace=spec.namespace, label_selector=selector).get("items", [])
    claims = kube.list_raw("persistentvolumeclaims", namespace=spec.namespace, label_selector=selector)
    has_service = objects.read(kube, "Service", spec.name, spec.namespace) is not None
    existing = current_usage(pods, claims.get("items", []))
    violations = check_app_quota(spec, quotas, existing, has_service=has_service)
    if violations:
        raise QuotaExceededError(
            f"Check the quota of {spec.namespace} for {spec.name}",
            "; ".join(v.message for v in violations),
            details={"violations": [v.to_json() for v in violations], "errors": {"resources": "over quota"}},
        )
    ctx.emit(f"quota: fits in {len(quotas)} quota(s)")
    return {"quotas": len(quotas)}


def apply(ctx: StepContext) -> dict[str, Any]:
    """Create each object in order, or patch it when it exists (adopt). Remembers what it created."""
    kube = objects.kube_for(ctx)
    created = list(ctx.params.get("created") or [])
    done: list[str] = []
    for obj in build_app(spec_of(ctx)):
        ref = f"{obj['kind']}/{obj['metadata']['name']}"
        outcome = objects.apply(kube, obj)
        if outcome == "created" and ref not in created:
            created.append(ref)
            ctx.remember(created=created)
        done.append(f"{outcome} {ref}")
        ctx.emit(done[-1])
    return {"applied": done}


def rollback(ctx: StepContext) -> dict[str, Any]:
    """Delete what this workflow created, newest first (a created StatefulSet takes its PVCs along)."""
    kube = objects.kube_for(ctx)
    spec = spec_of(ctx)
    removed: list[str] = []
    created = list(ctx.params.get("created") or [])
    for ref in reversed(created):
        kind, name = ref.split("/", 1)
        if objects.delete(kube, kind, name, spec.namespace):
            removed.append(ref)
            ctx.emit(f"rolled back: deleted {ref}")
    if f"{spec.kind}/{spec.name}" in created and spec.volumes:
        selector = _selector(spec.name)
        claims = kube.list_raw("persistentvolumeclaims", namespace=spec.namespace, label_selector=selector)
        for pvc in claims.get("items", []):
            name = str(pvc["metadata"]["name"])
            if objects.delete(kube, "PersistentVolumeClaim", name, spec.namespace):
                removed.append(f"PersistentVolumeClaim/{name}")
                ctx.emit(f"rolled back: deleted PersistentVolumeClaim/{name}")
    return {"removed": removed}


def rollout(ctx: StepContext) -> dict[str, Any]:
    spec = spec_of(ctx)
    if not ctx.params.get("wait", True):
        return {"waited": False}
    result = wait_rollout(
        objects.kube_for(ctx),
        spec.kind,
        spec.name,
        spec.namespace,
        timeout=float(ctx.params.get("timeout") or DEFAULT_TIMEOUT),
        on_progress=ctx.emit,
        cancel=lambda: ctx.cancel_requested,
    )
    return {"waited": True, **result}


def _not_rollout_failure(exc: BaseException) -> bool:
    from hks_tui.workflows.apps.rollout import RolloutFailed, RolloutTimeout

    return not isinstance(exc, RolloutFailed | RolloutTimeout) and default_retryable(exc)


def _steps(with_rollback: bool) -> list[Step]:
    return [
        Step("dry_run", run=dry_run, title="Server-side dry run", max_attempts=3, backoff=_FAST),
        Step("quota", run=quota, title="Quota check", max_attempts=3, backoff=_FAST),
        Step(
            "apply",
            run=apply,
            title="Apply objects",
            compensate=rollback if with_rollback else None,
            max_attempts=4,
            backoff=_FAST,
        ),
        Step(
            "rollout",
            run=rollout,
            title="Wait for the rollout",
            max_attempts=3,
            backoff=_FAST,
            retry_on=_not_rollout_failure,
        ),
    ]


def _describe(params: Any) -> str:
    try:
        spec = load_spec(AppSpec, str(params["spec"]))
    except Exception:
        return "deploy an application"
    return f"deploy {spec.kind} {spec.namespace}/{spec.name} ({spec.image})"


APP_DEPLOY = WorkflowKind(
    DEPLOY,
    _steps(with_rollback=True),
    on_failure=OnFailure.COMPENSATE,
    title="Deploy application",
    describe=_describe,
)
APP_DEPLOY_KEEP = WorkflowKind(
    DEPLOY_KEEP,
    _steps(with_rollback=False),
    on_failure=OnFailure.FAIL,
    compensate_on_cancel=False,
    title="Deploy application (keep on failure)",
    describe=_describe,
)
