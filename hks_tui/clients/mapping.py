"""Map any client-library failure to an :class:`~hks_tui.clients.errors.HksError`.

Handles proxmoxer ``ResourceException``/``AuthenticationError``, kubernetes ``ApiException`` (with its
``Status`` body), prometheus-api-client exceptions, requests/urllib3 transport errors (TLS, timeouts,
refused connections) and plain OS errors. Imports of the client libraries are lazy.
"""

from __future__ import annotations

import ast
import json
import re
import socket
import ssl
from typing import Any

from hks_tui.clients import errors as e
from hks_tui.clients.redact import Redactor, default_redactor

BACKEND_LABEL = {
    "proxmox": "Proxmox VE",
    "host": "the host cluster",
    "vcluster": "the vCluster",
    "prometheus": "Prometheus",
}

_RETRYABLE_STATUSES = {502, 503, 504, 595, 596, 597, 598, 599}


def _label(backend: str) -> str:
    return BACKEND_LABEL.get(backend, backend or "the backend")


def error_for_status(
    status: int,
    what: str,
    why: str,
    *,
    backend: str,
    details: dict[str, Any] | None = None,
    reason: str = "",
) -> e.HksError:
    """The domain error for an HTTP status (plus the Kubernetes ``reason`` when known)."""
    lowered = why.lower()
    cls: type[e.HksError]
    next_step = ""
    if status == 401:
        cls = e.AuthError
        next_step = f"{_label(backend).capitalize()} rejected the credentials; check the profile's token."
    elif status == 403 and ("exceeded quota" in lowered or "quota" in reason.lower()):
        cls = e.QuotaExceededError
    elif status == 403:
        cls = e.ForbiddenError
    elif status == 404:
        cls = e.NotFoundError
    elif status == 409 and reason == "AlreadyExists":
        cls = e.ConflictError
        next_step = "An object with that name already exists; pick another name or adopt it."
    elif status == 409:
        cls = e.ConflictError
    elif status == 410:
        cls = e.ExpiredError
    elif status in (400, 422):
        cls = e.InvalidError
    elif status == 429:
        cls = e.BusyError
    elif status in _RETRYABLE_STATUSES:
        cls = e.RetryableServerError
        if status >= 595:
            next_step = "A Proxmox node could not be reached by the API proxy; check the cluster."
    elif status >= 500:
        cls = e.ServerError
    else:
        cls = e.HksError
    return cls(what, why, next_step, backend=backend, status=status, details=details)


def _pve_errors_text(errors: Any) -> str:
    if isinstance(errors, dict) and errors:
        return "; ".join(f"{k}: {str(v).strip()}" for k, v in errors.items())
    return ""


def _from_proxmox(exc: Any, what: str, backend: str) -> e.HksError:
    status = int(getattr(exc, "status_code", 0) or 0)
    message = str(getattr(exc, "content", "") or getattr(exc, "status_message", "")).strip()
    errors = getattr(exc, "errors", None)
    field_text = _pve_errors_text(errors)
    why = f"{message} ({field_text})" if field_text and message else (message or field_text)
    details: dict[str, Any] = {}
    if isinstance(errors, dict) and errors:
        details["errors"] = {str(k): str(v).strip() for k, v in errors.items()}
    if status == 500 and _PVE_MISSING_RE.search(why):
        # PVE answers a missing guest with 500 "Configuration file '…/N.conf' does not exist"
        return e.NotFoundError(what, why, backend=backend, status=status, details=details)
    return error_for_status(status, what, why, backend=backend, details=details)


_PVE_MISSING_RE = re.compile(r"Configuration file '[^']*\.conf' does not exist", re.IGNORECASE)


def _from_kube(exc: Any, what: str, backend: str) -> e.HksError:
    status = int(getattr(exc, "status", 0) or 0)
    body = getattr(exc, "body", None)
    why = str(getattr(exc, "reason", "") or "")
    reason = ""
    details: dict[str, Any] = {}
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            why = str(parsed.get("message") or why)
            reason = str(parsed.get("reason") or "")
            causes = (parsed.get("details") or {}).get("causes") or []
            if causes:
                details["errors"] = {
                    str(c.get("field") or c.get("reason") or "?"): str(c.get("message") or "") for c in causes
                }
        elif text.strip():
            why = text.strip()[:500]
    if reason:
        details["reason"] = reason
    if status == 0:
        return e.UnreachableError(what, why or "no response", backend=backend)
    return error_for_status(status, what, why, backend=backend, details=details, reason=reason)


