"""Kubernetes client: one official-``kubernetes`` ``ApiClient`` per context, behind the transport guard.

Never touches the process-wide default configuration (``new_client_from_config`` with
``persist_config=False``); every request has a timeout; exec credential plugins in the kubeconfig are
refused unless allow-listed by absolute path (they would run arbitrary code).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hks_tui.clients.errors import HksError, InvalidError
from hks_tui.clients.guard import TransportGuard
from hks_tui.clients.kube_resources import RESOURCES, check_exec_policy
from hks_tui.clients.streams import StreamHandle

_MUTATING_PREFIXES = (
    "create_",
    "patch_",
    "replace_",
    "delete_",
    "connect_post",
    "connect_put",
    "connect_delete",
)


def _status_error(what: str, backend: str, status: int, body: Any) -> HksError:
    from hks_tui.clients.mapping import error_for_status

    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    why, reason = text.strip()[:300], ""
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict):
            why = str(parsed.get("message") or why)
            reason = str(parsed.get("reason") or "")
    except ValueError:
        pass
    return error_for_status(status, what, why, backend=backend, reason=reason)


class KubeClient:
    """One Kubernetes context. Synchronous: call through the services executor or a stream thread."""

    def __init__(
        self,
        *,
        kubeconfig: Path | str,
        context: str,
        guard: TransportGuard,
        backend: str = "host",
        timeout: float = 10.0,
        allowed_exec_plugins: Sequence[str] = (),
    ) -> None:
        from kubernetes import config

        self.kubeconfig = Path(kubeconfig)
        self.context = context
        self.guard = guard
        self.backend = backend
        self.timeout = timeout
        check_exec_policy(self.kubeconfig, context, allowed_exec_plugins)
        try:
            api_client = config.new_client_from_config(
                config_file=str(self.kubeconfig), context=context, persist_config=False
            )
        except Exception as exc:
            raise InvalidError(
                f"Load context {context!r} from {self.kubeconfig}", str(exc), "Check the kubeconfig."
            ) from None
        configuration = api_client.configuration
        for value in (configuration.api_key or {}).values():
            guard.register_secret(str(value))
            guard.register_secret(str(value).removeprefix("Bearer ").strip())
        if configuration.password:
            guard.register_secret(str(configuration.password))
        from urllib3.util.retry import Retry

        from hks_tui.clients.transport import guarded_rest_client

        # retries happen in exactly one layer: the guard (urllib3 would otherwise retry connects 3x)
        configuration.retries = Retry(total=0, read=False, redirect=False)
        api_client.rest_client.close()
        api_client.rest_client = guarded_rest_client(configuration, guard, backend)
        self.api_client = api_client
        self._apis: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"KubeClient({self.context!r}, backend={self.backend!r})"

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    def api(self, name: str) -> Any:
        """A typed API object (``CoreV1Api``, ``AppsV1Api``, …) bound to this context's client."""
        if name not in self._apis:
            from kubernetes import client

            self._apis[name] = getattr(client, name)(self.api_client)
        return self._apis[name]

    @property
    def core(self) -> Any:
        return self.api("CoreV1Api")

    @property
    def apps(self) -> Any:
        return self.api("AppsV1Api")

    @property
    def batch(self) -> Any:
        return self.api("BatchV1Api")

    @property
    def networking(self) -> Any:
        return self.api("NetworkingV1Api")

    @property
    def storage(self) -> Any:
        return self.api("StorageV1Api")

    @property
    def policy(self) -> Any:
        return self.api("PolicyV1Api")

    @property
    def custom(self) -> Any:
        return self.api("CustomObjectsApi")

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        what: str = "",
        action: str = "",
        target: str = "",
        params: dict[str, Any] | None = None,
        mutating: bool | None = None,
        idempotent: bool | None = None,
        retries: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call one typed API method (e.g. ``kube.call(kube.core.delete_namespaced_pod, name, ns)``)."""
        name = getattr(fn, "__name__", "call")
        if mutating is None:
            mutating = name.startswith(_MUTATING_PREFIXES)
        kwargs.setdefault("_request_timeout", self.timeout)
        if not target:
            target = "/".join(str(a) for a in args if isinstance(a, str | int))
        return self.guard.call(
            self.backend,
            what or f"{name.replace('_', ' ')} on {self.context}",
            lambda: fn(*args, **kwargs),
            mutating=mutating,
            idempotent=idempotent,
            action=action or f"kube.{name}",
            target=target,
            params=params,
            max_attempts=retries,
        )

    # ------------------------------------------------------------------ raw (fast) reads
    def version(self, *, retries: int | None = None, timeout: float | None = None) -> dict[str, Any]:
        api = self.api("VersionApi")
        resp = self.guard.call(
            self.backend,
            f"Read the Kubernetes version of {self.context}",
            lambda: api.get_code(_preload_content=False, _request_timeout=timeout or self.timeout),
            max_attempts=retries,
        )
        return dict(json.loads(resp.data))

    def _list_fn(self, resource: str, namespace: str | None) -> Callable[..., Any]:
        try:
            rtype = RESOURCES[resource]
        except KeyError:
            raise InvalidError(
                f"List {resource}", f"unknown resource type (known: {', '.join(sorted(RESOURCES))})"
            ) from None
        fn = getattr(self.api(rtype.api), rtype.list_method(namespace))
        if rtype.namespaced and namespace:
            return lambda **kw: fn(namespace, **kw)
        return fn

    def list_raw(
        self,
        resource: str,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
    ) -> dict[str, Any]:
        """One list call returning the raw JSON (``items``, ``metadata.resourceVersion``) — no model parsing."""
        fn = self._list_fn(resource, namespace)
        query: dict[str, Any] = {}
        if label_selector:
            query["label_selector"] = label_selector
        if field_selector:
            query["field_selector"] = field_selector
        if limit:
            query["limit"] = limit
        if continue_:
            query["_continue"] = continue_
        where = f" in {namespace}" if namespace else ""
        resp = self.guard.call(
            self.backend,
            f"List {resource}{where} on {self.context}",
            lambda: fn(_preload_content=False, _request_timeout=self.timeout, **query),
        )
        return dict(json.loads(resp.data))

    def list_all(
        self, resource: str, *, namespace: str | None = None, page: int = 500, **kw: Any
    ) -> dict[str, Any]:
        """Like :meth:`list_raw` but follows ``continue`` tokens; returns items + the last resourceVersion."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        rv = ""
        while True:
            chunk = self.list_raw(resource, namespace=namespace, limit=page, continue_=token, **kw)
            items.extend(chunk.get("items") or [])
            meta = chunk.get("metadata") or {}
            rv = str(meta.get("resourceVersion") or rv)
            token = meta.get("continue") or None
            if not token:
                return {"items": items, "metadata": {"resourceVersion": rv}}

    def watch_stream(
        self,
        resource: str,
        *,
        namespace: str | None = None,
        resource_version: str,
        timeout_seconds: int = 60,
        handle: StreamHandle | None = None,
        label_selector: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Raw watch events (dicts with ``type`` and ``object``, bookmarks included) from ``resource_version``.

        Ends when the server closes the stream (``timeout_seconds``) or ``handle.stop()`` is called from
        another thread. An ``ERROR`` event or an HTTP error raises :class:`HksError` (410 →
        :class:`ExpiredError`: the caller must list again).
        """
        from kubernetes.watch.watch import iter_resp_lines

        fn = self._list_fn(resource, namespace)
        query: dict[str, Any] = {}
        if label_selector:
            query["label_selector"] = label_selector
        what = f"Watch {resource} on {self.context}"
        handle = handle or StreamHandle()
        resp = self.guard.call(
            self.backend,
            what,
            lambda: fn(
                watch=True,
                resource_version=resource_version,
                timeout_seconds=timeout_seconds,
                allow_watch_bookmarks=True,
                _preload_content=False,
                _request_timeout=(self.timeout, timeout_seconds + self.timeout),
                **query,
            ),
            max_attempts=1,
        )
        handle.attach(resp)
        try:
            status = int(getattr(resp, "status", 200) or 200)
            if status >= 400:
                raise _status_error(what, self.backend, status, resp.data)
            for line in iter_resp_lines(resp):
                if handle.stopped:
                    return
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    obj = event.get("object") or {}
                    raise _status_error(what, self.backend, int(obj.get("code") or 500), json.dumps(obj))
                yield event
        except Exception as exc:
            if handle.stopped:
                return
            from hks_tui.clients.mapping import map_exception

            raise map_exception(exc, what=what, backend=self.backend, redactor=self.guard.redactor) from None
        finally:
            handle.detach()

    def follow_log(
        self,
        name: str,
        namespace: str,
        *,
        container: str | None = None,
        tail_lines: int | None = 100,
        since_seconds: int | None = None,
        timestamps: bool = False,
        handle: StreamHandle | None = None,
        read_timeout: float = 120.0,
    ) -> Iterator[str]:
        """Lines of a pod's log, following it until the pod ends or ``handle.stop()`` is called.

        No byte for ``read_timeout`` seconds raises :class:`BackendTimeout` (a stalled stream)."""
        from kubernetes.watch.watch import iter_resp_lines

        what = f"Follow the log of {namespace}/{name} on {self.context}"
        query: dict[str, Any] = {"follow": True, "timestamps": timestamps}
        if container:
            query["container"] = container
        if tail_lines is not None:
            query["tail_lines"] = tail_lines
        if since_seconds is not None:
            query["since_seconds"] = since_seconds
        handle = handle or StreamHandle()
        resp = self.guard.call(
            self.backend,
            what,
            lambda: self.core.read_namespaced_pod_log(
                name,
                namespace,
                _preload_content=False,
                _request_timeout=(self.timeout, read_timeout),
                **query,
            ),
            max_attempts=1,
        )
        handle.attach(resp)
        try:
            status = int(getattr(resp, "status", 200) or 200)
            if status >= 400:
                raise _status_error(what, self.backend, status, resp.data)
            for line in iter_resp_lines(resp):
                if handle.stopped:
                    return
                yield line
        except Exception as exc:
            if handle.stopped:
                return
            from hks_tui.clients.mapping import map_exception

            raise map_exception(exc, what=what, backend=self.backend, redactor=self.guard.redactor) from None
        finally:
            handle.detach()

    def close(self) -> None:
        try:
            self.api_client.close()
        except Exception:
            pass
