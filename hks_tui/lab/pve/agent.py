"""The QEMU guest agent of every simulated VM: ping, interfaces, os info, file read/write and exec.

``exec`` runs the registered ``PveCluster.exec_handlers`` in order (the first non-``None`` result wins),
then the small built-in interpreter below (``true``, ``hostname``, ``cat FILE``, ``uname -a``, ``echo``,
``sleep N``, ``cloud-init status --wait``, ``sh -c``/``sh -s`` scripts made of those...). Anything else
exits 127 with ``command not found``. ``exec-status`` reports ``exited: 0`` until the result's
``duration`` (lab seconds) has elapsed, then the result exactly once (qemu-ga forgets a reaped process);
a reboot kills the guest's processes.
"""

from __future__ import annotations

import base64
import binascii
import logging
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hks_tui.lab.pve.errors import PveError
from hks_tui.lab.pve.model import GuestExecResult, Vm

if TYPE_CHECKING:
    from hks_tui.lab.pve.model import PveCluster

log = logging.getLogger(__name__)

MAX_INPUT_BYTES = 64 * 1024
BUILTIN_DURATION = 0.2  # lab seconds
SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "dash", "/bin/dash"}


@dataclass
class ExecProcess:
    pid: int
    vmid: int
    boot: float | None  # vm.started_at when the process started; a reboot kills it
    started: float
    result: GuestExecResult