_PROM_STATUS_RE = re.compile(r"HTTP Status Code (\d+) \((.*)\)", re.DOTALL)


def _from_prometheus(exc: BaseException, what: str, backend: str) -> e.HksError:
    text = str(exc)
    match = _PROM_STATUS_RE.search(text)
    if not match:
        return e.HksError(what, text, backend=backend)
    status = int(match.group(1))
    why = match.group(2)
    try:  # the body is printed as a bytes literal holding Prometheus' JSON error envelope
        body = ast.literal_eval(why)
        parsed = json.loads(body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body))
        if isinstance(parsed, dict) and parsed.get("error"):
            why = str(parsed["error"])
    except (ValueError, SyntaxError):
        pass
    return error_for_status(status, what, why, backend=backend)


def _transport(exc: BaseException, what: str, backend: str, seen: set[int]) -> e.HksError | None:
    """Recognise TLS, timeout and connection failures anywhere in an exception chain."""
    if id(exc) in seen:
        return None
    seen.add(id(exc))
    name = type(exc).__name__
    text = str(exc)
    label = _label(backend)
    if "Fingerprints did not match" in text or ("fingerprint" in text.lower() and "match" in text.lower()):
        return e.TlsError(
            what,
            f"the certificate of {label} does not match the SHA-256 fingerprint pinned in the profile",
            backend=backend,
        )
    if isinstance(exc, ssl.SSLError) or name in ("SSLError", "SSLCertVerificationError"):
        why = f"TLS verification of {label} failed" if "CERTIFICATE_VERIFY_FAILED" in text else text
        if "CERTIFICATE_VERIFY_FAILED" in text:
            detail = re.search(r"certificate verify failed: ([^(\]'\"]+)", text)
            if detail:
                why += f" ({detail.group(1).strip()})"
        return e.TlsError(what, why, backend=backend)
    if isinstance(exc, socket.timeout | TimeoutError) or "Timeout" in name:
        return e.BackendTimeout(what, f"{label} did not answer within the timeout", backend=backend)
    if isinstance(exc, ConnectionRefusedError) or "Connection refused" in text:
        return e.UnreachableError(what, f"{label} refused the connection", backend=backend)
    for nested in (getattr(exc, "reason", None), exc.__cause__, exc.__context__):
        if isinstance(nested, BaseException):
            found = _transport(nested, what, backend, seen)
            if found is not None:
                return found
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, BaseException):
            found = _transport(arg, what, backend, seen)
            if found is not None:
                return found
    if name in ("ConnectionError", "NewConnectionError", "MaxRetryError", "ProtocolError") or isinstance(
        exc, ConnectionError
    ):
        return e.UnreachableError(what, f"cannot reach {label} ({text})", backend=backend)
    return None


def _is(exc: BaseException, class_name: str, package: str) -> bool:
    """``exc`` is an instance of ``package``'s ``class_name`` (or a subclass), without importing it."""
    return any(c.__name__ == class_name and c.__module__.startswith(package) for c in type(exc).__mro__)


def map_exception(
    exc: BaseException, *, what: str, backend: str, redactor: Redactor | None = None
) -> e.HksError:
    """Turn any exception raised while talking to ``backend`` into an :class:`HksError`.

    The resulting text is passed through the redactor so no secret can ride along in an error message.
    """
    red = redactor or default_redactor
    mapped: e.HksError
    if isinstance(exc, e.HksError):
        mapped = exc
    else:
        module = type(exc).__module__
        name = type(exc).__name__
        if _is(exc, "ResourceException", "proxmoxer"):
            mapped = _from_proxmox(exc, what, backend)
        elif _is(exc, "AuthenticationError", "proxmoxer"):
            mapped = e.AuthError(what, str(exc), backend=backend, status=401)
        elif _is(exc, "ApiException", "kubernetes"):
            mapped = _from_kube(exc, what, backend)
        elif module.startswith("prometheus_api_client"):
            mapped = _from_prometheus(exc, what, backend)
        else:
            found = _transport(exc, what, backend, set())
            mapped = found if found is not None else e.HksError(what, f"{name}: {exc}", backend=backend)
    mapped.what = red.text(mapped.what)
    mapped.why = red.text(mapped.why)
    mapped.details = red.deep_text(mapped.details)
    mapped.args = (str(mapped),)
    return mapped
