"""Controllers seen through the official kubernetes client against the running demo lab: quota
enforcement (403) in the Shared-plan vCluster, a tolerating app rolled out on the Dedicated nodes with
logs, scaling and a rolling update, and a CSI-provisioned volume appearing as a Proxmox disk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from hks_tui.lab.controllers.quantity import format_millis, millis
from tests.integration.lab.test_world_link import poll


@pytest.fixture
def dev(lab: Any) -> Iterator[client.ApiClient]:
    with config.new_client_from_config(
        config_file=lab.info["kubeconfig"], context=lab.info["vcluster_contexts"]["dev"]
    ) as api:
        yield api


@pytest.fixture
def prod(lab: Any) -> Iterator[client.ApiClient]:
    with config.new_client_from_config(
        config_file=lab.info["kubeconfig"], context=lab.info["vcluster_contexts"]["prod"]
    ) as api:
        yield api


def test_quota_is_enforced_over_http(dev: client.ApiClient) -> None:
    v1 = client.CoreV1Api(dev)
    quota = v1.read_namespaced_resource_quota("hks-quota", "default")
    used, hard = millis(quota.status.used["requests.cpu"]), millis(quota.status.hard["requests.cpu"])
    assert 0 < used < hard  # the demo keeps the Shared-plan workspace near its CPU quota
    want = format_millis(hard - used + 100)  # 100m more than what is left
    body = {
        "metadata": {"name": "http-quota-hog"},
        "spec": {
            "containers": [
                {
                    "name": "hog",
                    "image": "nginx",
                    "resources": {"requests": {"cpu": want, "memory": "64Mi"}, "limits": {"memory": "64Mi"}},
                }
            ]
        },
    }
    with pytest.raises(ApiException) as refused:
        v1.create_namespaced_pod("default", body)
    assert refused.value.status == 403
    status = json.loads(refused.value.body)
    assert status["reason"] == "Forbidden" and status["code"] == 403
    assert status["message"] == (
        f'pods "http-quota-hog" is forbidden: exceeded quota: hks-quota, requested: requests.cpu={want}, '
        f"used: requests.cpu={format_millis(used)}, limited: requests.cpu={quota.status.hard['requests.cpu']}"
    )
    unspecified = {
        "metadata": {"name": "http-quota-bare"},
        "spec": {"containers": [{"name": "bare", "image": "nginx"}]},
    }
    with pytest.raises(ApiException) as missing:
        v1.create_namespaced_pod("default", unspecified)
    assert missing.value.status == 403
    assert (
        "failed quota: hks-quota: must specify limits.memory for: bare; requests.cpu for: bare"
        in missing.value.body
    )


def deployment(name: str, image: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {"hks.io/pool": "default"},
                    "tolerations": [
                        {
                            "key": "hks.io/workspace",
                            "operator": "Equal",
                            "value": "prod",
                            "effect": "NoSchedule",
                        }
                    ],
                    "containers": [
                        {
                            "name": "web",
                            "image": image,
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ],
                },
            },
        },
    }


@pytest.mark.slow
def test_deployment_rollout_logs_and_scale_over_http(prod: client.ApiClient) -> None:
    apps, v1 = client.AppsV1Api(prod), client.CoreV1Api(prod)
    apps.create_namespaced_deployment("default", deployment("http-web", "nginx:1.27.3"))

    def rolled_out(image: str) -> bool:
        d = apps.read_namespaced_deployment("http-web", "default")
        return bool(
            d.status.observed_generation == d.metadata.generation
            and d.status.updated_replicas == 2
            and d.status.available_replicas == 2
            and (d.status.replicas or 0) == 2
            and d.spec.template.spec.containers[0].image == image
        )

    poll(lambda: rolled_out("nginx:1.27.3"))
    pods = v1.list_namespaced_pod("default", label_selector="app.kubernetes.io/name=http-web").items
    assert {p.status.phase for p in pods} == {"Running"}
    assert all(p.spec.node_name.startswith("prod-default-") for p in pods)
    name = pods[0].metadata.name
    poll(lambda: len(v1.read_namespaced_pod_log(name, "default", tail_lines=5).splitlines()) >= 3)
    apps.patch_namespaced_deployment(
        "http-web",
        "default",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27.4"}]}}}},
    )
    poll(lambda: rolled_out("nginx:1.27.4"))
    rs = apps.list_namespaced_replica_set("default", label_selector="app.kubernetes.io/name=http-web").items
    assert sorted(r.spec.replicas for r in rs) == [0, 2]
    apps.patch_namespaced_deployment_scale("http-web", "default", {"spec": {"replicas": 1}})
    poll(
        lambda: (
            len(v1.list_namespaced_pod("default", label_selector="app.kubernetes.io/name=http-web").items)
            == 1
        )
    )
    apps.delete_namespaced_deployment("http-web", "default")


@pytest.mark.slow
def test_csi_volume_is_a_proxmox_disk(lab: Any, prod: client.ApiClient) -> None:
    v1 = client.CoreV1Api(prod)
    v1.create_namespaced_persistent_volume_claim(
        "default",
        {
            "metadata": {"name": "http-data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "proxmox-data",
                "resources": {"requests": {"storage": "2Gi"}},
            },
        },
    )
    v1.create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "http-data-user"},
            "spec": {
                "nodeSelector": {"hks.io/pool": "default"},
                "tolerations": [{"key": "hks.io/workspace", "operator": "Exists", "effect": "NoSchedule"}],
                "containers": [
                    {"name": "c", "image": "busybox:1.36", "resources": {"requests": {"cpu": "50m"}}}
                ],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "http-data"}}],
            },
        },
    )
    pvc = poll(
        lambda: (
            (c := v1.read_namespaced_persistent_volume_claim("http-data", "default")).status.phase == "Bound"
            and c
        )
    )
    pv = v1.read_persistent_volume(pvc.spec.volume_name)
    region, zone, storage, disk = pv.spec.csi.volume_handle.split("/")
    assert (storage, disk) == ("local-lvm", f"vm-9999-pvc-{pvc.metadata.uid}")
    volid = f"{storage}:{disk}"
    assert lab.call(lambda: lab.world.pve.volume_size(volid)) == 2 * 2**30
    poll(lambda: v1.read_namespaced_pod("http-data-user", "default").status.phase == "Running")
    users = lab.call(lambda: lab.world.pve.volume_users(volid))
    assert len(users) == 1 and lab.call(lambda: lab.world.pve.vms[users[0]].node) == zone
    assert region == "jp-east" or region == "jp-west"
    v1.delete_namespaced_pod("http-data-user", "default")
