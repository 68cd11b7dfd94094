"""Domain errors, the mapping of client-library exceptions, and secret redaction."""

from __future__ import annotations

import json
import logging

import pytest
from kubernetes.client.exceptions import ApiException
from prometheus_api_client.exceptions import PrometheusApiClientException

from hks_tui.clients import errors as e
from hks_tui.clients.mapping import map_exception
from hks_tui.clients.redact import MASK, RedactingFilter, Redactor


def _status(code: int, reason: str, message: str, causes: list[dict[str, str]] | None = None) -> ApiException:
    exc = ApiException(status=code, reason=reason)
    body: dict[str, object] = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if causes:
        body["details"] = {"causes": causes}
    exc.body = json.dumps(body)
    return exc


@pytest.mark.parametrize(
    ("exc", "kind", "words"),
    [
        (_status(404, "NotFound", 'pods "web-0" not found'), e.NotFoundError, 'pods "web-0" not found'),
        (
            _status(409, "Conflict", "the object has been modified; please apply your changes"),
            e.ConflictError,
            "the object has been modified",
        ),
        (
            _status(409, "AlreadyExists", 'deployments.apps "web" already exists'),
            e.ConflictError,
            "already exists",
        ),
        (
            _status(
                403,
                "Forbidden",
                'pods "x" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: '
                "requests.cpu=7, limited: requests.cpu=8",
            ),
            e.QuotaExceededError,
            "exceeded quota",
        ),
        (
            _status(403, "Forbidden", 'nodes is forbidden: User "x" cannot list'),
            e.ForbiddenError,
            "cannot list",
        ),
        (_status(401, "Unauthorized", "Unauthorized"), e.AuthError, "Unauthorized"),
        (
            _status(410, "Expired", "too old resource version: 5 (100)"),
            e.ExpiredError,
            "too old resource version",
        ),
        (
            _status(
                429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget."
            ),
            e.BusyError,
            "disruption budget",
        ),
    ],
)
def test_kubernetes_status_maps_to_domain_errors(
    exc: ApiException, kind: type[e.HksError], words: str
) -> None:
    err = map_exception(exc, what="Delete pod web-0", backend="vcluster")
    assert type(err) is kind
    assert words in err.why and str(err).startswith("Delete pod web-0 failed: ")
    assert err.next_step and err.status == exc.status and err.backend == "vcluster"


def test_kubernetes_invalid_carries_field_causes() -> None:
    exc = _status(
        422,
        "Invalid",
        'Deployment.apps "Web" is invalid: metadata.name: Invalid value: "Web"',
        [{"reason": "FieldValueInvalid", "message": 'Invalid value: "Web"', "field": "metadata.name"}],
    )
    err = map_exception(exc, what="Create deployment", backend="vcluster")
    assert isinstance(err, e.InvalidError)
    assert err.field_errors == {"metadata.name": 'Invalid value: "Web"'}


def test_prometheus_bad_query_maps_to_invalid() -> None:
    exc = PrometheusApiClientException(
        'HTTP Status Code 400 (b\'{"status":"error","errorType":"bad_data","error":"invalid parameter '
        '\\"query\\": 1:5: parse error: unclosed left parenthesis"}\')'
    )
    err = map_exception(exc, what="Prometheus query", backend="prometheus")
    assert isinstance(err, e.InvalidError)
    assert "unclosed left parenthesis" in str(err)


def test_transport_errors() -> None:
    assert isinstance(
        map_exception(ConnectionRefusedError(111, "Connection refused"), what="x", backend="host"),
        e.UnreachableError,
    )
    assert isinstance(map_exception(TimeoutError("timed out"), what="x", backend="host"), e.BackendTimeout)
    other = map_exception(RuntimeError("boom"), what="Do it", backend="host")
    assert type(other) is e.HksError and "boom" in str(other)


def test_error_text_is_one_line_and_retryability() -> None:
    err = e.ServerError("Start VM 100", "VM 100 is locked\n(clone)\n")
    assert str(err) == "Start VM 100 failed: VM 100 is locked (clone). " + err.next_step
    assert not err.retryable
    assert e.UnreachableError("x").retryable and e.BackendTimeout("x").retryable
    assert e.TimeoutError_ is e.BackendTimeout
    assert err.to_dict()["kind"] == "ServerError"


def test_mapping_masks_registered_secrets() -> None:
    red = Redactor(["s3cr3t-canary-value"])
    err = map_exception(
        RuntimeError("token s3cr3t-canary-value rejected"), what="Login", backend="proxmox", redactor=red
    )
    assert "s3cr3t-canary-value" not in str(err) and MASK in str(err)


def test_redaction_of_params_and_join_scripts() -> None:
    red = Redactor(["known-secret-123"])
    params = {
        "token_secret": "abc",
        "password": "pw",
        "cipassword": "pw2",
        "input-data": "K3S_TOKEN=whatever sh -",
        "name": "node-1",
        "nested": {"apiKey": "k", "note": "uses known-secret-123"},
        "command": ["/bin/sh", "-c", "k3s agent --token K10abcdef::server:xyz"],
        "cores": 4,
    }
    out = red.params(params)
    assert out["token_secret"] == out["password"] == out["cipassword"] == out["input-data"] == MASK
    assert out["name"] == "node-1" and out["cores"] == 4
    assert out["nested"] == {"apiKey": MASK, "note": f"uses {MASK}"}
    assert "K10abcdef" not in json.dumps(out) and "xyz" not in json.dumps(out)


def test_logging_filter_masks_messages(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("hks-test-redaction")
    logger.addFilter(RedactingFilter(Redactor(["canary-abcdef-1"])))
    with caplog.at_level(logging.DEBUG, logger="hks-test-redaction"):
        logger.info("POST %s %s", "https://x/api2/json/agent/exec", {"input-data": "secret script"})
        logger.debug("Authorization: PVEAPIToken=a@pve!b=canary-abcdef-1")
    assert "secret script" not in caplog.text and "canary-abcdef-1" not in caplog.text
