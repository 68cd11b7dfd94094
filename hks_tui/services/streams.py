"""Log follows on dedicated threads (never on the request executor), with an honest stream state."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from hks_tui.clients.errors import BackendTimeout, HksError, NotFoundError
from hks_tui.clients.guard import RetryPolicy
from hks_tui.clients.streams import StreamHandle

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient

log = logging.getLogger(__name__)

CONNECTING, LIVE, STALLED, RECONNECTING, ENDED, STOPPED, FAILED = (
    "connecting",
    "live",
    "stalled",
    "reconnecting",
    "ended",
    "stopped",
    "failed",
)


class LogFollower:
    """Follow one container's log; ``on_line(line)`` and ``on_state(state, detail)`` run on its thread.

    A stream silent for ``stall_after`` seconds is reported ``stalled`` and re-opened. After a dropped
    connection it reconnects with capped, jittered backoff and reports
    ``reconnecting`` (lines emitted while disconnected may be missing: the state says so). It ends
    (``ended``) when the pod's log ends, or fails (``failed``) when the pod is gone. ``stop()`` returns
    promptly: it shuts the socket down under the blocked reader.
    """

    def __init__(
        self,
        client: KubeClient,
        pod: str,
        namespace: str,
        on_line: Callable[[str], None],
        on_state: Callable[[str, str], None] | None = None,
        *,
        container: str | None = None,
        tail_lines: int = 100,
        timestamps: bool = False,
        retry: RetryPolicy | None = None,
        max_reconnects: int = 20,
        stall_after: float = 120.0,
    ) -> None:
        self.client = client
        self.pod = pod
        self.namespace = namespace
        self.container = container
        self.tail_lines = tail_lines
        self.timestamps = timestamps
        self.on_line = on_line
        self.on_state = on_state or (lambda state, detail: None)
        self.retry = retry or RetryPolicy(base_delay=0.5, max_delay=10.0)
        self.max_reconnects = max_reconnects
        self.stall_after = stall_after
        self.state = CONNECTING
        self.lines = 0
        self._stop = threading.Event()
        self._handle: StreamHandle | None = None
        self._thread = threading.Thread(target=self._run, name=f"hks-log-{namespace}-{pod}", daemon=True)

    def start(self) -> LogFollower:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        handle = self._handle
        if handle is not None:
            handle.stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _set(self, state: str, detail: str = "") -> None:
        self.state = state
        try:
            self.on_state(state, detail)
        except Exception:
            log.exception("log follower state callback failed")

    def _run(self) -> None:
        attempt = 0
        tail: int | None = self.tail_lines
        while not self._stop.is_set():
            handle = StreamHandle()
            self._handle = handle
            try:
                self._set(CONNECTING if attempt == 0 else RECONNECTING, f"attempt {attempt + 1}")
                first = True
                for line in self.client.follow_log(
                    self.pod,
                    self.namespace,
                    container=self.container,
                    tail_lines=tail,
                    timestamps=self.timestamps,
                    handle=handle,
                    read_timeout=self.stall_after,
                ):
                    if first:
                        self._set(LIVE)
                        first = False
                        attempt = 0
                    self.lines += 1
                    try:
                        self.on_line(line)
                    except Exception:
                        log.exception("log line callback failed")
                if self._stop.is_set():
                    break
                self._set(ENDED, "the log stream ended")
                return
            except NotFoundError as err:
                self._set(FAILED, err.why)
                return
            except HksError as err:
                if self._stop.is_set():
                    break
                attempt += 1
                if attempt > self.max_reconnects:
                    self._set(FAILED, str(err))
                    return
                if isinstance(err, BackendTimeout):
                    self._set(STALLED, f"no output for {self.stall_after:.0f}s; reconnecting")
                else:
                    self._set(RECONNECTING, f"{err.why}; lines may be missing")
                tail = 0  # do not replay what was already shown
                if self._stop.wait(self.retry.delay(min(attempt, 6))):
                    break
            finally:
                self._handle = None
        self._set(STOPPED)
