"""Kubernetes API errors rendered as ``kind: Status`` objects, exactly as the real apiserver sends them."""

from __future__ import annotations

from typing import Any

_REASON_BY_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


class ApiError(Exception):
    """An error the API server answers with a ``Status`` body."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason or _REASON_BY_CODE.get(code, "Unknown")
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def _split(resource: str) -> tuple[str, str]:
    """``"deployments.apps"`` → (``"deployments"``, ``"apps"``)."""
    name, _, group = resource.partition(".")
    return name, group


def _details(resource: str, name: str | None) -> dict[str, Any]:
    kind, group = _split(resource)
    details: dict[str, Any] = {"kind": kind}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def not_found(resource: str, name: str) -> ApiError:
    """404 ``<resource> "<name>" not found`` (resource may carry its group: ``deployments.apps``)."""
    return ApiError(404, "NotFound", f'{resource} "{name}" not found', _details(resource, name))


def already_exists(resource: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{resource} "{name}" already exists', _details(resource, name))


def conflict(resource: str, name: str, message: str | None = None) -> ApiError:
    text = (
        message
        or "the object has been modified; please apply your changes to the latest version and try again"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource} "{name}": {text}',
        _details(resource, name),
    )


def invalid(kind: str, name: str, causes: list[dict[str, Any]], group: str = "") -> ApiError:
    """422 Invalid; each cause is ``{"reason": "FieldValueRequired", "message": ..., "field": ...}``."""
    summary = ", ".join(f"{c.get('field', '')}: {c.get('message', '')}".strip(": ") for c in causes)
    full_kind = f"{kind}.{group}" if group else kind
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{full_kind} "{name}" is invalid: {summary}', details)


def forbidden(message: str, resource: str | None = None, name: str | None = None) -> ApiError:
    details = _details(resource, name) if resource else None
    return ApiError(403, "Forbidden", message, details)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_many_requests(message: str, retry_after: int | None = None) -> ApiError:
    details: dict[str, Any] | None = None
    if retry_after is not None:
        details = {
            "causes": [{"reason": "DisruptionBudget", "message": message}],
            "retryAfterSeconds": retry_after,
        }
    return ApiError(429, "TooManyRequests", message, details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed(method: str) -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
        f' (got "{content_type}")',
    )


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def success_status(resource: str, name: str, uid: str | None = None) -> dict[str, Any]:
    """The ``Status`` a DELETE answers for resources whose registry does not return the deleted object."""
    details = _details(resource, name)
    if uid:
        details["uid"] = uid
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
