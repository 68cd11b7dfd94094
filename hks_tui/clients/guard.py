"""The one transport guard every client goes through.

Two layers, both owned by :class:`TransportGuard`:

* **call layer** — :meth:`TransportGuard.call` wraps one logical operation ("start VM 100"): bounded,
  capped, jittered retries for idempotent calls only; an audit row before and after every mutating call
  (actor, profile, action, target, redacted params, outcome, PVE UPID); every failure mapped to an
  :class:`~hks_tui.clients.errors.HksError` with secrets masked.
* **wire layer** — :meth:`TransportGuard.transport` is entered by the HTTP adapters of all three clients
  (a requests ``HTTPAdapter`` for proxmoxer and prometheus-api-client, a ``RESTClientObject`` subclass
  for kubernetes) around every single request. It refuses any mutating HTTP method in read-only mode
  *before the request leaves the process*, counts requests, and audits a mutating request that did not
  come through :meth:`call` (so a code path that forgot the call layer is still audited).
"""

from __future__ import annotations

import getpass
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from hks_tui.clients.errors import HksError, ReadOnlyError
from hks_tui.clients.mapping import map_exception
from hks_tui.clients.redact import Redactor, default_redactor, install_log_redaction

log = logging.getLogger(__name__)

T = TypeVar("T")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuditSink(Protocol):
    """What the guard needs from ``store.audit``."""

    def append(self, entry: Any) -> int: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with capped exponential backoff and full jitter."""

    max_attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 2.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return (rng or random).uniform(cap / 2, cap)


@dataclass
class TransportResult:
    """Filled in by a wire adapter inside :meth:`TransportGuard.transport`."""

    status: int | None = None


@dataclass
class GuardStats:
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (backend, method) → sent
    refused: Counter[tuple[str, str]] = field(default_factory=Counter)  # refused by read-only mode
    attempts: int = 0
    retries: int = 0


class TransportGuard:
    """Timeouts, retries, read-only mode, audit, redaction and error mapping for all clients."""

    def __init__(
        self,
        *,
        readonly: bool = False,
        audit: AuditSink | None = None,
        actor: str | None = None,
        profile: str = "",
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        redactor: Redactor | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.readonly = readonly
        self.audit_sink = audit
        self.actor = actor or _current_user()
        self.profile = profile
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.redactor = redactor or default_redactor
        self.stats = GuardStats()
        self._sleep = sleep
        self._stats_lock = threading.Lock()
        self._local = threading.local()
        install_log_redaction(self.redactor)

    # ------------------------------------------------------------------ secrets
    def register_secret(self, value: str | None) -> None:
        """Mask ``value`` in every log line, audit row and error message from now on."""
        self.redactor.register(value)

    # ------------------------------------------------------------------ wire layer
    def in_audited_call(self) -> bool:
        """True inside :meth:`call` for a mutating (hence audited) operation on this thread."""
        return bool(getattr(self._local, "depth", 0))

    def request_timeout(self) -> float | None:
        """The per-request timeout override of the current :meth:`call` on this thread, if any."""
        return getattr(self._local, "timeout", None)

    def check_request(self, backend: str, method: str, url: str) -> None:
        """Refuse a mutating request in read-only mode; count every request. Called before sending."""
        method = method.upper()
        key = (backend, method)
        if self.readonly and method not in SAFE_METHODS:
            with self._stats_lock:
                self.stats.refused[key] += 1
            path = urlsplit(url).path or url
            raise ReadOnlyError(
                f"{method} {path}",
                "the console is in read-only mode; no change is sent to the backend",
                backend=backend,
            )
        with self._stats_lock:
            self.stats.requests[key] += 1

    @contextmanager
    def transport(self, backend: str, method: str, url: str) -> Iterator[TransportResult]:
        """Enter around one HTTP request (used by the wire adapters)."""
        self.check_request(backend, method, url)
        result = TransportResult()
        method = method.upper()
        if method in SAFE_METHODS or self.in_audited_call():
            yield result
            return
        # A mutating request that bypassed call(): audit it at the wire level.
        path = urlsplit(url).path or url
        action = f"{backend}.{method.lower()}"
        self._audit(action, path, {}, "started")
        try:
            yield result
        except BaseException as exc:
            self._audit(action, path, {}, "error", detail=self.redactor.text(f"{type(exc).__name__}: {exc}"))
            raise
        status = result.status or 0
        self._audit(action, path, {}, "error" if status >= 400 else "ok", detail=f"HTTP {status}")

    # ------------------------------------------------------------------ call layer
    def call(
        self,
        backend: str,
        what: str,
        fn: Callable[[], T],
        *,
        mutating: bool = False,
        idempotent: bool | None = None,
        action: str = "",
        target: str = "",
        params: Mapping[str, Any] | None = None,
        upid_of: Callable[[Any], str | None] | None = None,
        max_attempts: int | None = None,
        timeout: float | None = None,
    ) -> T:
        """Run ``fn`` (one client-library call) under the guard's policies and return its result.

        ``mutating`` calls are refused in read-only mode and audited before and after; they are retried
        only when ``idempotent=True`` is passed explicitly (reads are idempotent by default).
        ``timeout`` shortens the per-request timeout of the requests-based clients for this call (the
        kubernetes client takes ``_request_timeout`` per call instead).
        """
        if idempotent is None:
            idempotent = not mutating
        attempts = max(1, max_attempts if max_attempts is not None else self.retry.max_attempts)
        if not idempotent:
            attempts = 1
        action = action or what
        if mutating and self.readonly:
            with self._stats_lock:
                self.stats.refused[(backend, "CALL")] += 1
            raise ReadOnlyError(
                what, "the console is in read-only mode; no change is sent to the backend", backend=backend
            )
        if mutating:
            self._audit(action, target, params, "started")
        try:
            result = self._run(backend, what, fn, attempts, audited=mutating, timeout=timeout)
        except HksError as err:
            if mutating:
                self._audit(action, target, params, "error", detail=str(err))
            raise
        if mutating:
            upid = (upid_of or _default_upid)(result)
            self._audit(action, target, params, "ok", upid=upid)
        return result

    def _run(
        self,
        backend: str,
        what: str,
        fn: Callable[[], T],
        attempts: int,
        *,
        audited: bool,
        timeout: float | None,
    ) -> T:
        depth = getattr(self._local, "depth", 0)
        previous_timeout = getattr(self._local, "timeout", None)
        self._local.timeout = timeout if timeout is not None else previous_timeout
        self._local.depth = depth + 1 if audited else 0  # a read nested in nothing audits nothing
        try:
            for attempt in range(1, attempts + 1):
                with self._stats_lock:
                    self.stats.attempts += 1
                try:
                    return fn()
                except Exception as exc:
                    err = map_exception(exc, what=what, backend=backend, redactor=self.redactor)
                    if attempt < attempts and err.retryable:
                        delay = self.retry.delay(attempt)
                        log.debug(
                            "%s: attempt %d/%d failed (%s); retrying in %.2fs",
                            what,
                            attempt,
                            attempts,
                            err.why,
                            delay,
                        )
                        with self._stats_lock:
                            self.stats.retries += 1
                        self._sleep(delay)
                        continue
                    log.debug("%s failed: %s", what, err)
                    raise err from None
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            self._local.depth = depth
            self._local.timeout = previous_timeout

    # ------------------------------------------------------------------ audit
    def _audit(
        self,
        action: str,
        target: str,
        params: Mapping[str, Any] | None,
        outcome: str,
        *,
        detail: str = "",
        upid: str | None = None,
    ) -> None:
        if self.audit_sink is None:
            return
        from hks_tui.models import AuditEntry

        entry = AuditEntry(
            actor=self.actor,
            profile=self.profile,
            action=action,
            target=self.redactor.text(target),
            params=self.redactor.params(params),
            outcome=outcome,  # type: ignore[arg-type]
            detail=self.redactor.text(detail)[:2000],
            upid=upid,
        )
        try:
            self.audit_sink.append(entry)
        except Exception as exc:  # the audit must never hide the real outcome, but must be visible
            log.error("could not write the audit row for %s %s: %s", action, outcome, exc)
            if outcome == "started":
                raise HksError(
                    f"Audit of {action}",
                    f"the audit log could not be written ({exc})",
                    "The change was not sent. Check the data directory (disk full? permissions?).",
                ) from None


def _default_upid(result: Any) -> str | None:
    if isinstance(result, str) and result.startswith("UPID:"):
        return result
    if isinstance(result, dict):
        data = result.get("upid") or result.get("data")
        if isinstance(data, str) and data.startswith("UPID:"):
            return data
    return None


def _current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
