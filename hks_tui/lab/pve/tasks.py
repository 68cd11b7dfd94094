"""Worker tasks (UPIDs) of the simulated Proxmox VE.

A task runs as an asyncio task on the lab loop. Its log is a list of lines; when the worker returns the
last line becomes ``TASK OK`` (or ``TASK WARNINGS: N``), when it raises :class:`TaskError` (or any other
exception) ``TASK ERROR: <message>``. ``exitstatus`` is derived from that last line exactly as PVE does.
UPID format: ``UPID:$node:%08X(pid):%08X(pstart):%08X(starttime):$type:$id:$user:`` (9 fields, trailing
colon).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hks_tui.lab.clock import LabClock
from hks_tui.lab.pve.errors import PveError, TaskError

log = logging.getLogger(__name__)

Worker = Callable[["Task"], Awaitable[None]]
MAX_TASKS = 5000


@dataclass
class Task:
    upid: str
    node: str
    pid: int
    pstart: int
    starttime: int
    type: str
    id: str
    user: str
    status: str = "running"  # "running" | "stopped"
    exitstatus: str | None = None
    endtime: int | None = None
    log: list[str] = field(default_factory=list)
    warnings: int = 0
    handle: asyncio.Task[None] | None = None

    def write(self, line: str) -> None:
        self.log.extend(line.splitlines() or [""])

    def warn(self, message: str) -> None:
        self.warnings += 1
        self.write(f"WARN: {message}")

    def status_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "upid": self.upid,
            "node": self.node,
            "pid": self.pid,
            "pstart": self.pstart,
            "starttime": self.starttime,
            "type": self.type,
            "id": self.id,
            "user": self.user,
            "status": self.status,
        }
        if self.status == "stopped":
            data["exitstatus"] = self.exitstatus
        return data

    def list_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "upid": self.upid,
            "node": self.node,
            "pid": self.pid,
            "pstart": self.pstart,
            "starttime": self.starttime,
            "type": self.type,
            "id": self.id,
            "user": self.user,
        }
        if self.status == "stopped":
            data["endtime"] = self.endtime
            data["status"] = self.exitstatus
        return data

    @property
    def failed(self) -> bool:
        return self.status == "stopped" and not (
            self.exitstatus == "OK" or str(self.exitstatus).startswith("WARNINGS: ")
        )


def exitstatus_from_line(line: str) -> str:
    if line == "TASK OK":
        return "OK"
    if line.startswith("TASK WARNINGS: "):
        return "WARNINGS: " + line.removeprefix("TASK WARNINGS: ")
    if line.startswith("TASK ERROR: "):
        return line.removeprefix("TASK ERROR: ")
    return "unexpected status"


class TaskRegistry:
    """Every task started on the cluster, by UPID."""

    def __init__(self, clock: LabClock) -> None:
        self.clock = clock
        self.tasks: dict[str, Task] = {}
        self._next_pid = 184_000
        self._pstart0 = 2_400_000

    def start(self, node: str, type_: str, id_: str, user: str, worker: Worker) -> Task:
        """Create the task and schedule ``worker(task)`` on the running loop."""
        self._next_pid += 7
        pid = self._next_pid
        pstart = self._pstart0 + int(self.clock.elapsed() * 100)
        starttime = int(self.clock.now())
        upid = f"UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{type_}:{id_}:{user}:"
        task = Task(
            upid=upid, node=node, pid=pid, pstart=pstart, starttime=starttime, type=type_, id=id_, user=user
        )
        self.tasks[upid] = task
        self._prune()
        task.handle = asyncio.get_running_loop().create_task(self._run(task, worker), name=upid)
        task.handle.add_done_callback(lambda _handle: self._cancelled_before_start(task))
        return task

    def _cancelled_before_start(self, task: Task) -> None:
        if task.status == "running":  # cancelled before the worker ever ran
            task.write("received interrupt")
            self._finish(task, "TASK ERROR: received interrupt")

    async def _run(self, task: Task, worker: Worker) -> None:
        try:
            await worker(task)
        except asyncio.CancelledError:
            task.write("received interrupt")
            self._finish(task, "TASK ERROR: received interrupt")
            return
        except (TaskError, PveError) as exc:
            self._finish(task, f"TASK ERROR: {exc}".rstrip())
            return
        except Exception as exc:  # a lab bug must still end the task the way PVE would
            log.exception("PVE task %s crashed", task.upid)
            self._finish(task, f"TASK ERROR: {exc}".rstrip())
            return
        self._finish(task, f"TASK WARNINGS: {task.warnings}" if task.warnings else "TASK OK")

    def _finish(self, task: Task, last_line: str) -> None:
        task.log.append(last_line)
        task.status = "stopped"
        task.exitstatus = exitstatus_from_line(last_line)
        task.endtime = int(self.clock.now())

    def _prune(self) -> None:
        """Keep the task archive bounded (oldest finished tasks go first, like PVE's index rotation)."""
        excess = len(self.tasks) - MAX_TASKS
        if excess <= 0:
            return
        for upid in [u for u, t in self.tasks.items() if t.status == "stopped"][:excess]:
            del self.tasks[upid]

    def get(self, node: str, upid: str) -> Task:
        task = self.tasks.get(upid)
        if task is None or task.node != node:
            fields = upid.split(":")
            if len(fields) != 9 or fields[0] != "UPID":
                raise PveError(400, "Parameter verification failed.", {"upid": "unable to parse worker upid"})
            raise PveError(500, f"no such task '{upid}'")
        return task

    def stop(self, node: str, upid: str) -> None:
        task = self.get(node, upid)
        if task.status == "running" and task.handle is not None:
            task.handle.cancel()

    async def wait(self, upid: str) -> Task:
        """Wait until the task has stopped (lab-internal helper; HTTP clients poll the status)."""
        task = self.tasks[upid]
        if task.handle is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task.handle)
        return task

    def cancel_all(self) -> None:
        for task in self.tasks.values():
            if task.handle is not None and not task.handle.done():
                task.handle.cancel()
