"""KubeStore semantics: resourceVersion, generation, conflicts, defaulting, finalizers, garbage
collection, namespaces, admission, listeners, watch history and PDB status."""

from __future__ import annotations

from typing import Any

import pytest

from hks_tui.lab.clock import LabClock
from hks_tui.lab.kube.cluster import KubeCluster
from hks_tui.lab.kube.errors import ApiError, forbidden
from hks_tui.lab.kube.store import KubeStore


@pytest.fixture
def cluster() -> KubeCluster:
    return KubeCluster("host", "host", LabClock(10.0))


def pod(name: str, labels: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {}, **meta},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


def deployment(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "i:1"}]},
            },
        },
    }


def test_create_sets_identity_and_defaults(cluster: KubeCluster) -> None:
    store = cluster.store
    before = store.resource_version
    obj = store.create("pods", pod("a"), "default")
    meta = obj["metadata"]
    assert (obj["apiVersion"], obj["kind"]) == ("v1", "Pod")
    assert meta["namespace"] == "default" and meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) == before + 1 == store.resource_version
    assert obj["spec"]["restartPolicy"] == "Always" and obj["status"]["phase"] == "Pending"
    assert obj["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    generated = store.create(
        "configmaps", {"metadata": {"generateName": "cfg-"}, "data": {"k": "v"}}, "default"
    )
    assert generated["metadata"]["name"].startswith("cfg-") and len(generated["metadata"]["name"]) == 9
    secret = store.create("secrets", {"metadata": {"name": "s"}, "stringData": {"k": "v"}}, "default")
    assert secret["data"] == {"k": "dg=="} and "stringData" not in secret and secret["type"] == "Opaque"
    svc = store.create("services", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}, "default")
    assert svc["spec"]["clusterIP"].startswith("10.43.") and svc["spec"]["ports"][0]["targetPort"] == 80


@pytest.mark.parametrize(
    ("resource", "obj", "field"),
    [
        (
            "pods",
            {"metadata": {"name": "x"}, "spec": {"containers": [{"image": "i"}]}},
            "spec.containers[0].name",
        ),
        ("pods", {"metadata": {"name": "x"}, "spec": {}}, "spec.containers"),
        (
            "pods",
            {"metadata": {"name": "Bad_Name"}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
            "metadata.name",
        ),
        (
            "deployments",
            {
                "metadata": {"name": "d"},
                "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
            },
            "spec.selector",
        ),
        (
            "jobs",
            {
                "metadata": {"name": "j"},
                "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
            },
            "spec.template.spec.restartPolicy",
        ),
        (
            "cronjobs",
            {
                "metadata": {"name": "cj"},
                "spec": {
                    "jobTemplate": {
                        "spec": {
                            "template": {
                                "spec": {
                                    "restartPolicy": "Never",
                                    "containers": [{"name": "c", "image": "i"}],
                                }
                            }
                        }
                    }
                },
            },
            "spec.schedule",
        ),
        ("storageclasses", {"metadata": {"name": "sc"}}, "provisioner"),
        ("services", {"metadata": {"name": "s"}, "spec": {"ports": [{"name": "p"}]}}, "spec.ports[0].port"),
    ],
)
def test_invalid_objects_are_rejected_with_causes(
    cluster: KubeCluster, resource: str, obj: dict[str, Any], field: str
) -> None:
    with pytest.raises(ApiError) as info:
        cluster.store.create(resource, obj, "default")
    err = info.value
    assert (err.code, err.reason) == (422, "Invalid")
    assert field in [c["field"] for c in err.details["causes"]]  # type: ignore[index]


def test_conflict_generation_and_status_subresource(cluster: KubeCluster) -> None:
    store = cluster.store
    dep = store.create("deployments", deployment("web"), "default")
    assert dep["metadata"]["generation"] == 1
    stale = dict(dep, metadata=dict(dep["metadata"]))
    dep["spec"]["replicas"] = 3
    updated = store.replace("deployments", dep)
    assert updated["metadata"]["generation"] == 2
    with pytest.raises(ApiError) as info:
        store.replace("deployments", stale)
    assert (info.value.code, info.value.reason) == (409, "Conflict")
    # a status write does not bump the generation and a spec write cannot change the status
    status = store.update_status(
        "deployments",
        {
            "metadata": {"name": "web", "namespace": "default"},
            "status": {"replicas": 3, "observedGeneration": 2},
        },
    )
    assert status["metadata"]["generation"] == 2 and status["status"]["replicas"] == 3
    sneaky = store.patch(
        "deployments",
        "web",
        "default",
        {"status": {"replicas": 9}, "metadata": {"labels": {"x": "y"}}},
        "merge",
    )
    assert sneaky["status"]["replicas"] == 3 and sneaky["metadata"]["labels"] == {"x": "y"}
    assert sneaky["metadata"]["generation"] == 2  # labels are metadata, not spec
    rv = store.resource_version
    assert store.patch("deployments", "web", "default", {"metadata": {"labels": {"x": "y"}}}, "merge")
    assert store.resource_version == rv  # a no-op write commits nothing


def test_namespaces_and_cascading_delete(cluster: KubeCluster) -> None:
    store = cluster.store
    with pytest.raises(ApiError) as info:
        store.create("pods", pod("a"), "nope")
    assert info.value.code == 404 and 'namespaces "nope" not found' in info.value.message
    store.create("namespaces", {"metadata": {"name": "team"}})
    assert store.get("serviceaccounts", "default", "team")  # created for every new namespace
    store.create("pods", pod("a"), "team")
    store.create("configmaps", {"metadata": {"name": "c"}}, "team")
    store.delete("namespaces", "team")
    assert store.list("pods", "team") == [] and store.list("configmaps", "team") == []
    with pytest.raises(ApiError):
        store.create("pods", pod("b"), "team")


def test_owner_reference_garbage_collection_and_finalizers(cluster: KubeCluster) -> None:
    store = cluster.store
    owner = store.create("replicasets", deployment("rs"), "default")
    ref = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "rs",
        "uid": owner["metadata"]["uid"],
        "controller": True,
    }
    store.create("pods", pod("child", ownerReferences=[ref]), "default")
    store.create("pods", pod("kept", finalizers=["example.com/hold"], ownerReferences=[ref]), "default")
    store.delete("replicasets", "rs", "default")
    assert store.find("pods", "child", "default") is None
    held = store.get("pods", "kept", "default")
    assert held["metadata"]["deletionTimestamp"]  # finalizer keeps it until removed
    store.patch("pods", "kept", "default", {"metadata": {"finalizers": None}}, "merge")
    assert store.find("pods", "kept", "default") is None