class GuestAgent:
    def __init__(self, pve: PveCluster) -> None:
        self.pve = pve
        self.processes: dict[int, ExecProcess] = {}
        self._next_pid = 1200

    # -- preconditions ------------------------------------------------------------------------------
    def check(self, vm: Vm) -> None:
        if not vm.agent_enabled:
            raise PveError(500, "No QEMU guest agent configured")
        if vm.status != "running":
            raise PveError(500, f"VM {vm.vmid} is not running")
        if not self.pve.agent_ready(vm):
            raise PveError(500, "QEMU guest agent is not running")

    # -- info commands ------------------------------------------------------------------------------
    def network_interfaces(self, vm: Vm) -> list[dict[str, object]]:
        self.check(vm)
        uptime = vm.uptime(self.pve.clock.now())
        mac = str(vm.config.get("net0", "virtio=00:00:00:00:00:00")).split(",", 1)[0].partition("=")[2]
        ip = self.pve.vm_ip(vm) or "0.0.0.0"
        prefix = 16
        for part in str(vm.config.get("ipconfig0", "ip=dhcp")).split(","):
            key, _, value = part.partition("=")
            if key == "ip" and "/" in value:
                prefix = int(value.split("/", 1)[1])
        octets = mac.lower().split(":")
        link_local = (
            f"fe80::be24:11ff:fe{octets[3]}:{octets[4]}{octets[5]}" if len(octets) == 6 else "fe80::1"
        )

        def stats(rx: int, tx: int) -> dict[str, int]:
            return {
                "rx-bytes": rx,
                "rx-packets": rx // 900,
                "rx-errs": 0,
                "rx-dropped": 0,
                "tx-bytes": tx,
                "tx-packets": tx // 700,
                "tx-errs": 0,
                "tx-dropped": 0,
            }

        return [
            {
                "name": "lo",
                "hardware-address": "00:00:00:00:00:00",
                "ip-addresses": [
                    {"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8},
                    {"ip-address": "::1", "ip-address-type": "ipv6", "prefix": 128},
                ],
                "statistics": stats(uptime * 120, uptime * 120),
            },
            {
                "name": "ens18",
                "hardware-address": mac.lower(),
                "ip-addresses": [
                    {"ip-address": ip, "ip-address-type": "ipv4", "prefix": prefix},
                    {"ip-address": link_local, "ip-address-type": "ipv6", "prefix": 64},
                ],
                "statistics": stats(uptime * 5300, uptime * 2100),
            },
        ]

    def osinfo(self, vm: Vm) -> dict[str, object]:
        self.check(vm)
        return {
            "id": "ubuntu",
            "name": "Ubuntu",
            "pretty-name": "Ubuntu 24.04.3 LTS",
            "version": "24.04.3 LTS (Noble Numbat)",
            "version-id": "24.04",
            "kernel-release": "6.8.0-88-generic",
            "kernel-version": "#89-Ubuntu SMP PREEMPT_DYNAMIC",
            "machine": "x86_64",
        }

    def file_write(self, vm: Vm, path: str, content: str, encode: bool) -> None:
        self.check(vm)
        if encode:
            data = content.encode()
        else:
            try:
                data = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                raise PveError(500, "Agent error: Invalid parameter 'buf-b64'") from None
        vm.files[path] = data

    def file_read(self, vm: Vm, path: str) -> dict[str, object]:
        self.check(vm)
        if path not in vm.files:
            raise PveError(500, f"Agent error: Failed to open file '{path}': No such file or directory")
        return {"content": vm.files[path].decode(errors="replace"), "bytes-read": len(vm.files[path])}

    # -- exec -----------------------------------------------------------------------------------------
    def exec(self, vm: Vm, command: list[str], input_data: bytes | None) -> int:
        self.check(vm)
        if not command or not command[0]:
            raise PveError(
                500, "Agent error: Guest agent command failed, error was 'Invalid parameter 'path''"
            )
        if input_data is not None and len(input_data) > MAX_INPUT_BYTES:
            raise PveError(
                400,
                "Parameter verification failed.",
                {"input-data": "value may only be 65536 characters long"},
            )
        result: GuestExecResult | None = None
        for handler in list(self.pve.exec_handlers):
            try:
                result = handler(vm, list(command), input_data)
            except Exception as exc:  # a broken handler must look like a failing guest process
                log.exception("guest-exec handler %r failed", handler)
                result = GuestExecResult(exitcode=1, err=f"internal error: {exc}\n")
            if result is not None:
                break
        if result is None:
            result = run_builtin(vm, list(command), input_data)
        self._next_pid += 1
        pid = self._next_pid
        self.processes[pid] = ExecProcess(
            pid=pid, vmid=vm.vmid, boot=vm.started_at, started=self.pve.clock.now(), result=result
        )
        return pid

    def exec_status(self, vm: Vm, pid: int) -> dict[str, object]:
        """Like qemu-ga: once a finished process has been reported (``exited: 1``) it is forgotten, so a
        second query for the same pid fails with ``Invalid parameter 'pid'``."""
        self.check(vm)
        process = self.processes.get(pid)
        if process is None or process.vmid != vm.vmid or process.boot != vm.started_at:
            raise PveError(500, "Agent error: Invalid parameter 'pid'")
        if self.pve.clock.now() - process.started < process.result.duration:
            return {"exited": 0}
        del self.processes[pid]
        status: dict[str, object] = {"exited": 1, "exitcode": process.result.exitcode}
        if process.result.out:
            status["out-data"] = process.result.out
        if process.result.err:
            status["err-data"] = process.result.err
        return status


def _builtin(vm: Vm, argv: list[str], stdin: bytes | None) -> GuestExecResult:
    name = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    if name == "true":
        return GuestExecResult(0, duration=BUILTIN_DURATION)
    if name == "false":
        return GuestExecResult(1, duration=BUILTIN_DURATION)
    if name == "hostname":
        return GuestExecResult(0, out=vm.name + "\n", duration=BUILTIN_DURATION)
    if name in ("whoami", "id"):
        out = "root\n" if name == "whoami" else "uid=0(root) gid=0(root) groups=0(root)\n"
        return GuestExecResult(0, out=out, duration=BUILTIN_DURATION)
    if name == "echo":
        return GuestExecResult(0, out=" ".join(args) + "\n", duration=BUILTIN_DURATION)
    if name == "uname":
        if "-a" in args:
            out = f"Linux {vm.name} 6.8.0-88-generic #89-Ubuntu SMP PREEMPT_DYNAMIC x86_64 x86_64 x86_64 GNU/Linux\n"
        elif "-r" in args:
            out = "6.8.0-88-generic\n"
        else:
            out = "Linux\n"
        return GuestExecResult(0, out=out, duration=BUILTIN_DURATION)
    if name == "cat":
        if not args:
            return GuestExecResult(0, out=(stdin or b"").decode(errors="replace"), duration=BUILTIN_DURATION)
        out, err, code = "", "", 0
        for path in args:
            if path in vm.files:
                out += vm.files[path].decode(errors="replace")
            else:
                err += f"cat: {path}: No such file or directory\n"
                code = 1
        return GuestExecResult(code, out=out, err=err, duration=BUILTIN_DURATION)
    if name == "sleep":
        try:
            seconds = float(args[0]) if args else 0.0
        except ValueError:
            return GuestExecResult(1, err=f"sleep: invalid time interval '{args[0]}'\n")
        return GuestExecResult(0, duration=seconds)
    if name == "cloud-init" and args[:1] == ["status"]:
        return GuestExecResult(0, out="status: done\n", duration=BUILTIN_DURATION)
    if name in ("test", "[") and len(args) >= 2 and args[0] in ("-e", "-f"):
        return GuestExecResult(0 if args[1] in vm.files else 1, duration=BUILTIN_DURATION)
    if name == "mkdir":
        return GuestExecResult(0, duration=BUILTIN_DURATION)
    if name == "tee" and args:
        vm.files[args[-1]] = stdin or b""
        return GuestExecResult(0, out=(stdin or b"").decode(errors="replace"), duration=BUILTIN_DURATION)
    return GuestExecResult(127, err=f"{argv[0]}: command not found\n", duration=BUILTIN_DURATION)


def _run_script(vm: Vm, script: str) -> GuestExecResult:
    """A tiny ``sh`` for scripts made of built-in commands (stops at the first failure, like ``set -e``)."""
    out, err, duration = "", "", 0.0
    for lineno, raw in enumerate(script.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("set ") or line.startswith("export "):
            continue
        try:
            argv = shlex.split(line)
        except ValueError:
            return GuestExecResult(
                2, out=out, err=err + f"sh: {lineno}: Syntax error: Unterminated quoted string\n"
            )
        if argv and "=" in argv[0] and len(argv) == 1:
            continue  # variable assignment
        result = _builtin(vm, argv, None)
        duration += result.duration
        out += result.out
        if result.exitcode == 127:
            return GuestExecResult(
                127, out=out, err=err + f"sh: {lineno}: {argv[0]}: not found\n", duration=duration
            )
        err += result.err
        if result.exitcode != 0:
            return GuestExecResult(result.exitcode, out=out, err=err, duration=duration)
    return GuestExecResult(0, out=out, err=err, duration=duration)


def run_builtin(vm: Vm, argv: list[str], stdin: bytes | None) -> GuestExecResult:
    if argv[0] in SHELLS:
        if "-c" in argv[1:]:
            index = argv.index("-c")
            script = argv[index + 1] if index + 1 < len(argv) else ""
            return _run_script(vm, script)
        if len(argv) == 1 or "-s" in argv[1:]:
            return _run_script(vm, (stdin or b"").decode(errors="replace"))
        path = argv[1]
        if path in vm.files:
            return _run_script(vm, vm.files[path].decode(errors="replace"))
        return GuestExecResult(
            127, err=f"{argv[0]}: 0: cannot open {path}: No such file\n", duration=BUILTIN_DURATION
        )
    return _builtin(vm, argv, stdin)
