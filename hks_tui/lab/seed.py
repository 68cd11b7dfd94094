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
from hks_tui.lab.kube.resources import BY_KIND
from hks_tui.lab.kube.store import KubeStore
from hks_tui.lab.pve.infra import build_infrastructure
from hks_tui.lab.world import LabCredentials, LabWorld, WorkspaceInfo
from hks_tui.manifests.apps import build_app
from hks_tui.manifests.specs import AppSpec, ClaimSpec, EnvVarSpec, PortSpec, ResourceSpec, SchedulingSpec
from hks_tui.manifests.volumes import (
    VolumeSpec,
    build_persistent_volume,
    build_storage_class,
    build_volume_claim,
)

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
        _create_app(
            dev,
            AppSpec(
                name=name,
                image=image,
                replicas=replicas,
                ports=[PortSpec(name="http", port=port, service_port=80)] if port else [],
                resources=ResourceSpec(cpu_request=cpu, memory_request=memory, memory_limit=memory),
            ),
        )


def _create_app(store: KubeStore, spec: AppSpec, mount: tuple[str, str] | None = None) -> None:
    """Create an Application exactly as the console builds it (hks_tui.manifests.apps); ``mount``
    (claim, path) adds an existing Storage Volume's claim to the workload, read-only."""
    for obj in build_app(spec):
        if mount is not None and obj["kind"] in ("Deployment", "StatefulSet"):
            claim, path = mount
            pod = obj["spec"]["template"]["spec"]
            pod["containers"][0].setdefault("volumeMounts", []).append(
                {"name": claim, "mountPath": path, "readOnly": True}
            )
            pod.setdefault("volumes", []).append(
                {"name": claim, "persistentVolumeClaim": {"claimName": claim}}
            )
        store.create(BY_KIND[obj["kind"]].plural, obj, spec.namespace)


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
        (
            VolumeSpec(
                name="media",
                workspace="prod",
                size="20Gi",
                region="jp-east",
                zone="pve1",
                storage="local-lvm",
            ),
            12 * GIB,
        ),
        (
            VolumeSpec(name="backups", workspace="prod", size="50Gi", region="jp-east", storage="shared-nfs"),
            int(0.87 * 50 * GIB),
        ),
    )
    for volume, used in volumes:  # Storage Volumes exactly as the console creates them
        pve.allocate_volume(volume.zone or "pve1", volume.storage, volume.disk_name, volume.size_bytes, 9999)
        prod.create("storageclasses", build_storage_class(volume))
        prod.create(
            "persistentvolumes",
            build_persistent_volume(volume, claim_namespace="default", claim_name=volume.name),
        )
        prod.create("persistentvolumeclaims", build_volume_claim(volume, "default"), "default")
        world.pvc_used_bytes[("prod", "default", volume.name)] = used
    placement = SchedulingSpec(workspace="prod", pool="default")
    small = ResourceSpec(cpu_request="250m", memory_request="256Mi", memory_limit="256Mi")
    _create_app(
        prod,
        AppSpec(
            name="storefront",
            image="nginx:1.27.3",
            replicas=2,
            resources=small,
            ports=[PortSpec(name="http", port=80)],
            scheduling=placement,
        ),
        mount=("media", "/usr/share/nginx/html/media"),
    )
    _create_app(
        prod,
        AppSpec(
            name="checkout-api",
            image="ghcr.io/acme/checkout-api:1.8.0",
            replicas=2,
            resources=ResourceSpec(cpu_request="500m", memory_request="512Mi", memory_limit="512Mi"),
            ports=[PortSpec(name="http", port=8080, service_port=80)],
            scheduling=placement,
        ),
    )
    _create_app(
        prod,
        AppSpec(
            name="postgres",
            kind="StatefulSet",
            image="postgres:16.4",
            replicas=1,
            resources=ResourceSpec(cpu_request="500m", memory_request="1Gi", memory_limit="1Gi"),
            ports=[PortSpec(name="postgres", port=5432)],
            env=[EnvVarSpec(name="POSTGRES_DB", value="shop")],
            volumes=[
                ClaimSpec(
                    name="data",
                    size="10Gi",
                    mount_path="/var/lib/postgresql/data",
                    storage_class="proxmox-data",
                )
            ],
            scheduling=placement,
        ),
    )
    seed_failed_backup(world, cluster)
