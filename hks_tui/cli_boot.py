"""Start-up of the console: paint the shell first, open the runtime right after.

Opening the runtime (settings validation, the state database, the services and their client libraries,
or the embedded lab) costs far more than painting the shell. ``hks-tui`` therefore shows the shell on a
:class:`PendingRuntime` — the facts that are cheap to know (flags, the theme, the lab's organisation and
workspace from ``lab.json``) — and a :class:`RuntimeOpener` opens the real runtime on a thread once the
first frame is on screen; the app then adopts it. If opening fails, the console exits and the CLI prints
the error as one line, exactly as when the runtime was opened before the app.

No Textual and no pydantic here: this module is on the path to the first frame.
"""

from __future__ import annotations

import json
import os
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hks_tui import paths

THEME_NAMES = ("dark", "light")


class NotReadyError(Exception):
    """A backend was asked for before the runtime is open (the console is still connecting)."""

    what = "Reach the backends"
    why = "the console is still connecting (configuration, state database, clients)"
    next_step = "Wait a moment: the header fills in and the health dots turn green once connected."
    backend = None
    status = None

    def __init__(self) -> None:
        super().__init__(f"{self.what}: {self.why}")


@dataclass(frozen=True)
class BootUi:
    theme: str = "dark"


@dataclass(frozen=True)
class BootSettings:
    """The part of the settings the first frame needs (the theme), read without validation."""

    ui: BootUi = field(default_factory=BootUi)


@dataclass
class PendingRuntime:
    """Stands in for :class:`hks_tui.runtime.Runtime` until it is open (same attribute names)."""

    settings: BootSettings = field(default_factory=BootSettings)
    profile: Any = None
    is_lab: bool = False
    readonly: bool = False
    insecure: bool = False
    config_error: Any = None
    workspace: str = ""
    org: str = ""
    ready: bool = False

    @property
    def services(self) -> Any:
        raise NotReadyError()

    @property
    def workspace_names(self) -> list[str]:
        return []

    async def switch_workspace(self, name: str) -> None:
        raise NotReadyError()

    def close(self) -> None:
        """Nothing to close: the opener owns the real runtime."""


def peek_theme(config_path: Path | None) -> str:
    """The configured theme (``HKS_UI__THEME`` or the file's ``ui.theme``), "dark" when unknown.

    Only a hint for the first frame: the validated settings decide once the runtime is open.
    """
    for name, value in os.environ.items():
        if name.upper() == "HKS_UI__THEME" and value.strip().lower() in THEME_NAMES:
            return value.strip().lower()
    file = Path(config_path).expanduser() if config_path is not None else paths.config_file()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "dark"
    ui = data.get("ui")
    theme = ui.get("theme") if isinstance(ui, dict) else None
    return theme if isinstance(theme, str) and theme in THEME_NAMES else "dark"


def _configured(config_path: Path | None) -> bool:
    """Whether a configuration file exists (else the console runs on the embedded lab)."""
    file = Path(config_path).expanduser() if config_path is not None else paths.config_file()
    return file.exists()


def pending_runtime(
    *,
    lab_dir: Path | None,
    config_path: Path | None,
    profile: str | None,
    workspace: str | None,
    readonly: bool,
    insecure: bool,
) -> PendingRuntime:
    """What the first frame shows for these command-line options (cheap: no validation, no backends)."""
    org = ""
    is_lab = lab_dir is not None or (profile is None and not _configured(config_path))
    if lab_dir is not None:
        try:
            info = json.loads((Path(lab_dir).expanduser() / "lab.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = None  # the opener reports the problem with its full explanation
        if isinstance(info, dict):
            org = str(info.get("org") or "lab")
            contexts = info.get("vcluster_contexts")
            if workspace is None and isinstance(contexts, dict) and contexts:
                workspace = str(next(iter(contexts)))
    return PendingRuntime(
        settings=BootSettings(BootUi(peek_theme(config_path))),
        is_lab=is_lab,
        readonly=readonly,
        insecure=insecure,
        workspace=workspace or "",
        org=org,
    )


class RuntimeOpener:
    """Opens the runtime on a thread; ``finish()`` waits for it and hands over what it produced."""

    def __init__(self, open_runtime: Callable[[], Any], pending: PendingRuntime) -> None:
        self.pending = pending
        self._open = open_runtime
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.runtime: Any = None
        self.error: BaseException | None = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def start(self, on_done: Callable[[], None]) -> None:
        """Open the runtime on a thread, then call ``on_done`` (from that thread; it must not block)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, args=(on_done,), name="hks-open-runtime", daemon=True
            )
            self._thread.start()

    def _run(self, on_done: Callable[[], None]) -> None:
        try:
            self.runtime = self._open()
        except BaseException as exc:  # handed to the CLI, which prints it as one line
            self.error = exc
        try:
            on_done()
        except RuntimeError:  # the app's event loop has already closed: finish() picks the result up
            pass

    def finish(self) -> Any:
        """Wait for a started opening to end; the opened runtime (or None). Call after the app exits."""
        thread = self._thread
        if thread is not None:
            thread.join()
        return self.runtime
