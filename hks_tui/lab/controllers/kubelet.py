"""The lab's kubelets (one simulated per host node): container lifecycle, pod status, events and logs.

Timeline of a healthy container (lab seconds after the pod was bound to its node): 0.5 ``Pulling``,
2 ``Pulled`` + ``Created`` + ``Started`` (state running), 3 Ready (later with a readinessProbe's
``initialDelaySeconds``). Image-pull failures, crash loops and run-to-completion exit codes follow the
rules of :mod:`hks_tui.lab.controllers.behaviour`; backup pods follow :mod:`hks_tui.lab.controllers.backup`.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers import backup, volumeuse
from hks_tui.lab.controllers.behaviour import (
    behaviour,
    completion_lines,
    crash_lines,
    full_image,
    log_line,
    startup_lines,
)
from hks_tui.lab.controllers.common import (
    Recorder,
    claims_of,
    is_deleting,
    name_of,
    ns_of,
    parse_iso,
    peek,
    snapshot,
    uid_of,
    virtual_pod,
    write_status,
)
from hks_tui.lab.controllers.podstatus import (
    ContainerRun,
    PodRun,
    backoff,
    pod_status,
    terminated_state,
    unready_status,
)
from hks_tui.lab.controllers.pvutil import parse_provider_id, volid_of
from hks_tui.lab.controllers.scheduler import is_terminal, node_ready

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

PULL_AT, START_AT, READY_AFTER, CRASH_AFTER, LOG_EVERY = 0.5, 2.0, 1.0, 3.0, 2.0
MAX_LOG_LINES_PER_PASS = 60
INIT_SECONDS = 1.0  # how long an init container runs unless HKS_LAB_DURATION says otherwise


class Kubelet:
    def __init__(self, world: LabWorld, cluster: KubeCluster, recorder: Recorder) -> None:
        self.world, self.cluster, self.recorder = world, cluster, recorder
        self.runs: dict[str, PodRun] = {}
        self.deleted: list[dict[str, Any]] = []  # pods deleted since the last pass (filled by a listener)

    def reconcile(self) -> None:
        store = self.cluster.store
        deleted, self.deleted = self.deleted, []
        for pod in deleted:
            if not is_terminal(pod):
                for c in (pod.get("spec") or {}).get("containers") or []:
                    self._event(pod, "Normal", "Killing", f"Stopping container {c.get('name')}")
        nodes = {name_of(n): n for n in store.iter_objects("nodes")}
        live: set[str] = set()
        for pod in snapshot(store, "pods"):
            uid = uid_of(pod)
            live.add(uid)
            node_name = (pod.get("spec") or {}).get("nodeName")
            if not node_name or is_deleting(pod) or is_terminal(pod):
                continue
            node = nodes.get(node_name)
            if node is None:
                continue
            if not node_ready(node):
                unready = unready_status(self.world, pod)
                if unready is not None:
                    write_status(store, "pods", pod, unready)
                continue
            run = self.runs.get(uid)
            if run is None:
                run = self._new_run(pod, node_name)
                run.boot = self._boot_of(node)
                self.runs[uid] = run
            self._check_reboot(pod, run, node)
            self._advance(pod, run)
            write_status(store, "pods", pod, pod_status(self.world, pod, run, node))
        for uid in [u for u in self.runs if u not in live]:
            del self.runs[uid]

    # -- state machine -------------------------------------------------------------------------------
    def _boot_of(self, node: dict[str, Any]) -> float | None:
        parsed = parse_provider_id(str((node.get("spec") or {}).get("providerID", "")))
        vm = self.world.pve.vms.get(parsed[1]) if parsed else None
        return vm.started_at if vm is not None else None

    def _check_reboot(self, pod: dict[str, Any], run: PodRun, node: dict[str, Any]) -> None:
        """After the node's VM rebooted, every container was killed: the kubelet starts them again."""
        boot = self._boot_of(node)
        if boot is None or run.boot is None or boot == run.boot:
            run.boot = run.boot if boot is None else boot
            return
        run.boot = boot
        now = self.world.clock.now()
        for c in run.containers:
            if c.state == "terminated" and (pod.get("spec") or {}).get("restartPolicy", "Always") != "Always":
                continue
            if c.state == "running":
                c.state, c.exit_code, c.finished_at, c.reason = "terminated", 255, boot, "Unknown"
                c.last_term = terminated_state(self.world, pod, c)
                c.restarts += 1
            c.state, c.reason, c.message = "waiting", "ContainerCreating", None
            c.pulled = False
            c.next_at = now + PULL_AT
        self._event(pod, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")

    def _new_run(self, pod: dict[str, Any], node: str) -> PodRun:
        now = self.world.clock.now()
        status = pod.get("status") or {}
        bound = now
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "True":
                bound = min(now, self._parse(cond.get("lastTransitionTime")) or now)
        run = PodRun(bound_at=bound, node=node)
        for c in (pod.get("spec") or {}).get("containers") or []:
            run.containers.append(
                ContainerRun(str(c.get("name")), str(c.get("image")), behaviour(c), next_at=bound + PULL_AT)
            )
        for c in (pod.get("spec") or {}).get("initContainers") or []:
            beh = behaviour(c)
            if not any(e.get("name") == "HKS_LAB_DURATION" for e in c.get("env") or []):
                beh = replace(beh, run_seconds=INIT_SECONDS)
            run.init.append(
                ContainerRun(str(c.get("name")), str(c.get("image")), beh, next_at=bound + PULL_AT)
            )
        if run.init:
            for main in run.containers:
                main.reason = "PodInitializing"
        return run

    @staticmethod
    def _parse(iso: Any) -> float | None:
        return parse_iso(iso)

    def _volumes_ready(self, pod: dict[str, Any]) -> bool:
        """Every PVC is Bound and every Proxmox CSI disk is attached to this node's VM."""
        node = peek(self.cluster.store, "nodes", (pod.get("spec") or {}).get("nodeName", ""))
        parsed = parse_provider_id(str(((node or {}).get("spec") or {}).get("providerID", "")))
        for vcluster, namespace, claim, _vol in claims_of(self.world, self.cluster, pod):
            pvc = peek(vcluster.store, "persistentvolumeclaims", claim, namespace)
            if pvc is None or (pvc.get("status") or {}).get("phase") != "Bound":
                return False
            pv = peek(vcluster.store, "persistentvolumes", (pvc.get("spec") or {}).get("volumeName", ""))
            volid = volid_of(pv) if pv is not None else None
            if (
                volid is not None
                and parsed is not None
                and parsed[1] not in self.world.pve.volume_users(volid)
            ):
                return False
        return True

    def _event(self, pod: dict[str, Any], etype: str, reason: str, message: str) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        self.recorder.record(self.cluster, pod, etype, reason, message, "kubelet", node)

    def _advance(self, pod: dict[str, Any], run: PodRun) -> None:
        now = self.world.clock.now()
        policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
        if run.init and not self._init_done(pod, run, policy, now):
            return
        for c in run.containers:
            for _ in range(50):  # bounded catch-up after a long clock jump
                if c.state == "terminated" and (
                    policy == "Never" or (policy == "OnFailure" and c.exit_code == 0)
                ):
                    break
                if c.next_at > now:
                    break
                self._step(pod, run, c, policy)
            if c.state == "running" and not c.beh.crashes:
                self._logs(pod, c, now)
                if c.beh.flavour in volumeuse.DATABASE_FLAVOURS and policy == "Always":
                    last = max(c.grown_at or c.started_at or now, c.started_at or now)
                    volumeuse.grow(self.world, self.cluster, pod, now - last)
                    c.grown_at = now

    def _init_done(self, pod: dict[str, Any], run: PodRun, policy: str, now: float) -> bool:
        """Run the init containers one after the other; True once all of them succeeded."""
        init_policy = "Never" if policy == "Never" else "OnFailure"
        for c in run.init:
            for _ in range(50):
                if c.state == "terminated" or c.next_at > now:
                    break
                self._step(pod, run, c, init_policy)
            if not (c.state == "terminated" and c.exit_code == 0):
                return False
        done = max(c.finished_at or now for c in run.init)
        for c in run.containers:
            if c.state == "waiting" and not c.pulled and c.next_at < done:
                c.next_at = done
        return True

    def _step(self, pod: dict[str, Any], run: PodRun, c: ContainerRun, policy: str) -> None:
        t = c.next_at
        image = c.image
        if c.state == "waiting" and not c.pulled:
            if c.reason == "ErrImagePull":
                c.reason, c.message = "ImagePullBackOff", f'Back-off pulling image "{image}"'
                c.next_at = t + backoff(c.pull_attempts)
                self._event(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"')
                self._event(pod, "Warning", "Failed", "Error: ImagePullBackOff")
                return
            if not self._volumes_ready(pod):
                c.next_at = t + 1.0
                return
            self._event(pod, "Normal", "Pulling", f'Pulling image "{image}"')
            if c.beh.pull_fails:
                c.pull_attempts += 1
                ref = full_image(image)
                c.reason = "ErrImagePull"
                c.message = (
                    f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
                    f"{ref}: not found"
                )
                c.next_at = t + 2.0
                self._event(pod, "Warning", "Failed", f'Failed to pull image "{image}": {c.message}')
                self._event(pod, "Warning", "Failed", "Error: ErrImagePull")
                return
            c.pulled = True
            c.next_at = max(t, run.bound_at + START_AT)
            size = 20_000_000 + zlib.crc32(image.encode()) % 180_000_000
            self._event(
                pod,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{image}" in 1.42s (1.42s including waiting). Image size: {size} bytes.',
            )
            return
        if c.state in ("waiting", "terminated"):  # (re)start
            c.state, c.reason, c.message = "running", "", None
            c.started_at = t
            delay = READY_AFTER + self._ready_delay(pod, c.name)
            c.ready_at = t + delay
            c.next_log = t + LOG_EVERY
            self._event(pod, "Normal", "Created", f"Created container: {c.name}")
            self._event(pod, "Normal", "Started", f"Started container {c.name}")
            if c.beh.crashes:
                self._append(pod, c.name, crash_lines(c.name), t)
                c.next_at = t + CRASH_AFTER
            elif policy != "Always":
                self._append(pod, c.name, [f"INFO {c.name}: running"], t)
                c.next_at = t + c.beh.run_seconds
            else:
                self._append(pod, c.name, startup_lines(c.beh.flavour, c.name, image), t)
                c.next_at = float("inf")
            return
        # running → terminated
        exit_code, detail = c.beh.exit_code, None
        flavour = "backup" if backup.is_backup_pod(pod, c.beh.flavour) else c.beh.flavour
        if policy != "Always" and not c.beh.crashes and exit_code == 0:
            exit_code, detail = backup.run_backup(self.world, self.cluster, pod, c.beh.flavour)
        if not c.beh.crashes:
            name = (pod.get("metadata") or {}).get("labels", {}).get("hks.io/backup")
            self._append(pod, c.name, completion_lines(flavour, c.name, exit_code, detail, name), t)
        c.state, c.exit_code, c.finished_at = "terminated", exit_code, t
        c.reason = "Completed" if exit_code == 0 else "Error"
        if policy == "Always" or (policy == "OnFailure" and exit_code != 0):
            c.restarts += 1
            c.last_term = terminated_state(self.world, pod, c)
            c.state, c.reason = "waiting", "CrashLoopBackOff"
            c.message = f"back-off {int(backoff(c.restarts))}s restarting failed container={c.name} pod={name_of(pod)}_{ns_of(pod)}({uid_of(pod)})"
            c.next_at = t + backoff(c.restarts)
            self._event(
                pod,
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {c.name} in pod {name_of(pod)}_{ns_of(pod)}({uid_of(pod)})",
            )
        else:
            c.next_at = float("inf")

    @staticmethod
    def _ready_delay(pod: dict[str, Any], container: str) -> float:
        for c in (pod.get("spec") or {}).get("containers") or []:
            if c.get("name") == container:
                return float((c.get("readinessProbe") or {}).get("initialDelaySeconds") or 0)
        return 0.0

    def _logs(self, pod: dict[str, Any], c: ContainerRun, now: float) -> None:
        if now - c.next_log > LOG_EVERY * MAX_LOG_LINES_PER_PASS:
            c.next_log = now - LOG_EVERY * MAX_LOG_LINES_PER_PASS
        lines: list[tuple[float, str]] = []
        while c.next_log <= now:
            lines.append((c.next_log, log_line(c.beh.flavour, name_of(pod), c.name, c.seq, c.next_log)))
            c.seq += 1
            c.next_log += LOG_EVERY * (0.5 + (zlib.crc32(f"{uid_of(pod)}{c.seq}".encode()) % 100) / 100)
        for ts, line in lines:
            self._append(pod, c.name, [line], ts)

    def _append(self, pod: dict[str, Any], container: str, lines: list[str], ts: float) -> None:
        run = self.runs.get(uid_of(pod))
        if run is not None and not run.mirror_checked and self.cluster.kind == "host":
            found = virtual_pod(self.world, pod)
            run.mirror = (found[0], ns_of(found[1]) or "default", name_of(found[1])) if found else None
            run.mirror_checked = found is not None
        mirror = run.mirror if run is not None else None
        for line in lines:
            self.cluster.logs.append(ns_of(pod) or "default", name_of(pod), container, line, ts)
            if mirror is not None:
                vcluster, vns, vname = mirror
                vcluster.logs.append(vns, vname, container, line, ts)

    # -- status ----------------------------------------------------------------------------------------
