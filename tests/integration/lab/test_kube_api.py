"""The lab's Kubernetes API over real HTTPS with the official client: version, discovery, CRUD,
conflicts, the three patch types, status/scale subresources, paging, selectors and Status errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from hks_tui.lab.kube.standalone import RunningKube, start_kube_only_lab


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningKube]:
    running = start_kube_only_lab(tmp_path_factory.mktemp("kube-api"), clusters=("host", "dev"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api(kube: RunningKube) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kube.kubeconfig), context="host")


def raw(
    kube: RunningKube, method: str, path: str, token: str | None = "ok", **kwargs: Any
) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token == "ok":
        token = kube.world.credentials.kube_token
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(
        method, kube.urls["host"] + path, headers=headers, verify=str(kube.ca_file), timeout=10, **kwargs
    )


def status_of(exc: ApiException) -> dict[str, Any]:
    body = json.loads(exc.body)
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == exc.status
    return body


def deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "nginx:1.27", "env": [{"name": "A", "value": "1"}]},
                        {"name": "side", "image": "busybox:1.36"},
                    ]
                },
            },
        },
    }


def test_version_health_and_discovery(kube: RunningKube, api: client.ApiClient) -> None:
    version = client.VersionApi(api).get_code()
    assert version.git_version == "v1.31.4+k3s1" and version.major == "1" and version.minor == "31"
    assert (
        version.build_date and version.git_commit and version.go_version and version.platform == "linux/amd64"
    )
    dev = config.new_client_from_config(config_file=str(kube.kubeconfig), context="dev")
    assert client.VersionApi(dev).get_code().git_version == "v1.31.4"
    for path in ("/healthz", "/readyz", "/livez"):
        assert raw(kube, "GET", path).text == "ok"
    assert client.CoreApi(api).get_api_versions().versions == ["v1"]
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "batch", "networking.k8s.io", "policy", "storage.k8s.io", "metrics.k8s.io"} <= set(groups)
    assert groups["apps"].preferred_version.group_version == "apps/v1"
    apps = {r.name: r for r in client.AppsV1Api(api).get_api_resources().resources}
    assert apps["deployments"].short_names == ["deploy"] and "watch" in apps["deployments"].verbs
    assert (apps["deployments/scale"].group, apps["deployments/scale"].kind) == ("autoscaling", "Scale")
    core = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    assert core["pods/log"].verbs == ["get"] and core["pods/eviction"].group == "policy"
    assert core["nodes"].namespaced is False and core["pods"].namespaced is True
    assert raw(kube, "GET", "/openapi/v2").status_code == 404
    root = raw(kube, "GET", "/openapi/v3").json()
    assert "apis/apps/v1" in root["paths"]


def test_auth_and_unknown_paths(kube: RunningKube) -> None:
    for token in (None, "wrong"):
        resp = raw(kube, "GET", "/api/v1/namespaces", token=token)
        assert resp.status_code == 401 and resp.json()["reason"] == "Unauthorized"
    for path in (
        "/api/v1/widgets",
        "/apis/nope/v1",
        "/apis/apps/v1/namespaces/default/deployments/x/frob",
        "/x",
    ):
        resp = raw(kube, "GET", path)
        assert resp.status_code == 404 and resp.json()["reason"] == "NotFound", path
    resp = raw(kube, "PUT", "/api/v1/namespaces/default/pods")
    assert resp.status_code == 405 and resp.json()["reason"] == "MethodNotAllowed"
    resp = raw(
        kube,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        data="{not json",
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 400 and resp.json()["reason"] == "BadRequest"


def test_query_booleans_parse_like_go(kube: RunningKube) -> None:
    values = {v: True for v in ("1", "t", "T", "TRUE", "true", "True")} | {
        v: False for v in ("0", "f", "F", "FALSE", "false", "False")
    }

    def fetch(value: str) -> requests.Response:
        return raw(kube, "GET", f"/api/v1/namespaces?watch={value}&timeoutSeconds=1")

    with ThreadPoolExecutor(len(values)) as pool:
        answers = dict(zip(values, pool.map(fetch, values), strict=True))
    for value, watching in values.items():
        resp = answers[value]
        assert resp.status_code == 200, value
        if watching:
            events = [json.loads(line) for line in resp.text.splitlines()]
            assert events and {e["type"] for e in events} == {"ADDED"}, value
        else:
            assert resp.json()["kind"] == "NamespaceList", value


@pytest.mark.parametrize("value", ["yes", "on", "tRue", "2"])
def test_bad_query_booleans_are_400(kube: RunningKube, value: str) -> None:
    resp = raw(kube, "GET", f"/api/v1/namespaces?watch={value}")
    assert resp.status_code == 400 and resp.json()["reason"] == "BadRequest"


def test_crud_and_status_reasons(api: client.ApiClient, kube: RunningKube) -> None:
    v1 = client.CoreV1Api(api)
    cm = v1.create_namespaced_config_map("default", {"metadata": {"name": "crud"}, "data": {"a": "1"}})
    assert cm.metadata.uid and cm.metadata.namespace == "default" and cm.metadata.creation_timestamp
    with pytest.raises(ApiException) as info:
        v1.create_namespaced_config_map("default", {"metadata": {"name": "crud"}})
    assert status_of(info.value)["reason"] == "AlreadyExists" and info.value.status == 409
    got = v1.read_namespaced_config_map("crud", "default")
    got.data["b"] = "2"
    replaced = v1.replace_namespaced_config_map("crud", "default", got)
    assert replaced.data == {"a": "1", "b": "2"}
    assert int(replaced.metadata.resource_version) > int(cm.metadata.resource_version)
    got.data["c"] = "3"  # still carries the old resourceVersion
    with pytest.raises(ApiException) as info:
        v1.replace_namespaced_config_map("crud", "default", got)
    body = status_of(info.value)
    assert body["reason"] == "Conflict" and "the object has been modified" in body["message"]
    deleted = v1.delete_namespaced_config_map("crud", "default")
    assert deleted["status"] == "Success" and deleted["details"]["name"] == "crud"
    with pytest.raises(ApiException) as info:
        v1.read_namespaced_config_map("crud", "default")
    assert status_of(info.value)["reason"] == "NotFound" and info.value.status == 404
    with pytest.raises(ApiException) as info:
        v1.create_namespaced_config_map("missing-ns", {"metadata": {"name": "x"}})
    assert status_of(info.value)["details"] == {"name": "missing-ns", "kind": "namespaces"}
    resp = raw(
        kube,
        "POST",
        "/api/v1/namespaces/default/pods",
        json={"metadata": {"name": "nameless"}, "spec": {"containers": [{"image": "x"}]}},
    )
    body = resp.json()  # (the client would refuse to send this; the server must refuse it too)
    assert body["reason"] == "Invalid" and resp.status_code == 422 and body["code"] == 422
    assert body["details"]["causes"][0]["field"] == "spec.containers[0].name"
    pod = v1.create_namespaced_pod(
        "default",
        {"metadata": {"name": "crud-pod"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}},
    )
    assert (
        v1.delete_namespaced_pod("crud-pod", "default").metadata.uid == pod.metadata.uid
    )  # pods return the object


def test_three_patch_types_and_generation(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment("default", deployment("patchme"))
    merged = apps.patch_namespaced_deployment(
        "patchme",
        "default",
        {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x:1"}]}}}},
        _content_type="application/merge-patch+json",
    )
    assert [c.name for c in merged.spec.template.spec.containers] == ["only"]  # lists replace
    assert merged.metadata.generation == 2
    apps.replace_namespaced_deployment("patchme", "default", deployment("patchme"))  # unconditional update
    strategic = apps.patch_namespaced_deployment(
        "patchme",
        "default",
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "nginx:1.28", "env": [{"name": "B", "value": "2"}]}
                        ]
                    }
                }
            }
        },
    )
    containers = {c.name: c for c in strategic.spec.template.spec.containers}
    assert set(containers) == {"app", "side"} and containers["app"].image == "nginx:1.28"
    assert [e.name for e in containers["app"].env] == ["A", "B"]
    patched = apps.patch_namespaced_deployment(
        "patchme",
        "default",
        [
            {"op": "replace", "path": "/spec/replicas", "value": 4},
            {"op": "add", "path": "/metadata/labels/x", "value": "y"},
        ],
    )
    assert patched.spec.replicas == 4 and patched.metadata.labels["x"] == "y"
    with pytest.raises(ApiException) as info:
        apps.patch_namespaced_deployment(
            "patchme", "default", [{"op": "test", "path": "/spec/replicas", "value": 1}]
        )
    assert info.value.status == 422
    with pytest.raises(ApiException) as info:
        apps.patch_namespaced_deployment(
            "patchme", "default", {"spec": {}}, _content_type="application/apply-patch+yaml"
        )
    assert info.value.status == 415 and status_of(info.value)["reason"] == "UnsupportedMediaType"
    stale = {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 2}}
    with pytest.raises(ApiException) as info:
        apps.patch_namespaced_deployment(
            "patchme", "default", stale, _content_type="application/merge-patch+json"
        )
    assert info.value.status == 409


def test_status_and_scale_subresources(api: client.ApiClient) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment("default", deployment("scaled", replicas=2))
    status = apps.patch_namespaced_deployment_status(
        "scaled", "default", {"status": {"replicas": 2, "readyReplicas": 2, "observedGeneration": 1}}
    )
    assert status.status.ready_replicas == 2 and status.metadata.generation == 1
    ignored = apps.patch_namespaced_deployment("scaled", "default", {"status": {"readyReplicas": 0}})
    assert ignored.status.ready_replicas == 2  # the main resource cannot write status
    scale = apps.read_namespaced_deployment_scale("scaled", "default")
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (2, 2, "app=scaled")
    scale = apps.patch_namespaced_deployment_scale("scaled", "default", {"spec": {"replicas": 5}})
    assert scale.spec.replicas == 5
    dep = apps.read_namespaced_deployment("scaled", "default")
    assert dep.spec.replicas == 5 and dep.metadata.generation == 2
    scale.spec.replicas = 1
    assert apps.replace_namespaced_deployment_scale("scaled", "default", scale).spec.replicas == 1
    scale.spec.replicas = 3  # stale resourceVersion now
    with pytest.raises(ApiException) as info:
        apps.replace_namespaced_deployment_scale("scaled", "default", scale)
    assert info.value.status == 409


def test_list_paging_and_selectors(api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "paging"}})
    for i in range(5):
        v1.create_namespaced_config_map(
            "paging",
            {
                "metadata": {
                    "name": f"cm-{i}",
                    "labels": {"idx": str(i), "parity": "even" if i % 2 == 0 else "odd"},
                }
            },
        )
    first = v1.list_namespaced_config_map("paging", limit=2)
    assert [c.metadata.name for c in first.items] == ["cm-0", "cm-1"]
    assert first.metadata.remaining_item_count == 3 and first.metadata._continue
    second = v1.list_namespaced_config_map("paging", limit=2, _continue=first.metadata._continue)
    third = v1.list_namespaced_config_map("paging", limit=2, _continue=second.metadata._continue)
    assert [c.metadata.name for c in second.items + third.items] == ["cm-2", "cm-3", "cm-4"]
    assert not third.metadata._continue and int(third.metadata.resource_version) > 0
    names = lambda lst: [c.metadata.name for c in lst.items]  # noqa: E731
    assert names(v1.list_namespaced_config_map("paging", label_selector="parity=odd")) == ["cm-1", "cm-3"]
    assert names(v1.list_namespaced_config_map("paging", label_selector="idx in (0,4),parity!=odd")) == [
        "cm-0",
        "cm-4",
    ]
    assert names(v1.list_namespaced_config_map("paging", label_selector="!parity")) == []
    assert names(v1.list_namespaced_config_map("paging", field_selector="metadata.name=cm-2")) == ["cm-2"]
    everywhere = v1.list_config_map_for_all_namespaces(field_selector="metadata.namespace=paging")
    assert len(everywhere.items) == 5
    with pytest.raises(ApiException) as info:
        v1.list_namespaced_config_map("paging", field_selector="spec.nodeName=x")
    assert info.value.status == 400 and status_of(info.value)["reason"] == "BadRequest"
    with pytest.raises(ApiException) as info:
        v1.list_namespaced_config_map("paging", label_selector="a b c")
    assert info.value.status == 400
    v1.delete_namespace("paging")
    assert v1.list_config_map_for_all_namespaces(field_selector="metadata.namespace=paging").items == []


def test_cluster_scoped_and_kinds(api: client.ApiClient) -> None:
    storage = client.StorageV1Api(api)
    sc = storage.create_storage_class(
        {
            "metadata": {"name": "proxmox-lvm"},
            "provisioner": "csi.proxmox.sinextra.dev",
            "parameters": {"storage": "local-lvm"},
            "allowVolumeExpansion": True,
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )
    assert sc.reclaim_policy == "Delete" and sc.metadata.namespace is None
    with pytest.raises(ApiException) as info:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": "Not_Valid"}})
    assert info.value.status == 422
    ns = client.CoreV1Api(api).create_namespace({"metadata": {"name": "kinds"}})
    assert ns.status.phase == "Active" and ns.metadata.labels == {"kubernetes.io/metadata.name": "kinds"}


def test_dry_run_does_not_persist(api: client.ApiClient, kube: RunningKube) -> None:
    v1 = client.CoreV1Api(api)
    rv = kube.world.clusters["host"].store.resource_version
    made = v1.create_namespaced_config_map("default", {"metadata": {"name": "dry"}}, dry_run="All")
    assert made.metadata.name == "dry"
    with pytest.raises(ApiException):
        v1.read_namespaced_config_map("dry", "default")
    assert kube.world.clusters["host"].store.resource_version == rv


def test_requests_are_recorded_for_fault_accounting(kube: RunningKube, api: client.ApiClient) -> None:
    faults = kube.world.faults
    since = faults.last_seq
    client.CoreV1Api(api).create_namespaced_config_map("default", {"metadata": {"name": "counted"}})
    records = faults.select("kube:host", mutating=True, since=since)
    assert [(r.method, r.path, r.status) for r in records] == [
        ("POST", "/api/v1/namespaces/default/configmaps", 201)
    ]
    rule = faults.add("kube:host:GET:/api/v1/namespaces/default/configmaps/counted:error=503")
    with pytest.raises(ApiException) as info:
        client.CoreV1Api(api).read_namespaced_config_map("counted", "default")
    assert info.value.status == 503
    faults.remove(rule.id)
    assert client.CoreV1Api(api).read_namespaced_config_map("counted", "default").metadata.name == "counted"


def test_kubeconfig_points_at_https_with_lab_ca(kube: RunningKube) -> None:
    text = Path(str(kube.kubeconfig)).read_text()
    assert "https://127.0.0.1:" in text and str(kube.ca_file) in text
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(kube.urls["host"] + "/version", timeout=5)  # system CAs do not trust the lab CA


def test_unknown_fields_follow_field_validation(kube: RunningKube, api: client.ApiClient) -> None:
    body = {"metadata": {"name": "typo", "labelz": {"a": "b"}}, "data": {"k": "v"}, "dataa": {"x": "y"}}
    strict = raw(kube, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", json=body)
    assert strict.status_code == 400 and strict.json()["reason"] == "BadRequest"
    assert (
        'strict decoding error: unknown field "metadata.labelz", unknown field "dataa"'
        in strict.json()["message"]
    )
    warned = raw(kube, "POST", "/api/v1/namespaces/default/configmaps", json=body)
    assert warned.status_code == 201
    assert warned.headers["Warning"].startswith('299 - "unknown field')
    assert 'unknown field \\"dataa\\"' in warned.headers["Warning"]
    stored = client.CoreV1Api(api).read_namespaced_config_map("typo", "default")
    assert stored.data == {"k": "v"}  # the unknown fields were dropped, like the apiserver's decoder does
    bad = raw(kube, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Loose", json=body)
    assert bad.status_code == 400


def test_delete_collection_and_big_bodies(kube: RunningKube, api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "sweep"}})
    for i in range(3):
        v1.create_namespaced_config_map(
            "sweep", {"metadata": {"name": f"c{i}", "labels": {"keep": str(i == 0)}}}
        )
    v1.delete_collection_namespaced_config_map("sweep", label_selector="keep=False")
    assert [c.metadata.name for c in v1.list_namespaced_config_map("sweep").items] == ["c0"]
    huge = raw(
        kube,
        "POST",
        "/api/v1/namespaces/sweep/configmaps",
        data=b"{" + b" " * (9 * 2**20) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["kind"] == "Status"


def test_server_side_tables(kube: RunningKube, api: client.ApiClient) -> None:
    client.CoreV1Api(api).create_namespaced_pod(
        "default",
        {"metadata": {"name": "tabled"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}},
    )
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = raw(kube, "GET", "/api/v1/namespaces/default/pods", headers={"Accept": accept}).json()
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    row = next(r for r in table["rows"] if r["cells"][0] == "tabled")
    assert row["cells"][1:4] == ["0/1", "Pending", 0]
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["metadata"]["name"] == "tabled"
    full = raw(
        kube, "GET", "/api/v1/namespaces/default/pods/tabled?includeObject=Object", headers={"Accept": accept}
    )
    assert full.json()["rows"][0]["object"]["spec"]["containers"][0]["image"] == "busybox:1.36"
    plain = raw(kube, "GET", "/api/v1/namespaces/default/pods/tabled").json()
    assert plain["kind"] == "Pod"  # without the Table media type the object itself
