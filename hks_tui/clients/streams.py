"""Stopping blocking HTTP streams (watches, log follows) from another thread."""

from __future__ import annotations

import socket
import threading
from typing import Any


class StreamHandle:
    """Stops a blocking watch or log stream from another thread (shuts the socket down, then closes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resp: Any = None
        self.stopped = False

    def attach(self, resp: Any) -> None:
        with self._lock:
            self._resp = resp
            stop_now = self.stopped
        if stop_now:
            self._shutdown(resp)

    def detach(self) -> None:
        with self._lock:
            resp, self._resp = self._resp, None
        if resp is not None:
            try:
                resp.close()
                resp.release_conn()
            except Exception:
                pass

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            resp = self._resp
        if resp is not None:
            self._shutdown(resp)

    @staticmethod
    def _shutdown(resp: Any) -> None:
        # Unblock a thread sitting in recv(): shutting the socket down is immediate, close() may not be.
        conn = getattr(resp, "connection", None)
        sock = getattr(conn, "sock", None) if conn is not None else None
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
