"""``?watch=true``: newline-delimited JSON watch events with resourceVersion semantics, bookmarks,
``timeoutSeconds``, ``sendInitialEvents`` (watch-list), 410 ``Expired`` ERROR events and stall faults."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from aiohttp import web

from hks_tui.lab.kube.errors import ApiError, bad_request
from hks_tui.lab.kube.history import StoredEvent
from hks_tui.lab.kube.httputil import Ctx, Target, dumps, parse_bool, parse_int
from hks_tui.lab.kube.tables import to_table, wants_table

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 1800.0  # the apiserver picks 30–60 min when the client gives none
BOOKMARK_INTERVAL = 5.0  # real seconds between periodic bookmarks
STALL_POLL = 0.05
FLUSH_BYTES = 64 * 1024
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


class _Stream:
    def __init__(self, ctx: Ctx, target: Target, response: web.StreamResponse) -> None:
        self.ctx = ctx
        self.target = target
        self.response = response
        self.table = wants_table(ctx.request)
        self.match = ctx.cluster.store.selector(
            target.rt.plural, ctx.query.get("labelSelector"), ctx.query.get("fieldSelector")
        )
        self.rv = ctx.cluster.store.resource_version
        self._buffer: list[bytes] = []
        self._size = 0

    def _matches(self, obj: dict[str, Any] | None) -> bool:
        return obj is not None and self.match(obj)

    def queue(self, event_type: str, obj: dict[str, Any]) -> None:
        if self.table and event_type in ("ADDED", "MODIFIED", "DELETED"):
            obj = to_table(self.ctx, self.target.rt, {"items": [obj], "metadata": {}})
        line = (dumps({"type": event_type, "object": obj}) + "\n").encode()
        self._buffer.append(line)
        self._size += len(line)

    async def flush(self, force: bool = True) -> None:
        if self._buffer and (force or self._size >= FLUSH_BYTES):
            data = b"".join(self._buffer)
            self._buffer.clear()
            self._size = 0
            await self.response.write(data)

    def queue_event(self, event: StoredEvent) -> None:
        """Queue one store event, translated for the selectors (a MODIFIED object that leaves the selection
        is a DELETED for this watcher, one that enters it an ADDED)."""
        self.rv = event.rv
        if self.target.name and event.obj["metadata"].get("name") != self.target.name:
            return
        now_in = self._matches(event.obj)
        if event.type == "MODIFIED":
            was_in = self._matches(event.old) if event.old is not None else now_in
            if now_in and not was_in:
                self.queue("ADDED", event.obj)
            elif was_in and not now_in:
                self.queue("DELETED", event.obj)
            elif now_in:
                self.queue("MODIFIED", event.obj)
        elif now_in:
            self.queue(event.type, event.obj)

    def queue_bookmark(self, initial_events_end: bool = False) -> None:
        rt = self.target.rt
        meta: dict[str, Any] = {"resourceVersion": str(self.rv), "creationTimestamp": None}
        if initial_events_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        self.queue("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta})


async def serve_watch(ctx: Ctx, target: Target) -> web.StreamResponse:
    q = ctx.query
    store = ctx.cluster.store
    timeout = parse_int(q.get("timeoutSeconds"), "timeoutSeconds")
    bookmarks = parse_bool(q.get("allowWatchBookmarks"), "allowWatchBookmarks")
    send_initial = parse_bool(q.get("sendInitialEvents"), "sendInitialEvents")
    rv_param = q.get("resourceVersion")
    since = None if rv_param in (None, "", "0") else parse_int(rv_param, "resourceVersion")
    if q.get("sendInitialEvents") is not None:
        if q.get("resourceVersionMatch") != "NotOlderThan" or not bookmarks:
            raise bad_request(
                "sendInitialEvents requires resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true"
            )
        if send_initial:
            since = None  # current state first (the lab's state is never older than what was asked)
    # validate selectors before switching to streaming (400 as a plain response)
    store.selector(target.rt.plural, q.get("labelSelector"), q.get("fieldSelector"))
    interval = float(ctx.request.app.get("bookmark_interval", BOOKMARK_INTERVAL))

    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(ctx.request)
    stream = _Stream(ctx, target, response)
    try:
        watcher, replay = store.watch(target.rt.plural, target.namespace, since)
    except ApiError as err:
        await response.write((dumps({"type": "ERROR", "object": err.status()}) + "\n").encode())
        await response.write_eof()
        return response
    pending: deque[StoredEvent | dict[str, Any]] = deque(replay)
    if since is None:
        pending.extend(
            o
            for o in store.iter_objects(
                target.rt.plural, target.namespace, q.get("labelSelector"), q.get("fieldSelector")
            )
            if not target.name or o["metadata"]["name"] == target.name
        )
    initial_end_due = send_initial
    deadline = time.monotonic() + (timeout if timeout and timeout > 0 else DEFAULT_TIMEOUT)
    next_bookmark = time.monotonic() + interval
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            if ctx.stalled():
                await asyncio.sleep(min(STALL_POLL, max(0.0, deadline - now)))
                continue
            if pending:
                head = pending.popleft()
                if isinstance(head, StoredEvent):
                    stream.queue_event(head)
                else:
                    stream.queue("ADDED", head)
                await stream.flush(force=not pending)
                continue
            if initial_end_due:
                initial_end_due = False
                stream.queue_bookmark(initial_events_end=True)
                await stream.flush()
            if bookmarks and now >= next_bookmark and watcher.queue.empty():
                stream.rv = store.resource_version  # every event of this resource up to here was sent
                stream.queue_bookmark()
                await stream.flush()
                next_bookmark = now + interval
            wait = max(0.0, min(deadline, next_bookmark if bookmarks else deadline) - now)
            try:
                event = await asyncio.wait_for(watcher.queue.get(), timeout=wait or STALL_POLL)
            except TimeoutError:
                continue
            if event is None:
                break
            pending.append(event)
            while not watcher.queue.empty():  # drain a burst in one go
                more = watcher.queue.get_nowait()
                if more is None:
                    deadline = 0.0
                    break
                pending.append(more)
        if bookmarks and not ctx.stalled():
            if not pending and watcher.queue.empty():
                stream.rv = store.resource_version
            stream.queue_bookmark()
        await stream.flush()
        await response.write_eof()
    except ConnectionError:
        pass  # the client went away
    except ApiError as err:  # reported in-band: the stream is already open
        with contextlib.suppress(ConnectionError):
            await response.write((dumps({"type": "ERROR", "object": err.status()}) + "\n").encode())
    except Exception as exc:
        log.exception("watch stream failed")
        status = ApiError(500, "InternalError", f"Internal error occurred: {exc}").status()
        with contextlib.suppress(ConnectionError):
            await response.write((dumps({"type": "ERROR", "object": status}) + "\n").encode())
    finally:
        store.unwatch(watcher)
    return response
