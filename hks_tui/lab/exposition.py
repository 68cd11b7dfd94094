"""Prometheus text exposition format 0.0.4: metric families with HELP/TYPE lines, escaped labels."""

from __future__ import annotations

from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HELP: dict[str, tuple[str, str]] = {
    "node_cpu_seconds_total": ("counter", "Seconds the CPUs spent in each mode."),
    "node_memory_MemTotal_bytes": ("gauge", "Memory information field MemTotal_bytes."),
    "node_memory_MemAvailable_bytes": ("gauge", "Memory information field MemAvailable_bytes."),
    "kubelet_volume_stats_capacity_bytes": ("gauge", "[ALPHA] Capacity in bytes of the volume"),
    "kubelet_volume_stats_available_bytes": ("gauge", "[ALPHA] Number of available bytes in the volume"),
    "kubelet_volume_stats_used_bytes": ("gauge", "[ALPHA] Number of used bytes in the volume"),
    "container_cpu_usage_seconds_total": ("counter", "Cumulative cpu time consumed in seconds."),
    "container_memory_working_set_bytes": ("gauge", "Current working set of the container in bytes"),
    "kube_node_status_condition": ("gauge", "The condition of a cluster node."),
    "kube_pod_info": ("gauge", "Information about pod."),
    "kube_resourcequota": ("gauge", "Information about resource quota."),
    "kube_persistentvolumeclaim_resource_requests_storage_bytes": (
        "gauge",
        "The capacity of storage requested by the persistent volume claim.",
    ),
    "kube_job_status_failed": ("gauge", "The number of pods which reached Phase Failed and the reason."),
    "kube_job_status_succeeded": ("gauge", "The number of pods which reached Phase Succeeded."),
    "kube_job_status_active": ("gauge", "The number of actively running pods."),
    "kube_job_owner": ("gauge", "Information about the Job's owner."),
    "kube_cronjob_status_last_successful_time": (
        "gauge",
        "LastSuccessfulTime keeps information of when was the last time the job was completed successfully.",
    ),
    "kube_cronjob_status_last_schedule_time": (
        "gauge",
        "LastScheduleTime keeps information of when was the last time the job was successfully scheduled.",
    ),
    "kube_cronjob_spec_suspend": (
        "gauge",
        "Suspend flag tells the controller to suspend subsequent executions.",
    ),
}

Labels = dict[str, str]


@dataclass
class Exposition:
    samples: dict[str, list[tuple[Labels, float]]] = field(default_factory=dict)

    def add(self, name: str, labels: Labels, value: float) -> None:
        self.samples.setdefault(name, []).append((labels, float(value)))

    def render(self) -> str:
        lines: list[str] = []
        for name in sorted(self.samples):
            kind, text = HELP[name]
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")
            rows = sorted((_labels_text(labels), value) for labels, value in self.samples[name])
            lines.extend(f"{name}{labels} {_value_text(value)}" for labels, value in rows)
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels_text(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items())) + "}"


def _value_text(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
