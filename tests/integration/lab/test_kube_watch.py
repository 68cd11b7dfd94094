"""Watches over real HTTPS with the official client: resourceVersion semantics, synthetic ADDED events,
selectors, bookmarks, 410 Expired after compaction, and stalled streams."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from hks_tui.lab.kube.standalone import RunningKube, start_kube_only_lab


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningKube]:
    running = start_kube_only_lab(tmp_path_factory.mktemp("kube-watch"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def v1(kube: RunningKube) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(kube.kubeconfig), context="host"))


def ns(v1: client.CoreV1Api, name: str) -> str:
    v1.create_namespace({"metadata": {"name": name}})
    return name


def stream(v1: client.CoreV1Api, namespace: str, **kwargs: Any) -> list[tuple[str, Any]]:
    w = watch.Watch()
    return [
        (e["type"], e["object"])
        for e in w.stream(v1.list_namespaced_config_map, namespace, timeout_seconds=1, **kwargs)
    ]


def raw_watch(kube: RunningKube, path: str) -> list[dict[str, Any]]:
    resp = requests.get(
        kube.urls["host"] + path,
        verify=str(kube.ca_file),
        timeout=10,
        headers={"Authorization": f"Bearer {kube.world.credentials.kube_token}"},
    )
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    return [json.loads(line) for line in resp.text.splitlines()]


def test_watch_from_resource_version_replays_in_order(v1: client.CoreV1Api) -> None:
    space = ns(v1, "w-replay")
    start = v1.list_namespaced_config_map(space).metadata.resource_version
    v1.create_namespaced_config_map(space, {"metadata": {"name": "a"}, "data": {"v": "1"}})
    v1.patch_namespaced_config_map("a", space, {"data": {"v": "2"}})
    v1.create_namespaced_config_map(space, {"metadata": {"name": "b"}})
    v1.delete_namespaced_config_map("a", space)
    events = stream(v1, space, resource_version=start)
    assert [(t, o.metadata.name) for t, o in events] == [
        ("ADDED", "a"),
        ("MODIFIED", "a"),
        ("ADDED", "b"),
        ("DELETED", "a"),
    ]
    assert events[1][1].data == {"v": "2"}
    rvs = [int(o.metadata.resource_version) for _, o in events]
    assert rvs == sorted(rvs) and rvs[0] > int(start)


def test_watch_without_resource_version_sends_current_state(v1: client.CoreV1Api) -> None:
    space = ns(v1, "w-initial")
    for name in ("x", "y"):
        v1.create_namespaced_config_map(space, {"metadata": {"name": name}})
    for kwargs in ({}, {"resource_version": "0"}):
        events = stream(v1, space, **kwargs)
        assert [(t, o.metadata.name) for t, o in events] == [("ADDED", "x"), ("ADDED", "y")]


def test_watch_selectors_translate_events(v1: client.CoreV1Api) -> None:
    space = ns(v1, "w-select")
    start = v1.list_namespaced_config_map(space).metadata.resource_version
    v1.create_namespaced_config_map(space, {"metadata": {"name": "m", "labels": {"tier": "web"}}})
    v1.create_namespaced_config_map(space, {"metadata": {"name": "n", "labels": {"tier": "db"}}})
    v1.patch_namespaced_config_map("m", space, {"metadata": {"labels": {"tier": "db"}}})  # leaves tier=web
    v1.patch_namespaced_config_map("n", space, {"metadata": {"labels": {"tier": "web"}}})  # enters tier=web
    events = stream(v1, space, resource_version=start, label_selector="tier=web")
    assert [(t, o.metadata.name) for t, o in events] == [("ADDED", "m"), ("DELETED", "m"), ("ADDED", "n")]
    events = stream(v1, space, resource_version=start, field_selector="metadata.name=n")
    assert [(t, o.metadata.name) for t, o in events] == [("ADDED", "n"), ("MODIFIED", "n")]


def test_bookmarks(kube: RunningKube, v1: client.CoreV1Api) -> None:
    space = ns(v1, "w-bookmark")
    v1.create_namespaced_config_map(space, {"metadata": {"name": "b"}})
    current = int(v1.list_namespaced_config_map(space).metadata.resource_version)
    events = raw_watch(
        kube,
        f"/api/v1/namespaces/{space}/configmaps?watch=1&timeoutSeconds=1"
        f"&allowWatchBookmarks=true&resourceVersion={current}",
    )
    assert events[-1]["type"] == "BOOKMARK"
    mark = events[-1]["object"]
    assert (mark["kind"], mark["apiVersion"]) == ("ConfigMap", "v1")
    assert int(mark["metadata"]["resourceVersion"]) >= current
    w = watch.Watch()
    seen = list(
        w.stream(
            v1.list_namespaced_config_map,
            space,
            timeout_seconds=1,
            allow_watch_bookmarks=True,
            resource_version=str(current),
        )
    )
    assert [e["type"] for e in seen] == ["BOOKMARK"]
    assert int(w.resource_version) >= current  # the client tracks bookmarks
    assert all(
        e["type"] != "BOOKMARK"
        for e in raw_watch(
            kube, f"/api/v1/namespaces/{space}/configmaps?watch=1&timeoutSeconds=1&resourceVersion={current}"
        )
    )


def test_expired_resource_version_after_compaction(kube: RunningKube, v1: client.CoreV1Api) -> None:
    space = ns(v1, "w-expired")
    old = v1.list_namespaced_config_map(space).metadata.resource_version
    v1.create_namespaced_config_map(space, {"metadata": {"name": "late"}})
    kube.call(kube.world.clusters["host"].store.compact)
    events = raw_watch(kube, f"/api/v1/namespaces/{space}/configmaps?watch=true&resourceVersion={old}")
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith(f"too old resource version: {old} (")
    with pytest.raises(ApiException) as info:
        list(
            watch.Watch().stream(
                v1.list_namespaced_config_map, space, resource_version=old, timeout_seconds=1
            )
        )
    assert info.value.status == 410
    # a fresh list gives a resourceVersion that can be watched again
    fresh = v1.list_namespaced_config_map(space).metadata.resource_version
    assert stream(v1, space, resource_version=fresh) == []
    # an Exact list at an old resourceVersion is gone too
    with pytest.raises(ApiException) as info:
        v1.list_namespaced_config_map(space, resource_version=old, resource_version_match="Exact")
    assert info.value.status == 410


def test_stalled_watch_sends_nothing_until_released(kube: RunningKube, v1: client.CoreV1Api) -> None:
    space = ns(v1, "w-stall")
    start = v1.list_namespaced_config_map(space).metadata.resource_version
    v1.create_namespaced_config_map(space, {"metadata": {"name": "held"}})
    rule = kube.call(kube.world.faults.add, f"kube:host:/api/v1/namespaces/{space}/configmaps:stall")
    try:
        assert stream(v1, space, resource_version=start) == []  # the event exists but the stream is stalled
    finally:
        kube.call(kube.world.faults.remove, rule.id)
    assert [o.metadata.name for _, o in stream(v1, space, resource_version=start)] == ["held"]


def test_watch_a_cluster_scoped_resource_and_all_namespaces(v1: client.CoreV1Api) -> None:
    start = v1.list_namespace().metadata.resource_version
    v1.create_namespace({"metadata": {"name": "w-cluster"}})
    v1.create_namespaced_config_map("w-cluster", {"metadata": {"name": "z"}})
    events = list(watch.Watch().stream(v1.list_namespace, resource_version=start, timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "w-cluster")]
    events = list(
        watch.Watch().stream(v1.list_config_map_for_all_namespaces, resource_version=start, timeout_seconds=1)
    )
    assert [(e["type"], e["object"].metadata.namespace) for e in events] == [("ADDED", "w-cluster")]


def test_watch_list_sends_initial_events_then_a_marked_bookmark(
    kube: RunningKube, v1: client.CoreV1Api
) -> None:
    space = ns(v1, "w-list")
    for name in ("a", "b"):
        v1.create_namespaced_config_map(space, {"metadata": {"name": name}})
    events = raw_watch(
        kube,
        f"/api/v1/namespaces/{space}/configmaps?watch=1&timeoutSeconds=1&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
    )
    assert [e["type"] for e in events[:3]] == ["ADDED", "ADDED", "BOOKMARK"]
    assert events[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    resp = requests.get(
        kube.urls["host"] + f"/api/v1/namespaces/{space}/configmaps?watch=1&sendInitialEvents=true",
        verify=str(kube.ca_file),
        timeout=10,
        headers={"Authorization": f"Bearer {kube.world.credentials.kube_token}"},
    )
    assert resp.status_code == 400  # needs resourceVersionMatch=NotOlderThan and bookmarks
