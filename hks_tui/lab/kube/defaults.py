"""Server-side defaulting and validation, per kind, as the apiserver does it (the subset the lab's
clients and the kubernetes client's models need: required fields present, believable defaults)."""

from __future__ import annotations

import base64
import re
from typing import Any

from hks_tui.lab.kube.errors import invalid
from hks_tui.lab.kube.resources import ResourceType
from hks_tui.lab.kube.selectors import labels_match

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAMED = {"namespaces", "services"}  # names must be DNS-1123 labels, not subdomains

_DEFAULT_TOLERATIONS = [
    {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
    {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
]


def _required(field: str) -> dict[str, str]:
    return {"reason": "FieldValueRequired", "message": "Required value", "field": field}


def _bad(field: str, message: str, reason: str = "FieldValueInvalid") -> dict[str, str]:
    return {"reason": reason, "message": message, "field": field}


def validate_name(rt: ResourceType, name: str) -> list[dict[str, str]]:
    pattern = DNS1123_LABEL if rt.plural in _LABEL_NAMED else DNS1123_SUBDOMAIN
    limit = 63 if rt.plural in _LABEL_NAMED else 253
    if not name:
        return [_required("metadata.name")]
    if len(name) > limit or not pattern.fullmatch(name):
        return [
            _bad(
                "metadata.name",
                f'Invalid value: "{name}": a lowercase RFC 1123 '
                f"{'label' if limit == 63 else 'subdomain'} must consist of lower case alphanumeric characters, "
                "'-' or '.', and must start and end with an alphanumeric character",
            )
        ]
    return []


def _default_container(c: dict[str, Any], base: str, causes: list[dict[str, str]]) -> None:
    if not c.get("name"):
        causes.append(_required(f"{base}.name"))
    if not c.get("image"):
        causes.append(_required(f"{base}.image"))
    image = str(c.get("image") or "")
    tag = image.rsplit("/", 1)[-1]
    if "imagePullPolicy" not in c:
        c["imagePullPolicy"] = (
            "Always" if (":" not in tag and "@" not in tag) or tag.endswith(":latest") else "IfNotPresent"
        )
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    resources = c["resources"]
    if resources.get("limits") and not resources.get("requests"):
        resources["requests"] = dict(resources["limits"])
    for n, port in enumerate(c.get("ports") or []):
        port.setdefault("protocol", "TCP")
        if "containerPort" not in port:
            causes.append(_required(f"{base}.ports[{n}].containerPort"))
    for n, env in enumerate(c.get("env") or []):
        if not env.get("name"):
            causes.append(_required(f"{base}.env[{n}].name"))
    for n, mount in enumerate(c.get("volumeMounts") or []):
        if not mount.get("name"):
            causes.append(_required(f"{base}.volumeMounts[{n}].name"))
        if not mount.get("mountPath"):
            causes.append(_required(f"{base}.volumeMounts[{n}].mountPath"))


def default_pod_spec(spec: dict[str, Any] | None, base: str, causes: list[dict[str, str]]) -> dict[str, Any]:
    spec = spec if isinstance(spec, dict) else {}
    containers = spec.get("containers")
    if not containers:
        causes.append(_required(f"{base}.containers"))
        spec["containers"] = containers = []
    names: set[str] = set()
    for kind in ("initContainers", "containers"):
        for n, c in enumerate(spec.get(kind) or []):
            _default_container(c, f"{base}.{kind}[{n}]", causes)
            if c.get("name") in names:
                causes.append(
                    _bad(
                        f"{base}.{kind}[{n}].name",
                        f'Duplicate value: "{c.get("name")}"',
                        "FieldValueDuplicate",
                    )
                )
            names.add(c.get("name", ""))
    spec.setdefault("restartPolicy", "Always")
    if spec["restartPolicy"] not in ("Always", "OnFailure", "Never"):
        causes.append(
            _bad(
                f"{base}.restartPolicy",
                f'Unsupported value: "{spec["restartPolicy"]}"',
                "FieldValueNotSupported",
            )
        )
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for n, vol in enumerate(spec.get("volumes") or []):
        if not vol.get("name"):
            causes.append(_required(f"{base}.volumes[{n}].name"))
    return spec


def _default_template(obj: dict[str, Any], base: str, causes: list[dict[str, str]]) -> None:
    spec = obj.setdefault("spec", {})
    template = spec.get("template")
    if not isinstance(template, dict):
        causes.append(_required(f"{base}.template"))
        spec["template"] = template = {"spec": {"containers": []}}
    template.setdefault("metadata", {})
    template["metadata"].setdefault("creationTimestamp", None)
    template["spec"] = default_pod_spec(template.get("spec"), f"{base}.template.spec", causes)


def _check_selector(spec: dict[str, Any], causes: list[dict[str, str]]) -> None:
    selector = spec.get("selector")
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.append(_required("spec.selector"))
        return
    labels = (spec.get("template") or {}).get("metadata", {}).get("labels") or {}
    if not labels_match(selector, labels):
        causes.append(
            _bad(
                "spec.template.metadata.labels",
                f"Invalid value: {labels}: `selector` does not match template `labels`",
            )
        )


def _quantity_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str | int | float) for v in value.values())