def test_admission_and_listeners(cluster: KubeCluster) -> None:
    store = cluster.store
    seen: list[tuple[str, str, str]] = []

    def deny_big(op: str, resource: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if resource == "configmaps" and "big" in (obj.get("data") or {}):
            raise forbidden(f'configmaps "{obj["metadata"]["name"]}" is forbidden: exceeded quota')

    store.add_admission(deny_big)
    store.add_listener(lambda t, r, o: seen.append((t, r, o["metadata"]["name"])))
    with pytest.raises(ApiError) as info:
        store.create("configmaps", {"metadata": {"name": "x"}, "data": {"big": "1"}}, "default")
    assert info.value.code == 403
    store.create("configmaps", {"metadata": {"name": "y"}, "data": {"a": "1"}}, "default")
    store.delete("configmaps", "y", "default")
    assert seen == [("ADDED", "configmaps", "y"), ("DELETED", "configmaps", "y")]


def test_watch_history_and_compaction() -> None:
    store = KubeStore(LabClock(), history=5)
    store.create("namespaces", {"metadata": {"name": "default"}})
    start = store.resource_version
    for i in range(3):
        store.create("configmaps", {"metadata": {"name": f"c{i}"}}, "default")
    watcher, replay = store.watch("configmaps", "default", start)
    assert [e.obj["metadata"]["name"] for e in replay] == ["c0", "c1", "c2"]
    store.unwatch(watcher)
    for i in range(3, 10):
        store.create("configmaps", {"metadata": {"name": f"c{i}"}}, "default")
    with pytest.raises(ApiError) as info:
        store.watch("configmaps", "default", start)  # fell out of the bounded history
    assert (info.value.code, info.value.reason) == (410, "Expired")
    store.compact()
    with pytest.raises(ApiError):
        store.watch("configmaps", None, store.resource_version - 1)
    watcher, replay = store.watch("configmaps", None, store.resource_version)
    assert replay == []
    store.unwatch(watcher)


def _ready(name: str) -> dict[str, Any]:
    obj = pod(name, {"app": "db"})
    obj["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    return obj


def test_pdb_status_follows_pods(cluster: KubeCluster) -> None:
    store = cluster.store
    store.create(
        "poddisruptionbudgets",
        {
            "metadata": {"name": "db"},
            "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "db"}}},
        },
        "default",
    )
    for n in range(3):
        created = store.create("pods", _ready(f"db-{n}"), "default")
        store.update_status("pods", {"metadata": created["metadata"], "status": _ready("x")["status"]})
    status = store.get("poddisruptionbudgets", "db", "default")["status"]
    assert (
        status["expectedPods"],
        status["currentHealthy"],
        status["desiredHealthy"],
        status["disruptionsAllowed"],
    ) == (3, 3, 2, 1)
    store.delete("pods", "db-0", "default")
    status = store.get("poddisruptionbudgets", "db", "default")["status"]
    assert (status["expectedPods"], status["currentHealthy"], status["disruptionsAllowed"]) == (2, 2, 1)


def test_immutable_fields(cluster: KubeCluster) -> None:
    store = cluster.store
    dep = store.create("deployments", deployment("fixed"), "default")
    dep["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    dep["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(ApiError) as info:
        store.replace("deployments", dep)
    assert info.value.code == 422 and info.value.details["causes"][0]["field"] == "spec.selector"  # type: ignore[index]
    svc = store.create("services", {"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}, "default")
    replaced = store.replace(
        "services", {"metadata": {"name": "s", "namespace": "default"}, "spec": {"ports": [{"port": 81}]}}
    )
    assert replaced["spec"]["clusterIP"] == svc["spec"]["clusterIP"]  # kept when the update leaves it unset
    with pytest.raises(ApiError):
        store.patch("services", "s", "default", {"spec": {"clusterIP": "10.43.99.99"}}, "merge")
