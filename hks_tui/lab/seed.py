"""Seeds of the lab world (see docs/lab-world.md, "Seeds").

* ``empty``: the Proxmox infrastructure, a host K3s cluster with one server VM (``k3s-server-1``) and two
  shared worker VMs (``k3s-shared-1``/``-2``, label ``hks.io/plan=shared``) joined as Nodes, the K3s
  system deployments; no workspaces.
* ``demo``: ``empty`` plus org ``acme``: workspace ``dev`` (Shared plan, vCluster ``vc-dev``, quota at 80 %
  of its CPU with four apps, one of them failing to pull its image) and workspace ``prod`` (Dedicated plan,
  vCluster ``vc-prod``, three dedicated VMs in two regions joined with the workspace label and taint,
  two stateless apps, a PostgreSQL StatefulSet with a CSI-provisioned PVC, two Storage Volumes — ``backups``
  at 87 % — and a backup CronJob whose last run failed with "No space left on device").

Seeding is synchronous (store and Proxmox model directly); the controllers then converge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hks_tui.lab.clock import LabClock
from hks_tui.lab.controllers import seedkit as kit
from hks_tui.lab.controllers.join import make_join_handler
from hks_tui.lab.controllers.nodes import register_node
from hks_tui.lab.controllers.seedbackup import seed_failed_backup
from hks_tui.lab.kube.cluster import KubeCluster
from hks_tui.lab.pve.infra import build_infrastructure
from hks_tui.lab.world import LabCredentials, LabWorld, WorkspaceInfo

if TYPE_CHECKING:
    from hks_tui.lab.faults import FaultRegistry

GIB = 2**30
SEEDS = ("demo", "empty")
SYSTEM_TOLERATIONS = [
    {"key": "CriticalAddonsOnly", "operator": "Exists"},
    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
]
# name, vmid, pve node, cores, memory MiB, labels, taints
HOST_VMS: tuple[tuple[str, int, str, int, int, dict[str, str], list[dict[str, str]]], ...] = (
    (
        "k3s-server-1",
        100,
        "pve1",
        4,
        8192,
        {"node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true"},
        [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoExecute"}],
    ),
    ("k3s-shared-1", 101, "pve2", 8, 16384, {"hks.io/plan": "shared"}, []),
    ("k3s-shared-2", 102, "pve3", 8, 16384, {"hks.io/plan": "shared"}, []),
)
PROD_VMS = (("prod-default-1", 201, "pve1"), ("prod-default-2", 202, "pve2"), ("prod-default-3", 203, "pve3"))


def build_world(
    seed: str, clock: LabClock, credentials: LabCredentials | None = None, faults: FaultRegistry | None = None
) -> LabWorld:
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r} (choose from {', '.join(SEEDS)})")
    if faults is None:
        from hks_tui.lab.faults import FaultRegistry

        faults = FaultRegistry()
    pve = build_infrastructure(clock)
    host = KubeCluster("host", "host", clock)
    world = LabWorld(
        clock=clock,
        pve=pve,
        clusters={"host": host},
        faults=faults,
        credentials=credentials or LabCredentials(),
    )
    pve.exec_handlers.insert(0, make_join_handler(world))
    _host_cluster(world)
    if seed == "demo":
        world.extra["org"] = "acme"
        _dev(world)
        _prod(world)
    return world


def _host_cluster(world: LabWorld) -> None:
    store = world.host.store
    for name, vmid, node, cores, memory, labels, taints in HOST_VMS:
        vm = world.pve.create_vm(
            node,
            vmid,
            name,
            cores=cores,
            memory_mib=memory,
            disk_gib=40,
            running=True,
            tags=("hks-infra",),
            description="HKS host K3s cluster node",
        )
        args = ["server"] if "control-plane" in " ".join(labels) else []
        register_node(world, vm, labels=labels, taints=taints, args=args, ready_now=True)
    store.create(
        "storageclasses",
        {
            "metadata": {
                "name": "local-path",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "rancher.io/local-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
    )
    for app, image, cpu_req, mem_req in (
        ("coredns", "rancher/mirrored-coredns-coredns:1.12.0", "100m", "70Mi"),
        ("local-path-provisioner", "rancher/local-path-provisioner:v0.0.30", "50m", "64Mi"),
        ("metrics-server", "rancher/mirrored-metrics-server:v0.7.2", "100m", "70Mi"),
    ):
        obj = kit.deployment(
            app,
            1,
            [kit.container(app, image, cpu_req, mem_req)],
            namespace="kube-system",
            labels={"app.kubernetes.io/managed-by": "k3s"},
        )
        obj["spec"]["template"]["spec"]["tolerations"] = list(SYSTEM_TOLERATIONS)
        obj["spec"]["template"]["spec"]["priorityClassName"] = "system-cluster-critical"
        store.create("deployments", obj, "kube-system")


def _workspace(world: LabWorld, name: str, plan: str) -> KubeCluster:
    info = WorkspaceInfo(name=name, plan=plan, vcluster=f"vc-{name}", host_namespace=f"vcluster-{name}")
    world.workspaces[name] = info
    cluster = KubeCluster(name, "vcluster", world.clock, workspace=name)
    world.clusters[name] = cluster
    host = world.host.store
    host.create(
        "namespaces", {"metadata": {"name": info.host_namespace, "labels": {"hks.io/workspace": name}}}
    )
    labels = {"app": "vcluster", "release": info.vcluster}
    sts = {
        "metadata": {"name": info.vcluster, "namespace": info.host_namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "serviceName": f"{info.vcluster}-headless",
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        kit.container("syncer", "ghcr.io/loft-sh/vcluster-oss:0.30.0", "200m", "256Mi")
                    ],
                    "nodeSelector": {"hks.io/plan": "shared"},
                },
            },
        },
    }
    host.create("statefulsets", sts, info.host_namespace)
    host.create("services", kit.service(info.vcluster, 443, 8443, info.host_namespace), info.host_namespace)
    return cluster


def _dev(world: LabWorld) -> None:
    dev = _workspace(world, "dev", "shared").store
    dev.create(
        "resourcequotas",
        {
            "metadata": {"name": "hks-quota", "namespace": "default", "labels": kit.MANAGED},
            "spec": {
                "hard": {
                    "requests.cpu": "4",
                    "requests.memory": "8Gi",
                    "limits.memory": "16Gi",
                    "pods": "20",
                    "requests.storage": "50Gi",
                    "persistentvolumeclaims": "10",
                }
            },
        },
        "default",
    )
    apps = (
        ("web", "nginx:1.27.3", 3, "500m", "256Mi", 80),
        ("api", "ghcr.io/acme/api:2.3.1", 2, "500m", "512Mi", 8080),
        ("worker", "ghcr.io/acme/worker:2.3.1", 1, "400m", "512Mi", None),
        ("preview", "ghcr.io/acme/preview:missing", 1, "300m", "256Mi", 8080),
    )
    for name, image, replicas, cpu, memory, port in apps:
        dev.create(
            "deployments",
            kit.deployment(name, replicas, [kit.container(name, image, cpu, memory, port)]),
            "default",
        )
        if port:
            dev.create("services", kit.service(name, 80, port), "default")


def _prod(world: LabWorld) -> None:
    cluster = _workspace(world, "prod", "dedicated")
    prod = cluster.store
    pve = world.pve
    labels = {"hks.io/workspace": "prod", "hks.io/pool": "default"}
    taint = {"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"}
    for name, vmid, node in PROD_VMS:
        vm = pve.create_vm(
            node,
            vmid,
            name,
            cores=4,
            memory_mib=8192,
            disk_gib=40,
            running=True,
            tags=("hks-managed", "hks-ws-prod"),
            description="HKS dedicated node (workspace prod, pool default)",
        )
        args = [
            "--node-label",
            "hks.io/workspace=prod",
            "--node-label",
            "hks.io/pool=default",
            "--node-taint",
            "hks.io/workspace=prod:NoSchedule",
        ]
        register_node(world, vm, labels=labels, taints=[taint], args=args, ready_now=True)
    prod.create("storageclasses", kit.storage_class("proxmox-data", "local-lvm", default=True))
    volumes = (
        ("media", "20Gi", "pve1", "local-lvm", 12 * GIB),
        ("backups", "50Gi", None, "shared-nfs", int(0.87 * 50 * GIB)),
    )
    for name, size, zone, storage, used in volumes:
        filename = f"vm-9999-hks-prod-{name}"
        pve.allocate_volume(zone or "pve1", storage, filename, int(size[:-2]) * GIB, 9999)
        handle = f"jp-east/{zone or ''}/{storage}/{filename}"
        sc, pv, pvc = kit.static_volume(name, "prod", size, handle, "jp-east", zone, storage)
        prod.create("storageclasses", sc)
        prod.create("persistentvolumes", pv)
        prod.create("persistentvolumeclaims", pvc, "default")
        world.pvc_used_bytes[("prod", "default", name)] = used
    store_front = kit.deployment(
        "storefront", 2, [kit.container("storefront", "nginx:1.27.3", "250m", "256Mi", 80)], workspace="prod"
    )
    spec = store_front["spec"]["template"]["spec"]
    spec["containers"][0]["volumeMounts"] = [
        {"name": "media", "mountPath": "/usr/share/nginx/html/media", "readOnly": True}
    ]
    spec["volumes"] = [{"name": "media", "persistentVolumeClaim": {"claimName": "media"}}]
    prod.create("deployments", store_front, "default")
    prod.create("services", kit.service("storefront", 80, 80), "default")
    prod.create(
        "deployments",
        kit.deployment(
            "checkout-api",
            2,
            [kit.container("checkout-api", "ghcr.io/acme/checkout-api:1.8.0", "500m", "512Mi", 8080)],
            workspace="prod",
        ),
        "default",
    )
    prod.create("services", kit.service("checkout-api", 80, 8080), "default")
    prod.create(
        "statefulsets",
        kit.statefulset(
            "postgres",
            1,
            [kit.container("postgres", "postgres:16.4", "500m", "1Gi", 5432, env={"POSTGRES_DB": "shop"})],
            "data",
            "10Gi",
            "proxmox-data",
            workspace="prod",
        ),
        "default",
    )
    prod.create("services", kit.service("postgres", 5432, 5432), "default")
    seed_failed_backup(world, cluster)
