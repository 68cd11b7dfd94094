"""Every object the lab's Kubernetes servers emit validates against the official client's models.

Each object (from create/read/list/watch answers, over real HTTPS) is deserialized into its typed model
with ``ApiClient.deserialize`` (kubernetes 37: pydantic models, strict about missing required fields)
and re-serialized with ``sanitize_for_serialization``; the round trip must keep every field the server
sent (a dropped field means a misspelled or mistyped field the client cannot see)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from kubernetes import client, config

from hks_tui.lab.kube.resources import RESOURCE_TYPES, ResourceType
from hks_tui.lab.kube.standalone import RunningKube, start_kube_only_lab

CODEC = client.ApiClient()


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 19 or value[4] != "-" or "T" not in value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def differences(sent: Any, back: Any, path: str = "") -> list[str]:
    if sent is None:
        return []
    if isinstance(sent, dict):
        if not isinstance(back, dict):
            return [f"{path}: {type(back).__name__} instead of an object"]
        out: list[str] = []
        for key, value in sent.items():
            if value is None:
                continue
            if key not in back:
                out.append(f"{path}.{key}: dropped by the model")
            else:
                out.extend(differences(value, back[key], f"{path}.{key}"))
        return out
    if isinstance(sent, list):
        if not isinstance(back, list) or len(back) != len(sent):
            return [f"{path}: list changed"]
        return [
            d
            for n, (a, b) in enumerate(zip(sent, back, strict=True))
            for d in differences(a, b, f"{path}[{n}]")
        ]
    if sent == back:
        return []
    a, b = _instant(sent), _instant(back)
    if a is not None and a == b:
        return []
    return [f"{path}: {sent!r} came back as {back!r}"]


def assert_model(obj: dict[str, Any], model: str) -> Any:
    typed = CODEC.deserialize(json.dumps(obj), model, "application/json")
    problems = differences(obj, CODEC.sanitize_for_serialization(typed))
    assert not problems, f"{model}: {problems}"
    return typed


def get(
    url: str, token: str, ca: str, path: str, session: requests.Session | None = None
) -> requests.Response:
    getter = session.get if session is not None else requests.get
    return getter(url + path, headers={"Authorization": f"Bearer {token}"}, verify=ca, timeout=20)


def collection_path(rt: ResourceType) -> str:
    return f"/api/{rt.version}/{rt.plural}" if not rt.group else f"/apis/{rt.group}/{rt.version}/{rt.plural}"


def check_cluster(url: str, token: str, ca: str) -> dict[str, int]:
    """List every resource type (and watch pods from rv 0); validate every object. Returns counts."""
    counts: dict[str, int] = {}
    session = requests.Session()
    for rt in RESOURCE_TYPES:
        resp = get(url, token, ca, collection_path(rt), session)
        assert resp.status_code == 200, (rt.plural, resp.text)
        listed = resp.json()
        assert listed["kind"] == rt.list_kind and listed["metadata"]["resourceVersion"]
        assert_model(listed, rt.list_model)
        for item in listed["items"]:
            assert_model(item, rt.model)
            path = collection_path(rt)
            if rt.namespaced:
                prefix = "/api/v1" if not rt.group else f"/apis/{rt.group}/{rt.version}"
                path = f"{prefix}/namespaces/{item['metadata']['namespace']}/{rt.plural}"
            single = get(url, token, ca, f"{path}/{item['metadata']['name']}", session).json()
            assert (single["kind"], single["apiVersion"]) == (rt.kind, rt.api_version)
            assert_model(single, rt.model)
        counts[rt.plural] = len(listed["items"])
    events = get(
        url, token, ca, "/api/v1/pods?watch=1&timeoutSeconds=1&allowWatchBookmarks=1"
    ).text.splitlines()
    for line in events:
        event = assert_model(json.loads(line), "V1WatchEvent")
        if event.type != "BOOKMARK":
            assert_model(json.loads(line)["object"], "V1Pod")
    return counts


# --- a broad corpus created through the API -------------------------------------------------------


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningKube]:
    running = start_kube_only_lab(tmp_path_factory.mktemp("kube-models"))
    yield running
    running.stop()


POD_SPEC = {
    "containers": [
        {
            "name": "app",
            "image": "nginx:1.27",
            "args": ["-g", "daemon off;"],
            "ports": [{"name": "http", "containerPort": 80}],
            "env": [
                {"name": "A", "value": "1"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            ],
            "resources": {
                "requests": {"cpu": "100m", "memory": "64Mi"},
                "limits": {"cpu": "1", "memory": "128Mi"},
            },
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
        }
    ],
    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
    "nodeSelector": {"hks.io/workspace": "prod"},
    "tolerations": [
        {"key": "hks.io/workspace", "operator": "Equal", "value": "prod", "effect": "NoSchedule"}
    ],
}
LABELS = {"app": "shop"}
TEMPLATE = {"metadata": {"labels": LABELS}, "spec": POD_SPEC}
NODE_STATUS = {
    "capacity": {"cpu": "4", "memory": "8152908Ki", "pods": "110", "ephemeral-storage": "40901312Ki"},
    "allocatable": {"cpu": "4", "memory": "8152908Ki", "pods": "110"},
    "conditions": [
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": "2026-01-01T00:00:00Z",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    ],
    "addresses": [{"type": "InternalIP", "address": "10.0.0.11"}, {"type": "Hostname", "address": "prod-1"}],
    "nodeInfo": {
        "architecture": "amd64",
        "bootID": "b",
        "containerRuntimeVersion": "containerd://1.7.23-k3s2",
        "kernelVersion": "6.8.0-51-generic",
        "kubeProxyVersion": "v1.31.4+k3s1",
        "kubeletVersion": "v1.31.4+k3s1",
        "machineID": "m",
        "operatingSystem": "linux",
        "osImage": "Ubuntu 24.04.1 LTS",
        "systemUUID": "u",
    },
    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
}
CORPUS: list[tuple[str, dict[str, Any]]] = [
    ("configmaps", {"metadata": {"name": "cfg"}, "data": {"k": "v"}, "binaryData": {"b": "AAE="}}),
    (
        "secrets",
        {"metadata": {"name": "sec"}, "type": "kubernetes.io/basic-auth", "stringData": {"username": "u"}},
    ),
    ("serviceaccounts", {"metadata": {"name": "robot"}}),
    (
        "persistentvolumeclaims",
        {
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "proxmox-lvm",
                "resources": {"requests": {"storage": "10Gi"}},
            },
        },
    ),
    (
        "services",
        {
            "metadata": {"name": "shop"},
            "spec": {"selector": LABELS, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
        },
    ),
    (
        "endpoints",
        {
            "metadata": {"name": "shop"},
            "subsets": [{"addresses": [{"ip": "10.42.0.5"}], "ports": [{"name": "http", "port": 80}]}],
        },
    ),
    ("pods", {"metadata": {"name": "shop-0", "labels": LABELS}, "spec": POD_SPEC}),
    (
        "deployments",
        {
            "metadata": {"name": "shop"},
            "spec": {"replicas": 2, "selector": {"matchLabels": LABELS}, "template": TEMPLATE},
        },
    ),
    (
        "replicasets",
        {
            "metadata": {"name": "shop-5d9c"},
            "spec": {"replicas": 2, "selector": {"matchLabels": LABELS}, "template": TEMPLATE},
        },
    ),
    (
        "statefulsets",
        {
            "metadata": {"name": "db"},
            "spec": {
                "serviceName": "db",
                "replicas": 1,
                "selector": {"matchLabels": LABELS},
                "template": TEMPLATE,
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "5Gi"}},
                        },
                    }
                ],
            },
        },
    ),
    (
        "jobs",
        {
            "metadata": {"name": "once"},
            "spec": {
                "backoffLimit": 2,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "run", "image": "busybox:1.36", "command": ["true"]}],
                    }
                },
            },
        },
    ),
    (
        "cronjobs",
        {
            "metadata": {"name": "backup", "annotations": {"hks.io/backup": "data"}},
            "spec": {
                "schedule": "0 3 * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "containers": [{"name": "b", "image": "restic/restic:0.17.3"}],
                            }
                        }
                    }
                },
            },
        },
    ),
    (
        "ingresses",
        {
            "metadata": {"name": "shop"},
            "spec": {
                "ingressClassName": "traefik",
                "rules": [
                    {
                        "host": "shop.example",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "shop", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ],
            },
        },
    ),
    (
        "poddisruptionbudgets",
        {"metadata": {"name": "shop"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": LABELS}}},
    ),
    ("resourcequotas", {"metadata": {"name": "plan"}, "spec": {"hard": {"requests.cpu": "4", "pods": "20"}}}),
    (
        "leases",
        {"metadata": {"name": "prod-1"}, "spec": {"holderIdentity": "prod-1", "leaseDurationSeconds": 40}},
    ),
    (
        "events",
        {
            "metadata": {"name": "shop-0.1"},
            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "shop-0", "apiVersion": "v1"},
            "reason": "Scheduled",
            "message": "Successfully assigned shop/shop-0 to prod-1",
            "source": {"component": "default-scheduler"},
            "firstTimestamp": "2026-01-01T00:00:00Z",
            "lastTimestamp": "2026-01-01T00:00:00Z",
            "reportingComponent": "default-scheduler",
        },
    ),
]
CLUSTER_CORPUS: list[tuple[str, dict[str, Any]]] = [
    (
        "storageclasses",
        {
            "metadata": {"name": "proxmox-lvm"},
            "provisioner": "csi.proxmox.sinextra.dev",
            "parameters": {"storage": "local-lvm", "csi.storage.k8s.io/fstype": "ext4"},
            "allowVolumeExpansion": True,
            "volumeBindingMode": "WaitForFirstConsumer",
        },
    ),
    (
        "persistentvolumes",
        {
            "metadata": {"name": "pv-1"},
            "spec": {
                "capacity": {"storage": "10Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "proxmox-lvm",
                "csi": {
                    "driver": "csi.proxmox.sinextra.dev",
                    "volumeHandle": "jp-east/pve1/local-lvm/vm-9999-pvc-1",
                    "fsType": "ext4",
                },
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {
                                        "key": "topology.kubernetes.io/region",
                                        "operator": "In",
                                        "values": ["jp-east"],
                                    }
                                ]
                            }
                        ]
                    }
                },
            },
        },
    ),
    (
        "nodes",
        {
            "metadata": {"name": "prod-1", "labels": {"hks.io/workspace": "prod"}},
            "spec": {
                "providerID": "proxmox://jp-east/101",
                "taints": [{"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"}],
            },
            "status": NODE_STATUS,
        },
    ),
]


def test_every_kind_created_listed_and_watched_validates(kube: RunningKube) -> None:
    api = config.new_client_from_config(config_file=str(kube.kubeconfig), context="host")
    url, token, ca = kube.urls["host"], kube.world.credentials.kube_token, str(kube.ca_file)
    client.CoreV1Api(api).create_namespace({"metadata": {"name": "shop"}})
    by_plural = {rt.plural: rt for rt in RESOURCE_TYPES}
    for plural, obj in CORPUS + CLUSTER_CORPUS:
        rt = by_plural[plural]
        path = collection_path(rt)
        if rt.namespaced:
            prefix = "/api/v1" if not rt.group else f"/apis/{rt.group}/{rt.version}"
            path = f"{prefix}/namespaces/shop/{rt.plural}"
        resp = requests.post(
            url + path, json=obj, headers={"Authorization": f"Bearer {token}"}, verify=ca, timeout=20
        )
        assert resp.status_code == 201, (plural, resp.text)
        assert_model(resp.json(), rt.model)
    pod = client.CoreV1Api(api).read_namespaced_pod("shop-0", "shop")
    assert pod.spec.containers[0].resources.limits == {"cpu": "1", "memory": "128Mi"}
    counts = check_cluster(url, token, ca)
    assert all(counts[p] >= 1 for p, _ in CORPUS + CLUSTER_CORPUS), counts
    version = get(url, token, ca, "/version").json()
    assert_model(version, "VersionInfo")
    for path, model in (
        ("/api", "V1APIVersions"),
        ("/apis", "V1APIGroupList"),
        ("/apis/apps", "V1APIGroup"),
        ("/api/v1", "V1APIResourceList"),
        ("/apis/batch/v1", "V1APIResourceList"),
    ):
        assert_model(get(url, token, ca, path).json(), model)
    missing = get(url, token, ca, "/api/v1/namespaces/shop/pods/nope")
    assert_model(missing.json(), "V1Status")
    scale = get(url, token, ca, "/apis/apps/v1/namespaces/shop/deployments/shop/scale").json()
    assert_model(scale, "V1Scale")


def test_metrics_api_and_stats_summary(kube: RunningKube) -> None:
    api = config.new_client_from_config(config_file=str(kube.kubeconfig), context="host")
    v1 = client.CoreV1Api(api)
    v1.create_namespace({"metadata": {"name": "metrics"}})
    v1.create_node({"metadata": {"name": "m-node"}, "status": NODE_STATUS})
    pod = {
        "metadata": {"name": "busy"},
        "spec": {
            "nodeName": "m-node",
            "containers": [
                {"name": "a", "image": "i:1", "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}}},
                {"name": "b", "image": "i:1"},
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
        },
    }
    v1.create_namespaced_persistent_volume_claim(
        "metrics",
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
        },
    )
    v1.create_namespaced_pod("metrics", pod)
    v1.patch_namespaced_pod_status(
        "busy", "metrics", {"status": {"phase": "Running", "startTime": "2026-01-01T00:00:00Z"}}
    )
    custom = client.CustomObjectsApi(api)
    nodes = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert nodes["kind"] == "NodeMetricsList"
    node = next(n for n in nodes["items"] if n["metadata"]["name"] == "m-node")
    assert node["usage"]["cpu"].endswith("n") and node["usage"]["memory"].endswith("Ki") and node["window"]
    pods = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "metrics", "pods")
    (busy,) = pods["items"]
    assert busy["kind"] == "PodMetrics" and [c["name"] for c in busy["containers"]] == ["a", "b"]
    cpu_a = int(busy["containers"][0]["usage"]["cpu"][:-1])
    assert 0 < cpu_a <= 500_000_000  # within its request's envelope
    one = custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "metrics", "pods", "busy")
    assert one["metadata"]["name"] == "busy"
    summary = get(
        kube.urls["host"],
        kube.world.credentials.kube_token,
        str(kube.ca_file),
        "/api/v1/nodes/m-node/proxy/stats/summary",
    ).json()
    assert summary["node"]["nodeName"] == "m-node" and summary["node"]["cpu"]["usageNanoCores"] > 0
    assert [p["podRef"]["name"] for p in summary["pods"]] == ["busy"]
    assert summary["pods"][0]["containers"][0]["memory"]["workingSetBytes"] > 0
    (volume,) = summary["pods"][0]["volume"]
    assert volume["pvcRef"] == {"name": "data", "namespace": "metrics"} and volume["name"] == "data"
    assert volume["capacityBytes"] == 10 * 2**30 and 0 < volume["usedBytes"] < volume["capacityBytes"]
    assert volume["availableBytes"] == volume["capacityBytes"] - volume["usedBytes"]


def test_the_demo_lab_emits_only_valid_objects(lab: Any) -> None:
    """The same proof over the demo seed: objects written by the seed and by every controller."""
    info = lab.info
    cfg = yaml.safe_load(Path(info["kubeconfig"]).read_text())
    token = cfg["users"][0]["user"]["token"]
    servers = {c["name"]: c["cluster"] for c in cfg["clusters"]}
    assert len(servers) >= 3  # host + the dev and prod vClusters

    def check(cluster: dict[str, Any]) -> dict[str, int]:
        return check_cluster(cluster["server"], token, cluster["certificate-authority"])

    with ThreadPoolExecutor(len(servers)) as pool:
        results = dict(zip(servers, pool.map(check, servers.values()), strict=True))
    total = {plural: sum(r[plural] for r in results.values()) for plural in next(iter(results.values()))}
    for plural in ("nodes", "pods", "deployments", "replicasets", "events", "namespaces"):
        assert total[plural] > 0, (plural, total)
