"""Fault injection for every lab server, and the request log tests count from.

A :class:`FaultRule` matches requests by API key (``"pve"``, ``"kube:<cluster>"``, ``"metrics"``,
``"control"``; shell-style patterns such as ``"kube:*"`` work, and plain ``"kube"`` means every Kubernetes
server), an optional HTTP method and an optional path regular expression (searched in the request path,
query string excluded; anchor it with ``^``/``$`` if needed). A rule can:

* ``latency`` — delay the request by that many **real** seconds (independent of the lab clock);
* ``error`` — answer 500, 503 or 596 *instead of* running the handler, with the envelope of that API
  (PVE JSON envelope with the message in the reason phrase, Kubernetes ``Status``, plain text otherwise);
* ``drop`` — run the handler (the change is applied) and then abort the connection: the client sees a
  connection error and cannot know the outcome;
* ``stall`` — streaming endpoints (watches, log follows) stop sending while the rule is active
  (servers ask :meth:`FaultRegistry.stream_stalled`).

``rate`` is the probability (seeded RNG, so runs are reproducible) that ``error``/``drop`` fire for a
matching request; ``count`` limits how many times the rule fires in total (``None`` = unlimited).

The compact text syntax used by ``hks-tui lab --fault`` and the control API is::

    API[:METHOD][:PATH_REGEX]:OPTION[:OPTION...]
    OPTION = error=500|503|596 | rate=0.5 | latency=0.2 | count=3 | drop | stall

e.g. ``pve:POST:/nodes/.*/qemu/.*/clone:error=500:rate=0.5`` or ``kube:host:GET:/api/v1/pods:stall``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from hks_tui.lab.world import LabWorld

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"})
ERROR_CODES = (500, 503, 596)
MAX_RECORDS = 100_000

_PVE_MESSAGES = {
    500: "Internal Server Error (injected fault)",
    503: "Service Unavailable (injected fault)",
    596: "Connection timed out",
}
_KUBE_REASONS = {500: "InternalError", 503: "ServiceUnavailable", 596: "Timeout"}
_PLAIN_REASONS = {500: "Internal Server Error", 503: "Service Unavailable", 596: "Connection timed out"}
_FLAG_OPTIONS = {"drop", "stall"}
_VALUE_OPTION = re.compile(r"^(error|rate|latency|count)=(.+)$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


class FaultSpecError(ValueError):
    """A fault rule (text spec or JSON) is malformed."""


@dataclass
class FaultRule:
    api: str
    method: str | None = None
    path: str | None = None
    latency: float = 0.0
    error: int | None = None
    rate: float = 1.0
    drop: bool = False
    stall: bool = False
    count: int | None = None
    id: int = 0
    fired: int = 0
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.api = self.api.strip()
        if not self.api:
            raise FaultSpecError("a fault rule needs an API key (pve, kube:<cluster>, metrics, control)")
        if self.method is not None:
            self.method = self.method.upper()
            if self.method not in HTTP_METHODS:
                raise FaultSpecError(f"unknown HTTP method {self.method!r}")
            if self.method == "*":
                self.method = None
        if self.path:
            try:
                self._regex = re.compile(self.path)
            except re.error as exc:
                raise FaultSpecError(f"bad path regex {self.path!r}: {exc}") from exc
        else:
            self.path = None
        if self.error is not None and self.error not in ERROR_CODES:
            raise FaultSpecError(f"error must be one of {ERROR_CODES}, not {self.error}")
        if not 0.0 <= self.rate <= 1.0:
            raise FaultSpecError("rate must be between 0 and 1")
        if self.latency < 0:
            raise FaultSpecError("latency must be >= 0 seconds")
        if self.count is not None and self.count < 1:
            raise FaultSpecError("count must be >= 1")
        if not (self.latency or self.error or self.drop or self.stall):
            raise FaultSpecError("a fault rule needs at least one of latency, error, drop, stall")

    def matches_api(self, api: str) -> bool:
        if self.api == api:
            return True
        if self.api == "kube" and api.startswith("kube:"):
            return True
        return fnmatch.fnmatchcase(api, self.api)

    def matches(self, api: str, method: str | None, path: str) -> bool:
        if not self.matches_api(api):
            return False
        if self.method is not None and method is not None and self.method != method.upper():
            return False
        return not (self._regex is not None and self._regex.search(path) is None)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "api": self.api,
            "method": self.method,
            "path": self.path,
            "latency": self.latency,
            "error": self.error,
            "rate": self.rate,
            "drop": self.drop,
            "stall": self.stall,
            "count": self.count,
            "fired": self.fired,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        known = {"api", "method", "path", "latency", "error", "rate", "drop", "stall", "count"}
        unknown = set(data) - known - {"id", "fired"}
        if unknown:
            raise FaultSpecError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        try:
            return cls(
                api=str(data["api"]),
                method=None if data.get("method") in (None, "") else str(data["method"]),
                path=None if data.get("path") in (None, "") else str(data["path"]),
                latency=float(data.get("latency") or 0.0),
                error=None if data.get("error") is None else int(data["error"]),
                rate=float(1.0 if data.get("rate") is None else data["rate"]),
                drop=bool(data.get("drop", False)),
                stall=bool(data.get("stall", False)),
                count=None if data.get("count") is None else int(data["count"]),
            )
        except KeyError as exc:
            raise FaultSpecError("a fault rule needs 'api'") from exc
        except (TypeError, ValueError) as exc:
            if isinstance(exc, FaultSpecError):
                raise
            raise FaultSpecError(f"bad fault value: {exc}") from exc


def parse_fault_spec(spec: str) -> FaultRule:
    """Parse the compact ``API[:METHOD][:PATH]:OPTION...`` syntax (see the module docstring)."""
    tokens = spec.strip().split(":")
    options: list[str] = []
    while tokens and (tokens[-1] in _FLAG_OPTIONS or _VALUE_OPTION.match(tokens[-1])):
        options.insert(0, tokens.pop())
    if not options:
        raise FaultSpecError(f"fault {spec!r}: no option (error=, rate=, latency=, count=, drop, stall)")
    if not tokens or not tokens[0]:
        raise FaultSpecError(f"fault {spec!r}: missing API key")
    api = tokens.pop(0)
    if api == "kube" and tokens and tokens[0] and tokens[0].upper() not in HTTP_METHODS:
        api = f"kube:{tokens.pop(0)}"
    method = None
    if tokens and tokens[0].upper() in HTTP_METHODS:
        method = tokens.pop(0)
    path = ":".join(tokens) or None
    values: dict[str, Any] = {"api": api, "method": method, "path": path}
    for option in options:
        if option in _FLAG_OPTIONS:
            values[option] = True
            continue
        match = _VALUE_OPTION.match(option)
        assert match is not None
        values[match.group(1)] = match.group(2)
    return FaultRule.from_dict(values)


def parse_latency_spec(spec: str) -> FaultRule:
    """``API=SECONDS`` (``--latency pve=0.2``) → a latency-only rule for every request of that API."""
    api, sep, seconds = spec.partition("=")
    if not sep:
        raise FaultSpecError(f"latency {spec!r}: expected API=SECONDS")
    try:
        return FaultRule(api=api, latency=float(seconds))
    except ValueError as exc:
        if isinstance(exc, FaultSpecError):
            raise
        raise FaultSpecError(f"latency {spec!r}: {exc}") from exc


@dataclass(frozen=True)
class RequestRecord:
    seq: int
    api: str
    method: str
    path: str
    status: int
    ts: float  # real (wall-clock) time
    fault: str | None = None  # "error" | "drop" when an injected fault changed the outcome

    @property
    def mutating(self) -> bool:
        return self.method in MUTATING_METHODS


class FaultRegistry:
    """All fault rules of a lab plus the log of every request any lab server received."""

    def __init__(self, seed: int = 0, max_records: int = MAX_RECORDS) -> None:
        self.rng = random.Random(seed)
        self.rules: list[FaultRule] = []
        self.requests: list[RequestRecord] = []
        self.max_records = max_records
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self.last_seq = 0

    # -- rules -------------------------------------------------------------------------------------
    def add(self, rule: FaultRule | str) -> FaultRule:
        if isinstance(rule, str):
            rule = parse_fault_spec(rule)
        rule.id = next(self._ids)
        rule.fired = 0
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        self.rules.clear()

    def matching(self, api: str, method: str | None, path: str) -> list[FaultRule]:
        return [r for r in self.rules if not r.exhausted and r.matches(api, method, path)]

    def stream_stalled(self, api: str, path: str) -> bool:
        return any(r.stall for r in self.matching(api, None, path))

    def latency_for(self, api: str, method: str, path: str) -> float:
        return sum(r.latency for r in self.matching(api, method, path))

    def fire(self, rules: Iterable[FaultRule], kind: str) -> FaultRule | None:
        """The first rule of ``kind`` ("error" | "drop") that fires for this request (rate, count)."""
        for rule in rules:
            if kind == "error" and rule.error is None:
                continue
            if kind == "drop" and not rule.drop:
                continue
            if rule.exhausted:
                continue
            if rule.rate >= 1.0 or self.rng.random() < rule.rate:
                rule.fired += 1
                return rule
        return None

    # -- request log -------------------------------------------------------------------------------
    def record(
        self, api: str, method: str, path: str, status: int, fault: str | None = None
    ) -> RequestRecord:
        seq = next(self._seq)
        rec = RequestRecord(seq, api, method, path, status, time.time(), fault)
        self.requests.append(rec)
        self.last_seq = seq
        if len(self.requests) > self.max_records:
            del self.requests[: len(self.requests) - self.max_records]
        return rec

    def select(
        self,
        api: str | None = None,
        method: str | None = None,
        *,
        mutating: bool | None = None,
        since: int = 0,
        path: str | None = None,
    ) -> list[RequestRecord]:
        """Records after sequence number ``since`` filtered by api pattern, method, mutating, path regex."""
        regex = re.compile(path) if path else None
        out = []
        for rec in list(self.requests):
            if rec.seq <= since:
                continue
            if api is not None and not (rec.api == api or fnmatch.fnmatchcase(rec.api, api)):
                continue
            if method is not None and rec.method != method.upper():
                continue
            if mutating is not None and rec.mutating != mutating:
                continue
            if regex is not None and regex.search(rec.path) is None:
                continue
            out.append(rec)
        return out

    def count(self, api: str | None = None, method: str | None = None, **kwargs: Any) -> int:
        return len(self.select(api, method, **kwargs))


# -- error envelopes ----------------------------------------------------------------------------------
def error_response(api: str, status: int, message: str | None = None) -> web.Response:
    """The error the real server behind ``api`` would send for ``status``."""
    if api == "pve":
        text = message or _PVE_MESSAGES.get(status, "Internal Server Error")
        body = {"data": None, "message": text + "\n"}
        return web.Response(
            status=status,
            reason=text.replace("\n", " "),
            text=json.dumps(body),
            content_type="application/json",
        )
    if api.startswith("kube:"):
        reason = _KUBE_REASONS.get(status, "InternalError")
        text = message or f"injected fault: the server is unable to handle the request ({reason})"
        status_obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": text,
            "reason": reason,
            "details": {"causes": [{"message": text}]},
            "code": status,
        }
        return web.Response(status=status, text=json.dumps(status_obj), content_type="application/json")
    reason = _PLAIN_REASONS.get(status, "Internal Server Error")
    return web.Response(
        status=status, reason=reason, text=(message or reason) + "\n", content_type="text/plain"
    )


def _abort_connection(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


def fault_middleware(
    world: LabWorld, api: str
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """aiohttp middleware applying ``world.faults`` rules for ``api`` and recording every request."""
    faults = world.faults

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        method, path = request.method, request.path
        rules = faults.matching(api, method, path)
        if rules:
            delay = sum(r.latency for r in rules)
            if delay:
                for r in rules:
                    if r.latency and r.error is None and not r.drop:
                        r.fired += 1
                await asyncio.sleep(delay)
            failing = faults.fire(rules, "error")
            if failing is not None and failing.error is not None:
                faults.record(api, method, path, failing.error, "error")
                return error_response(api, failing.error)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            faults.record(api, method, path, exc.status, None)
            raise
        except asyncio.CancelledError:
            faults.record(api, method, path, 499, None)
            raise
        except Exception:
            faults.record(api, method, path, 500, None)
            raise
        if rules and faults.fire(rules, "drop") is not None:
            faults.record(api, method, path, response.status, "drop")
            _abort_connection(request)
            return response
        faults.record(api, method, path, response.status, None)
        return response

    return middleware