def apply_defaults(rt: ResourceType, obj: dict[str, Any], creating: bool) -> None:
    """Default and validate ``obj`` in place; raises 422 Invalid with causes."""
    meta = obj.setdefault("metadata", {})
    causes: list[dict[str, str]] = validate_name(rt, meta.get("name", "")) if creating else []
    for key in ("labels", "annotations"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            causes.append(_bad(f"metadata.{key}", "must be a map of strings"))
        for k, v in (meta.get(key) or {}).items():
            if not isinstance(v, str):
                causes.append(_bad(f"metadata.{key}", f"Invalid value: {k!r}: values must be strings"))
    plural = rt.plural
    if plural == "pods":
        obj["spec"] = default_pod_spec(obj.get("spec"), "spec", causes)
        obj["spec"].setdefault("tolerations", [dict(t) for t in _DEFAULT_TOLERATIONS])
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", _qos(obj["spec"]))
    elif plural in ("deployments", "replicasets", "statefulsets"):
        obj.setdefault("spec", {})
        _default_template(obj, "spec", causes)
        _check_selector(obj["spec"], causes)
        s = obj["spec"]
        s.setdefault("replicas", 1)
        if plural != "replicasets":
            s.setdefault("revisionHistoryLimit", 10)
        if plural == "deployments":
            s.setdefault(
                "strategy",
                {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            )
            s.setdefault("progressDeadlineSeconds", 600)
        if plural == "statefulsets":
            s.setdefault("podManagementPolicy", "OrderedReady")
            s.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
            s.setdefault(
                "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
            )
            for n, tmpl in enumerate(s.get("volumeClaimTemplates") or []):
                tmpl.setdefault("apiVersion", "v1")
                tmpl.setdefault("kind", "PersistentVolumeClaim")
                tmpl.setdefault("metadata", {})
                if not tmpl["metadata"].get("name"):
                    causes.append(_required(f"spec.volumeClaimTemplates[{n}].metadata.name"))
                tmpl.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
                tmpl.setdefault("status", {"phase": "Pending"})
        if isinstance(s.get("replicas"), int) and s["replicas"] < 0:
            causes.append(
                _bad("spec.replicas", f"Invalid value: {s['replicas']}: must be greater than or equal to 0")
            )
        status = obj.setdefault("status", {})
        if plural != "deployments":
            status.setdefault("replicas", 0)  # required by ReplicaSetStatus / StatefulSetStatus
        if plural == "statefulsets":
            status.setdefault("availableReplicas", 0)
    elif plural == "jobs":
        _default_job_spec(obj, "spec", causes, meta)
        obj.setdefault("status", {})
    elif plural == "cronjobs":
        s = obj.setdefault("spec", {})
        if not s.get("schedule"):
            causes.append(_required("spec.schedule"))
        jt = s.get("jobTemplate")
        if not isinstance(jt, dict):
            causes.append(_required("spec.jobTemplate"))
            s["jobTemplate"] = jt = {"spec": {}}
        jt.setdefault("metadata", {}).setdefault("creationTimestamp", None)
        _default_job_spec(jt, "spec.jobTemplate.spec", causes, None)
        s.setdefault("concurrencyPolicy", "Allow")
        s.setdefault("suspend", False)
        s.setdefault("successfulJobsHistoryLimit", 3)
        s.setdefault("failedJobsHistoryLimit", 1)
        obj.setdefault("status", {})
    elif plural == "services":
        _default_service(obj, causes)
    elif plural == "namespaces":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name", "")
    elif plural == "persistentvolumeclaims":
        s = obj.setdefault("spec", {})
        if not s.get("accessModes"):
            causes.append(_required("spec.accessModes"))
        if not ((s.get("resources") or {}).get("requests") or {}).get("storage"):
            causes.append(_required("spec.resources[storage]"))
        s.setdefault("volumeMode", "Filesystem")
        obj.setdefault("status", {}).setdefault("phase", "Pending")
    elif plural == "persistentvolumes":
        s = obj.setdefault("spec", {})
        if not (s.get("capacity") or {}).get("storage"):
            causes.append(_required("spec.capacity"))
        if not s.get("accessModes"):
            causes.append(_required("spec.accessModes"))
        s.setdefault("persistentVolumeReclaimPolicy", "Retain")
        s.setdefault("volumeMode", "Filesystem")
        obj.setdefault("status", {}).setdefault("phase", "Pending")
    elif plural == "storageclasses":
        if not obj.get("provisioner"):
            causes.append(_required("provisioner"))
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
    elif plural == "resourcequotas":
        s = obj.setdefault("spec", {})
        if s.get("hard") is not None and not _quantity_map(s["hard"]):
            causes.append(_bad("spec.hard", "must be a map of resource quantities"))
        obj.setdefault("status", {})
    elif plural == "secrets":
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None) or {}
        data = obj.setdefault("data", {}) or {}
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data
    elif plural == "events":
        if not obj.get("involvedObject"):
            causes.append(_required("involvedObject"))
        obj.setdefault("type", "Normal")
        obj.setdefault("count", 1)
        obj.setdefault("source", {})
    elif plural == "poddisruptionbudgets":
        s = obj.setdefault("spec", {})
        if "minAvailable" in s and "maxUnavailable" in s:
            causes.append(_bad("spec", "minAvailable and maxUnavailable cannot be both set"))
        obj.setdefault(
            "status", {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}
        )
    elif plural == "ingresses":
        obj.setdefault("spec", {})
        obj.setdefault("status", {"loadBalancer": {}})
    elif plural == "nodes":
        obj.setdefault("spec", {})
        obj.setdefault("status", {})
    if causes:
        raise invalid(rt.kind, meta.get("name", ""), causes, rt.group)


def _default_job_spec(
    obj: dict[str, Any], base: str, causes: list[dict[str, str]], meta: dict[str, Any] | None
) -> None:
    s = obj.setdefault("spec", {})
    _default_template(obj, base, causes)
    policy = s["template"]["spec"].get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        # the Job API requires OnFailure or Never; "Always" (also the pod default) is rejected
        causes.append(
            _bad(
                f"{base}.template.spec.restartPolicy",
                'Unsupported value: "Always": supported values: "OnFailure", "Never"',
                "FieldValueNotSupported",
            )
        )
    s.setdefault("backoffLimit", 6)
    s.setdefault("completions", 1)
    s.setdefault("parallelism", 1)
    s.setdefault("completionMode", "NonIndexed")
    s.setdefault("suspend", False)
    s.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    if meta is not None and meta.get("uid") and not s.get("manualSelector"):
        uid = meta["uid"]
        extra = {"batch.kubernetes.io/controller-uid": uid, "controller-uid": uid}
        s.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
        labels = s["template"]["metadata"].setdefault("labels", {})
        labels.update(extra)
        labels.setdefault("batch.kubernetes.io/job-name", meta.get("name", ""))
        labels.setdefault("job-name", meta.get("name", ""))


def _default_service(obj: dict[str, Any], causes: list[dict[str, str]]) -> None:
    s = obj.setdefault("spec", {})
    s.setdefault("type", "ClusterIP")
    s.setdefault("sessionAffinity", "None")
    s.setdefault("ipFamilies", ["IPv4"])
    s.setdefault("ipFamilyPolicy", "SingleStack")
    s.setdefault("internalTrafficPolicy", "Cluster")
    ports = s.get("ports") or []
    if not ports and s.get("clusterIP") != "None" and s["type"] != "ExternalName":
        causes.append(_required("spec.ports"))
    for n, port in enumerate(ports):
        if "port" not in port:
            causes.append(_required(f"spec.ports[{n}].port"))
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    obj.setdefault("status", {"loadBalancer": {}})


def _qos(spec: dict[str, Any]) -> str:
    containers = spec.get("containers") or []
    if not containers:
        return "BestEffort"
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or str(req.get(r, lim.get(r))) != str(lim.get(r)):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


_IMMUTABLE_SELECTOR = {"deployments", "replicasets", "statefulsets", "jobs"}


def check_immutable(rt: ResourceType, obj: dict[str, Any], old: dict[str, Any]) -> None:
    """Update validation for fields the apiserver never lets change (422 Invalid, "field is immutable")."""
    causes: list[dict[str, str]] = []
    spec, old_spec = obj.get("spec") or {}, old.get("spec") or {}
    if rt.plural in _IMMUTABLE_SELECTOR and spec.get("selector") != old_spec.get("selector"):
        causes.append(_bad("spec.selector", f"Invalid value: {spec.get('selector')}: field is immutable"))
    if rt.plural == "services" and old_spec.get("clusterIP"):
        if not spec.get("clusterIP"):  # an update that leaves it unset keeps the allocated address
            spec["clusterIP"] = old_spec["clusterIP"]
            spec["clusterIPs"] = list(old_spec.get("clusterIPs") or [old_spec["clusterIP"]])
        elif spec["clusterIP"] != old_spec["clusterIP"]:
            causes.append(
                _bad("spec.clusterIPs[0]", f"Invalid value: {spec['clusterIP']!r}: may not change once set")
            )
    if rt.plural == "jobs" and spec.get("template") != old_spec.get("template"):
        causes.append(_bad("spec.template", "Invalid value: field is immutable"))
    if causes:
        raise invalid(rt.kind, obj["metadata"].get("name", ""), causes, rt.group)
