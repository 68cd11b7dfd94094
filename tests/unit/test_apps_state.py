"""Pure app views: status, endpoints, pod rows, "why pending?", quota arithmetic, cause → field mapping."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hks_tui.clients.errors import InvalidError
from hks_tui.manifests import AppSpec
from hks_tui.workflows.apps.objects import invalid_with_spec_fields, spec_field
from hks_tui.workflows.apps.quota import app_usage, check_app_quota, current_usage, missing_requests
from hks_tui.workflows.apps.state import (
    age,
    app_row,
    classify_pending,
    endpoints,
    pending_reasons,
    pod_row,
    workload_status,
)

LABELS = {"app.kubernetes.io/name": "shop", "app.kubernetes.io/managed-by": "hks-tui"}


def _deploy(
    replicas: int = 3, ready: int = 3, updated: int = 3, generation: int = 1, **status: Any
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "shop",
            "namespace": "default",
            "labels": LABELS,
            "generation": generation,
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": LABELS},
            "template": {"spec": {"containers": [{"name": "shop", "image": "nginx:1"}]}},
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "readyReplicas": ready,
            "updatedReplicas": updated,
            **status,
        },
    }


def _pod(name: str, waiting: str = "", restarts: int = 0, unschedulable: str = "") -> dict[str, Any]:
    state: dict[str, Any] = (
        {"waiting": {"reason": waiting, "message": "back-off"}} if waiting else {"running": {}}
    )
    conditions = (
        [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": unschedulable}]
        if unschedulable
        else []
    )
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": LABELS,
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {
            "containers": [{"name": "shop", "image": "nginx:1"}],
            "nodeName": "" if unschedulable else "n1",
        },
        "status": {
            "phase": "Pending" if waiting or unschedulable else "Running",
            "conditions": conditions,
            "containerStatuses": []
            if unschedulable
            else [{"name": "shop", "ready": not waiting, "restartCount": restarts, "state": state}],
        },
    }


def test_status_running_progressing_failed_degraded() -> None:
    assert workload_status(_deploy(), [_pod("a"), _pod("b"), _pod("c")]) == "Running 3/3"
    assert workload_status(_deploy(ready=1, updated=1), [_pod("a")]) == "Progressing 1/3"
    assert (
        workload_status(_deploy(ready=2), [_pod("a"), _pod("b", "ImagePullBackOff")])
        == "Failed: ImagePullBackOff"
    )
    assert workload_status(_deploy(ready=0), [_pod("a", unschedulable="0/3 nodes")]) == "Degraded"
    stale = _deploy(generation=2)  # the controller has not seen the new spec yet
    assert workload_status(stale, []) == "Progressing 3/3"


def test_app_row_counts_restarts_and_prefers_ingress_urls() -> None:
    ingress = {
        "spec": {
            "rules": [{"host": "shop.example.com", "http": {"paths": [{"path": "/api"}]}}],
            "tls": [{"hosts": ["shop.example.com"]}],
        }
    }
    service = {"spec": {"ports": [{"port": 80, "protocol": "TCP"}]}}
    row = app_row(
        _deploy(),
        "Deployment",
        [_pod("a", restarts=2), _pod("b", restarts=1)],
        service,
        ingress,
        now=datetime(2026, 1, 1, 3, tzinfo=UTC),
    )
    assert row.endpoints == ["https://shop.example.com/api"] and row.restarts == 3 and row.age == "3h"
    assert row.type == "Stateless" and row.managed and row.key == "default/shop"
    assert endpoints(service, None) == ["80/TCP"] and endpoints(None, None) == []


def test_pod_row_shows_the_waiting_reason() -> None:
    row = pod_row(_pod("a", "CrashLoopBackOff", restarts=4))
    assert (row.status, row.ready, row.restarts, row.node) == ("CrashLoopBackOff", "0/1", 4, "n1")
    assert pod_row(_pod("b")).status == "Running"
    assert age("2026-01-01T00:00:00Z", datetime(2026, 1, 3, tzinfo=UTC)) == "2d" and age(None) == ""


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        ("0/5 nodes are available: 2 node(s) had untolerated taint {hks.io/workspace: prod}", "taints"),
        ("0/3 nodes are available: 3 Insufficient cpu.", "insufficient resources"),
        ('pods "x" is forbidden: exceeded quota: hks-quota, requested: requests.cpu=500m', "quota"),
        ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.", "node selector"),
        ("something else", "unknown"),
    ],
)
def test_pending_causes_and_fixes(message: str, cause: str) -> None:
    found, fix = classify_pending(message)
    assert found == cause and fix


def test_pending_reasons_use_the_latest_event_and_failed_creates() -> None:
    pod = _pod("a", unschedulable="0/3 nodes are available")
    events = [
        {
            "reason": "FailedScheduling",
            "involvedObject": {"name": "a"},
            "lastTimestamp": "2026-01-01T00:00:01Z",
            "message": "0/3 nodes are available: 3 Insufficient memory.",
        },
        {
            "reason": "FailedCreate",
            "involvedObject": {"name": "shop-abc"},
            "lastTimestamp": "2026-01-01T00:00:02Z",
            "message": 'pods "shop-abc-x" is forbidden: exceeded quota: hks-quota',
        },
    ]
    reasons = pending_reasons([pod, _pod("b")], events, ["shop-abc"])
    assert [(r.pod, r.cause) for r in reasons] == [
        ("a", "insufficient resources"),
        ("(not created by shop-abc)", "quota"),
    ]


def _quota(used_cpu: str = "3200m") -> dict[str, Any]:
    hard = {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.memory": "16Gi",
        "pods": "20",
        "requests.storage": "50Gi",
        "persistentvolumeclaims": "10",
    }
    used = {
        "requests.cpu": used_cpu,
        "requests.memory": "2560Mi",
        "limits.memory": "2560Mi",
        "pods": "7",
        "requests.storage": "0",
        "persistentvolumeclaims": "0",
    }
    return {"metadata": {"name": "hks-quota"}, "status": {"hard": hard, "used": used}}


def _spec(**over: Any) -> AppSpec:
    base = {
        "name": "greedy",
        "image": "nginx:1",
        "replicas": 3,
        "resources": {"cpu_request": "500m", "memory_request": "64Mi", "memory_limit": "64Mi"},
    }
    return AppSpec.model_validate({**base, **over})


def test_quota_refusal_has_the_numbers() -> None:
    (violation,) = check_app_quota(_spec(), [_quota()])
    assert violation.message == "requests.cpu: the app needs 1500m more, 3200m of 4 is used (quota hks-quota)"
    assert check_app_quota(_spec(replicas=1), [_quota()]) == []


def test_quota_counts_only_the_difference_for_an_existing_app() -> None:
    existing_pod = {
        "spec": {"containers": [{"resources": {"requests": {"cpu": "500m", "memory": "64Mi"}}}]},
        "status": {"phase": "Running"},
    }
    existing = current_usage([existing_pod, existing_pod], [])
    assert existing["requests.cpu"] == Decimal("1.0") and existing["pods"] == 2
    # 3 × 500m wanted, 1000m already counted → 500m more fits in the 800m left
    assert check_app_quota(_spec(), [_quota()], existing) == []


def test_storage_and_missing_requests() -> None:
    spec = _spec(
        kind="StatefulSet",
        replicas=2,
        volumes=[{"name": "data", "size": "30Gi", "mount_path": "/data", "storage_class": "fast"}],
    )
    usage = app_usage(spec)
    assert usage["requests.storage"] == 60 * 2**30 and usage["persistentvolumeclaims"] == 2
    assert usage["fast.storageclass.storage.k8s.io/requests.storage"] == 60 * 2**30
    assert any(
        v.resource == "requests.storage" and v.requested == "60Gi"
        for v in check_app_quota(spec, [_quota("0")])
    )
    bare = AppSpec.model_validate({"name": "bare", "image": "nginx:1"})
    assert missing_requests(bare, [_quota()]) == ["limits.memory", "requests.cpu", "requests.memory"]


def test_server_causes_map_to_spec_fields() -> None:
    assert spec_field("Deployment", "spec.template.spec.containers[0].image") == "image"
    assert (
        spec_field("Deployment", "spec.template.spec.containers[0].ports[1].containerPort")
        == "ports[1].containerPort"
    )
    assert spec_field("StatefulSet", "spec.volumeClaimTemplates[0].spec") == "volumes"
    assert spec_field("Ingress", "spec.rules[0].host") == "ingress.host"
    assert spec_field("Service", "spec.ports[0].port") == "ports"
    assert spec_field("Deployment", "metadata.name") == "name"
    err = InvalidError(
        "create", "invalid", details={"errors": {"spec.template.spec.containers[0].image": "Required value"}}
    )
    mapped = invalid_with_spec_fields(err, "Deployment")
    assert mapped.field_errors == {
        "image": "Required value (Deployment spec.template.spec.containers[0].image)"
    }
    assert mapped.details["server_errors"] == err.field_errors


def test_build_rows_lists_external_apps_and_builds() -> None:
    from hks_tui.services.apps_live import build_rows

    external = _deploy()
    external["metadata"] = {**external["metadata"], "name": "legacy", "labels": {"app": "legacy"}}
    external["spec"] = {**external["spec"], "selector": {"matchLabels": {"app": "legacy"}}}
    build_labels = {**LABELS, "app.kubernetes.io/name": "from-git", "app.kubernetes.io/component": "build"}
    job = {
        "metadata": {"name": "from-git-build", "namespace": "default", "labels": build_labels},
        "status": {},
    }
    service = {
        "metadata": {"name": "shop", "namespace": "default", "labels": LABELS},
        "spec": {"ports": [{"port": 80, "protocol": "TCP"}]},
    }
    rows = build_rows([_deploy(), external], [], [_pod("a"), _pod("b"), _pod("c")], [service], [], [job])
    by_name = {r.name: r for r in rows}
    assert by_name["shop"].managed and by_name["shop"].endpoints == ["80/TCP"]
    assert by_name["shop"].status == "Running 3/3"
    assert not by_name["legacy"].managed and by_name["legacy"].endpoints == []
    assert by_name["from-git"].status == "Building"
