"""Applications against the lab (its own demo world, time scale 20): deploy stateless with ingress on
``dev`` and stateful with a PVC on ``prod``, update image, scale, restart a pod, restart all, delete,
bad image, quota refusal, "why pending?" — checking the lab's state after each step."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from hks_tui.clients.errors import ForbiddenError, InvalidError
from hks_tui.config import profile_from_lab
from hks_tui.manifests import AppSpec
from hks_tui.models import WorkflowStatus
from hks_tui.services import Services
from hks_tui.services.apps import AppService, app_selector
from hks_tui.services.workspaces import refs_from_lab
from hks_tui.workflows.apps import RESTARTED_AT

DEV_RES = {"cpu_request": "100m", "memory_request": "64Mi", "memory_limit": "128Mi"}


@pytest.fixture(scope="module")
def applab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from hks_tui.lab.server import start_lab_in_thread

    running = start_lab_in_thread(state_dir=tmp_path_factory.mktemp("applab"), seed="demo", time_scale=20.0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def services(applab: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    from hks_tui.store import Store

    store = Store.open(tmp_path_factory.mktemp("appstore") / "s.db")
    svc = Services.build(
        profile=profile_from_lab(applab.info, "dev"), store=store, workspaces=refs_from_lab(applab.info)
    )
    yield svc
    svc.close()
    store.close()


@pytest.fixture
async def dev(services: Services) -> AsyncIterator[AppService]:
    app = AppService(services, "dev")
    yield app
    await app.aclose()


@pytest.fixture
async def prod(services: Services) -> AsyncIterator[AppService]:
    app = AppService(services, "prod")
    yield app
    await app.aclose()


def _raw(app: AppService, resource: str, name: str, ns: str = "default") -> dict[str, Any] | None:
    items = app.kube.list_raw(resource, namespace=ns).get("items") or []
    found = [i for i in items if i["metadata"]["name"] == name]
    return found[0] if found else None


def _pods(app: AppService, name: str, ns: str = "default") -> list[dict[str, Any]]:
    items = app.kube.list_raw("pods", namespace=ns, label_selector=app_selector(name)).get("items") or []
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


async def _until(predicate: Any, what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await asyncio.to_thread(predicate):
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def _ok(record: Any) -> None:
    assert record.status == WorkflowStatus.SUCCEEDED, record.error


async def test_stateless_app_with_ingress_lifecycle_on_dev(dev: AppService) -> None:
    spec = AppSpec.model_validate(
        {
            "name": "shop",
            "image": "nginx:1.27",
            "replicas": 2,
            "ports": [{"name": "http", "port": 80}],
            "resources": DEV_RES,
            "ingress": {"host": "shop.dev.example.com"},
        }
    )
    _ok(await dev.deploy(spec))
    deployment = _raw(dev, "deployments", "shop")
    assert deployment is not None and deployment["status"]["readyReplicas"] == 2
    assert _raw(dev, "services", "shop") is not None and _raw(dev, "ingresses", "shop") is not None
    row = next(r for r in await dev.list("default") if r.name == "shop")
    assert (row.status, row.type, row.endpoints) == (
        "Running 2/2",
        "Stateless",
        ["http://shop.dev.example.com/"],
    )
    assert row.managed and row.image == "nginx:1.27"
    detail = await dev.show("shop")
    assert [p.status for p in detail.pods] == ["Running", "Running"]
    assert {o["kind"] for o in detail.objects} >= {"Deployment", "ReplicaSet", "Service", "Ingress"}

    # deploying the same spec again adopts (patches) and changes nothing
    again = await dev.deploy(spec)
    _ok(again)
    assert all(line.startswith("updated") for line in dev.engine.steps(again.id)[2].result["applied"])

    # rolling image update
    _ok(await dev.set_image("shop", "nginx:1.28"))
    pods = _pods(dev, "shop")
    assert len(pods) == 2 and {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.28"}

    # scale
    _ok(await dev.scale("shop", 3))
    assert _raw(dev, "deployments", "shop")["status"]["readyReplicas"] == 3  # type: ignore[index]
    assert len(_pods(dev, "shop")) == 3

    # restart one pod: deleted and replaced
    victim = sorted(p["metadata"]["name"] for p in _pods(dev, "shop"))[0]
    assert await dev.restart_pod("shop", victim) == victim

    def replaced() -> bool:
        names = {p["metadata"]["name"] for p in _pods(dev, "shop")}
        ready = (_raw(dev, "deployments", "shop") or {}).get("status", {}).get("readyReplicas")
        return victim not in names and len(names) == 3 and ready == 3

    await _until(replaced, "the restarted pod to be replaced")
    with pytest.raises(Exception, match="no pod of that name"):
        await dev.restart_pod("shop", "web-not-mine")

    # restart all: every pod replaced, the template carries the restartedAt stamp
    before = {p["metadata"]["name"] for p in _pods(dev, "shop")}
    record = await dev.restart_all("shop")
    _ok(record)
    template = _raw(dev, "deployments", "shop")["spec"]["template"]  # type: ignore[index]
    assert template["metadata"]["annotations"][RESTARTED_AT] == record.params["restarted_at"]
    after = {p["metadata"]["name"] for p in _pods(dev, "shop")}
    assert len(after) == 3 and not (before & after)

    # delete needs the exact name; then everything is gone
    with pytest.raises(InvalidError):
        await dev.delete("shop", confirm="shp")
    _ok(await dev.delete("shop", confirm="shop"))
    assert _raw(dev, "deployments", "shop") is None
    assert _raw(dev, "services", "shop") is None and _raw(dev, "ingresses", "shop") is None
    assert "shop" not in {r.name for r in await dev.list("default")}


async def test_stateful_app_with_pvc_on_prod_pool(prod: AppService, applab: Any) -> None:
    spec = AppSpec.model_validate(
        {
            "name": "ledger",
            "kind": "StatefulSet",
            "image": "postgres:16",
            "ports": [{"name": "pg", "port": 5432}],
            "resources": {"cpu_request": "250m", "memory_request": "256Mi"},
            "volumes": [{"name": "data", "size": "2Gi", "mount_path": "/var/lib/postgresql/data"}],
            "scheduling": {"workspace": "prod", "pool": "default"},
        }
    )
    _ok(await prod.deploy(spec, rollback=True))
    pods = _pods(prod, "ledger")
    assert [p["metadata"]["name"] for p in pods] == ["ledger-0"]
    assert pods[0]["spec"]["nodeSelector"] == {"hks.io/pool": "default"}
    nodes = {n["metadata"]["name"]: n for n in prod.kube.list_raw("nodes").get("items") or []}
    node = nodes[pods[0]["spec"]["nodeName"]]
    assert node["metadata"]["labels"]["hks.io/pool"] == "default"
    pvc = _raw(prod, "persistentvolumeclaims", "data-ledger-0")
    assert pvc is not None and pvc["status"]["phase"] == "Bound"
    uid = pvc["metadata"]["uid"]
    volumes = applab.call(lambda: [v.volid for v in applab.world.pve.volumes.values()])
    assert any(uid in volid for volid in volumes), "the CSI provisioned no PVE disk for the PVC"
    row = next(r for r in await prod.list() if r.name == "ledger")
    assert (row.status, row.type, row.endpoints) == ("Running 1/1", "Stateful", ["5432/TCP"])

    # delete keeps the PVC unless asked
    _ok(await prod.delete("ledger", confirm="ledger"))
    await _until(lambda: not _pods(prod, "ledger"), "the StatefulSet's pods to go")
    assert _raw(prod, "statefulsets", "ledger") is None
    assert _raw(prod, "persistentvolumeclaims", "data-ledger-0") is not None


async def test_bad_image_stops_with_the_reason_and_rolls_back(dev: AppService) -> None:
    spec = AppSpec.model_validate(
        {
            "name": "broken",
            "image": "ghcr.io/acme/doesnotexist:1.0",
            "ports": [{"name": "http", "port": 8080}],
            "resources": DEV_RES,
        }
    )
    kept = await dev.deploy(spec, timeout=30)
    assert kept.status == WorkflowStatus.FAILED
    assert "ImagePull" in kept.error or "ErrImagePull" in kept.error
    row = next(r for r in await dev.list("default") if r.name == "broken")
    assert row.status.startswith("Failed: ") and "Image" in row.status
    _ok(await dev.delete("broken", confirm="broken"))

    rolled = await dev.deploy(spec.model_copy(update={"name": "broken2"}), rollback=True, timeout=30)
    assert rolled.status == WorkflowStatus.COMPENSATED
    assert "ImagePull" in rolled.error or "ErrImagePull" in rolled.error
    assert _raw(dev, "deployments", "broken2") is None and _raw(dev, "services", "broken2") is None


async def test_quota_refusal_on_dev_creates_nothing(dev: AppService) -> None:
    spec = AppSpec.model_validate(
        {
            "name": "greedy",
            "image": "nginx:1.27",
            "replicas": 3,
            "resources": {"cpu_request": "500m", "memory_request": "64Mi", "memory_limit": "64Mi"},
        }
    )
    record = await dev.deploy(spec)
    assert record.status == WorkflowStatus.FAILED
    assert "requests.cpu: the app needs 1500m more, 3200m of 4 is used" in record.error
    steps = {s.name: s.status for s in dev.engine.steps(record.id)}
    assert steps["quota"] == "failed" and steps["apply"] == "pending"
    assert _raw(dev, "deployments", "greedy") is None

    # no requests at all: the quota would refuse every pod, so the deploy is refused up front
    bare = await dev.deploy(AppSpec.model_validate({"name": "bare", "image": "nginx:1.27"}))
    assert bare.status == WorkflowStatus.FAILED and "requests.cpu" in bare.error


async def test_server_side_dry_run_causes_are_mapped_to_spec_fields(dev: AppService) -> None:
    spec = AppSpec.model_validate(
        {
            "name": "dry",
            "image": "nginx:1.27",
            "resources": DEV_RES,
            "ingress": {"host": "dry.example.com"},
            "ports": [{"name": "http", "port": 80}],
        }
    )
    # the server's causes for an object it refuses come back keyed by AppSpec field
    from hks_tui.workflows.apps.objects import dry_run, invalid_with_spec_fields

    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "dry", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}},
        },
    }
    with pytest.raises(InvalidError) as info:
        dry_run(dev.kube, bad)
    mapped = invalid_with_spec_fields(info.value, "Deployment")
    assert "image" in mapped.field_errors and "Required" in mapped.field_errors["image"]
    assert _raw(dev, "deployments", "dry") is None  # a dry run stores nothing
    record = await dev.deploy(spec, wait=False)
    _ok(record)
    assert dev.engine.steps(record.id)[0].result["plan"] == [
        "create Service dry",
        "create Deployment dry",
        "create Ingress dry",
    ]
    _ok(await dev.delete("dry", confirm="dry"))


async def test_why_pending_names_the_taint_and_external_apps_are_read_only(prod: AppService) -> None:
    spec = AppSpec.model_validate({"name": "stray", "image": "nginx:1.27", "resources": DEV_RES})
    _ok(await prod.deploy(spec, wait=False))

    await _until(lambda: bool(prod.show_sync("stray").pending), "a FailedScheduling reason")
    reasons = (await prod.show("stray")).pending
    assert reasons[0].cause == "taints" and "taint" in reasons[0].message
    assert "node pool" in reasons[0].fix
    assert (await prod.show("stray")).row.status == "Degraded"
    _ok(await prod.delete("stray", confirm="stray"))

    # an app made by another tool is listed but refused for changes
    prod.kube.call(
        prod.kube.apps.create_namespaced_deployment,
        "default",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "handmade"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"x": "handmade"}},
                "template": {
                    "metadata": {"labels": {"x": "handmade"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
                },
            },
        },
        _preload_content=False,
    )
    row = next(r for r in await prod.list("default") if r.name == "handmade")
    assert not row.managed
    with pytest.raises(ForbiddenError):
        await prod.scale("handmade", 1)


def test_workflow_records_are_json(services: Services) -> None:
    record = services.store.workflows.list()
    assert record and json.dumps([r.model_dump(mode="json") for r in record])


async def test_live_rows_follow_changes_by_watch(dev: AppService) -> None:
    seen: list[list[Any]] = []
    live = dev.watch_rows(seen.append, namespace="default")

    def status_of(name: str) -> str | None:
        rows = {r.name: r for r in live.rows}
        return rows[name].status if name in rows else None

    try:
        await _until(lambda: status_of("web") == "Running 3/3", "the seeded apps")
        spec = AppSpec.model_validate({"name": "livey", "image": "nginx:1.27", "resources": DEV_RES})
        _ok(await dev.deploy(spec, wait=False))
        await _until(lambda: status_of("livey") == "Running 1/1", "the new app to show Running by watch")
        _ok(await dev.delete("livey", confirm="livey"))
        await _until(lambda: status_of("livey") is None, "the deleted app to leave the list")
    finally:
        await asyncio.to_thread(live.stop)
    assert seen and all(isinstance(rows, list) for rows in seen)


async def test_a_generic_engine_with_services_as_deps_runs_app_workflows(
    dev: AppService, services: Services
) -> None:
    from hks_tui.workflows import WorkflowEngine, all_kinds

    spec = AppSpec.model_validate({"name": "generic", "image": "nginx:1.27", "resources": DEV_RES})
    _ok(await dev.deploy(spec))
    engine = WorkflowEngine(services.store, all_kinds(), deps=services, executor=services.executor)
    try:
        params = {
            "workspace": "dev",
            "namespace": "default",
            "name": "generic",
            "kind": "Deployment",
            "replicas": 2,
        }
        _ok(await engine.start("app.scale", params, workspace="dev", target="default/generic"))
    finally:
        await engine.aclose()
    assert _raw(dev, "deployments", "generic")["status"]["readyReplicas"] == 2  # type: ignore[index]
    _ok(await dev.delete("generic", confirm="generic"))
