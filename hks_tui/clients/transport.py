"""Wire adapters that put every HTTP request of the three client libraries through the guard.

* :class:`GuardedHTTPAdapter` — a requests transport adapter (the documented extension point of
  ``requests.Session``) used by proxmoxer's session and by prometheus-api-client's session. It can also
  pin the server certificate by SHA-256 fingerprint: urllib3 checks the pin during the TLS handshake, so a
  mismatch closes the connection before any header (``Authorization``) is sent.
* :func:`guarded_rest_client` — a ``kubernetes.client.rest.RESTClientObject`` subclass installed as the
  ``ApiClient.rest_client`` of each per-context client.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from hks_tui.clients.guard import TransportGuard

_FINGERPRINT_RE = re.compile(r"^[0-9a-f]{64}$")


def normalize_fingerprint(value: str) -> str:
    """``AB:CD:…`` (as PVE shows it) → 64 lowercase hex digits; ValueError when it is not a SHA-256."""
    hexed = value.replace(":", "").replace(" ", "").strip().lower()
    if not _FINGERPRINT_RE.match(hexed):
        raise ValueError("a SHA-256 fingerprint is 32 bytes written as 64 hex digits (colons optional)")
    return hexed


class GuardedHTTPAdapter(HTTPAdapter):
    """Every request sent through this adapter is checked, counted and (if mutating) audited."""

    def __init__(self, guard: TransportGuard, backend: str, *, fingerprint: str | None = None) -> None:
        self.guard = guard
        self.backend = backend
        self.fingerprint = normalize_fingerprint(fingerprint) if fingerprint else None
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        if getattr(self, "fingerprint", None):
            pool_kwargs["assert_fingerprint"] = self.fingerprint
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        override = self.guard.request_timeout()
        if override is not None:
            kwargs["timeout"] = override
        with self.guard.transport(self.backend, request.method or "GET", request.url or "") as result:
            response = super().send(request, *args, **kwargs)
            result.status = response.status_code
        return response


def mount_guard(
    session: requests.Session, guard: TransportGuard, backend: str, *, fingerprint: str | None = None
) -> requests.Session:
    """Route every http(s) request of ``session`` through the guard."""
    adapter = GuardedHTTPAdapter(guard, backend, fingerprint=fingerprint)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def guarded_rest_client(configuration: Any, guard: TransportGuard, backend: str) -> Any:
    """A kubernetes REST client whose every request goes through ``guard``."""
    from kubernetes.client.rest import RESTClientObject

    class GuardedRESTClient(RESTClientObject):  # type: ignore[misc]
        def request(
            self,
            method: str,
            url: str,
            headers: Any = None,
            body: Any = None,
            post_params: Any = None,
            _request_timeout: Any = None,
        ) -> Any:
            with guard.transport(backend, method, url) as result:
                response = super().request(
                    method,
                    url,
                    headers=headers,
                    body=body,
                    post_params=post_params,
                    _request_timeout=_request_timeout,
                )
                result.status = getattr(response, "status", None)
            return response

    return GuardedRESTClient(configuration)
