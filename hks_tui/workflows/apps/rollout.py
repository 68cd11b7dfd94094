"""Wait for a Deployment/StatefulSet rollout: ready, or a failure state (ImagePullBackOff…) with its reason."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hks_tui.clients.errors import HksError, NotFoundError
from hks_tui.workflows.apps.objects import KINDS, read
from hks_tui.workflows.apps.state import first_image, pod_failure, pods_of, rollout_counts, rollout_done

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient

DEFAULT_TIMEOUT = 300.0
POLL = 0.25


class RolloutFailed(HksError):
    """The rollout cannot finish by itself (a pod is in ImagePullBackOff, CrashLoopBackOff…)."""

    default_next_step = "Fix the image or the configuration and update the app, or delete it."


class RolloutTimeout(HksError):
    default_next_step = "See the app's pods and events (`hks-tui apps show NAME`) for what is holding it."


def _pod_images(pod: dict[str, Any]) -> set[str]:
    return {str(c.get("image", "")) for c in (pod.get("spec") or {}).get("containers") or []}


def wait_rollout(
    kube: KubeClient,
    kind: str,
    name: str,
    namespace: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    on_progress: Callable[[str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    poll: float = POLL,
) -> dict[str, Any]:
    """Poll until ``readyReplicas == replicas`` for the latest generation; raise :class:`RolloutFailed`
    when a pod of the current template is in a failure state, :class:`RolloutTimeout` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = ""
    sleeper = threading.Event()
    plural = KINDS[kind].plural
    while True:
        workload = read(kube, kind, name, namespace)
        if workload is None:
            raise NotFoundError(f"Wait for the rollout of {kind} {namespace}/{name}", "it was deleted")
        desired, ready, updated = rollout_counts(workload)
        if rollout_done(workload):
            if on_progress:
                on_progress(f"{kind} {name}: {ready}/{desired} ready")
            return {"ready": ready, "replicas": desired}
        pods = kube.list_raw("pods", namespace=namespace).get("items", [])
        image = first_image(workload)
        for pod in pods_of(workload, pods):
            if (pod.get("metadata") or {}).get("deletionTimestamp") or image not in _pod_images(pod):
                continue  # an old pod on its way out
            failure = pod_failure(pod)
            if failure:
                raise RolloutFailed(
                    f"Roll out {kind} {namespace}/{name}",
                    f"pod {pod['metadata']['name']} is in {failure}: {_waiting_message(pod)}",
                    details={"reason": failure, "pod": pod["metadata"]["name"], "plural": plural},
                )
        line = f"{kind} {name}: {ready}/{desired} ready, {updated} updated"
        if line != last and on_progress:
            on_progress(line)
        last = line
        if cancel is not None and cancel():
            raise HksError(f"Roll out {kind} {namespace}/{name}", "cancelled while waiting")
        if time.monotonic() >= deadline:
            raise RolloutTimeout(
                f"Roll out {kind} {namespace}/{name}",
                f"not ready after {timeout:.0f}s ({ready}/{desired} ready, {updated} updated)",
            )
        sleeper.wait(poll)


def _waiting_message(pod: dict[str, Any]) -> str:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("message"):
            return str(waiting["message"])
    return str((pod.get("status") or {}).get("message") or "no message")
