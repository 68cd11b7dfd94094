"""Runtime bootstrap: settings → profile (or a lab) → store → services.

Three ways to get backends, in this order:

1. ``--lab-dir DIR``: connect to a lab started with ``hks-tui lab --state-dir DIR`` (reads ``lab.json``);
2. a configured profile (``--profile``, the default profile, the only profile, or the one whose
   workspace is ``--workspace``);
3. nothing configured (or a broken configuration file): start the **embedded lab** in-process on a
   temporary state dir. A configuration error is carried in ``Runtime.config_error`` so the console can
   name the file, line and problem.

Setup failures the user can act on raise :class:`~hks_tui.clients.errors.HksError` (or the store's
``StoreError``); the CLI prints them as one line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hks_tui import paths
from hks_tui.clients.errors import HksError
from hks_tui.config import ConfigError, Settings, load_settings, profile_from_lab
from hks_tui.services import Services
from hks_tui.services.workspaces import WorkspaceRef, ref_from_profile, refs_from_lab, refs_from_settings

log = logging.getLogger(__name__)

EMBEDDED_LAB_TIME_SCALE = 1.0


@dataclass(frozen=True)
class RuntimeOptions:
    profile: str | None = None
    lab_dir: Path | None = None
    data_dir: Path | None = None
    readonly: bool = False
    workspace: str | None = None
    insecure: bool = False
    config_path: Path | None = None
    #: seed and clock of the embedded lab (only used when nothing is configured)
    lab_seed: str = "demo"
    lab_time_scale: float = EMBEDDED_LAB_TIME_SCALE


@dataclass
class Runtime:
    settings: Settings
    profile: Any  # hks_tui.config.Profile
    store: Any  # hks_tui.store.Store
    services: Services
    lab: Any = None  # hks_tui.lab.server.RunningLab when the lab is embedded
    is_lab: bool = False
    readonly: bool = False
    insecure: bool = False
    config_error: ConfigError | None = None
    workspace: str = ""
    lab_info: dict[str, Any] | None = None
    options: RuntimeOptions = field(default_factory=RuntimeOptions)
    _temp_dir: Path | None = None
    _closed: bool = False

    @property
    def workspace_names(self) -> list[str]:
        return sorted(self.services.workspaces.refs)

    def profile_for(self, workspace: str) -> Any:
        """The profile to use for ``workspace`` (lab-derived or configured); HksError if unknown."""
        if self.lab_info is not None:
            try:
                return profile_from_lab(self.lab_info, workspace)
            except ConfigError as exc:
                raise HksError(f"Switch to workspace {workspace}", exc.problem) from None
        for profile in self.settings.profiles.values():
            if profile.workspace == workspace:
                return profile
        raise HksError(
            f"Switch to workspace {workspace}",
            f"no profile is configured for it (known: {', '.join(self.workspace_names) or 'none'})",
            "Add a profile for it to the configuration file.",
        )

    async def switch_workspace(self, name: str) -> None:
        """Rebuild the services for another workspace (same store, same lab)."""
        if name == self.workspace:
            return
        profile = self.profile_for(name)
        old = self.services
        refs = list(old.workspaces.refs.values())
        self.services = _build_services(self, profile, refs)
        self.profile = profile
        self.workspace = name
        await asyncio.to_thread(old.close)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for step in (self.services.close, self.store.close):
            try:
                step()
            except Exception as exc:
                log.warning("error while closing the runtime: %s", exc)
        if self.lab is not None:
            try:
                self.lab.stop()
            except Exception as exc:
                log.warning("error while stopping the embedded lab: %s", exc)
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _build_services(runtime: Runtime, profile: Any, refs: list[WorkspaceRef]) -> Services:
    services = Services.build(
        profile=profile,
        store=runtime.store,
        workspaces=refs,
        readonly=runtime.readonly,
        insecure=runtime.insecure,
    )
    # Quota thresholds and the instance-type catalog (prices) come from the settings.
    services.quota.configure(runtime.settings)
    services.storage_price_gib_month = float(runtime.settings.storage_price_gib_month)
    return services


def _load_settings(options: RuntimeOptions) -> tuple[Settings, ConfigError | None]:
    try:
        return load_settings(options.config_path), None
    except ConfigError as err:
        try:
            settings = Settings()
        except Exception:
            settings = Settings.model_construct()
        return settings, err


def read_lab_info(lab_dir: Path) -> dict[str, Any]:
    file = Path(lab_dir).expanduser() / "lab.json"
    try:
        info = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HksError(
            f"Connect to the lab in {lab_dir}",
            f"{file} does not exist",
            f"Start one with `hks-tui lab --state-dir {lab_dir}` (it writes lab.json once it answers).",
        ) from None
    except (OSError, ValueError) as exc:
        raise HksError(f"Connect to the lab in {lab_dir}", f"cannot read {file}: {exc}") from None
    if not isinstance(info, dict) or "proxmox" not in info or "kubeconfig" not in info:
        raise HksError(f"Connect to the lab in {lab_dir}", f"{file} is not a lab.json file")
    info.setdefault("state_dir", str(Path(lab_dir).expanduser()))
    return info


def _lab_workspace(info: dict[str, Any], wanted: str | None) -> str:
    names = list((info.get("vcluster_contexts") or {}).keys())
    if not names:
        raise HksError("Open the lab", "the lab reports no workspace (vCluster)")
    if wanted is None:
        return names[0]
    if wanted not in names:
        raise HksError(
            f"Open workspace {wanted}",
            f"the lab has no such workspace (known: {', '.join(names)})",
            "Pick one of the known workspaces with --workspace.",
        )
    return wanted


def _configured_profile(settings: Settings, options: RuntimeOptions) -> Any | None:
    profiles = settings.profiles
    if options.profile is not None:
        profile = profiles.get(options.profile)
        if profile is None:
            raise HksError(
                f"Use profile {options.profile}",
                f"no such profile (configured: {', '.join(sorted(profiles)) or 'none'})",
                "Run `hks-tui config` to see the configured profiles.",
            )
        return profile
    if not profiles:
        return None
    if options.workspace is not None:
        for profile in profiles.values():
            if profile.workspace == options.workspace:
                return profile
        raise HksError(
            f"Open workspace {options.workspace}",
            "no configured profile is for that workspace",
            "Run `hks-tui config` to see the configured profiles.",
        )
    profile = settings.profile()
    if profile is None:
        raise HksError(
            "Pick a profile",
            f"several profiles are configured ({', '.join(sorted(profiles))}) and none is the default",
            "Pass --profile NAME or set default_profile in the configuration file.",
        )
    return profile


def open_runtime(options: RuntimeOptions) -> Runtime:
    """Build the runtime for ``options`` (see the module docstring)."""
    from hks_tui.store import Store

    settings, config_error = _load_settings(options)
    lab: Any = None
    lab_info: dict[str, Any] | None = None
    temp_dir: Path | None = None
    profile: Any = None
    refs: list[WorkspaceRef]

    if options.lab_dir is not None:
        lab_info = read_lab_info(options.lab_dir)
    else:
        profile = _configured_profile(settings, options) if config_error is None else None
        if profile is None and options.profile is not None:
            raise HksError(
                f"Use profile {options.profile}",
                f"the configuration could not be loaded ({config_error})",
                "Fix the file or run `hks-tui config init`.",
            )
        if profile is None:
            from hks_tui.lab.server import start_lab_in_thread

            temp_dir = Path(tempfile.mkdtemp(prefix="hks-lab-"))
            try:
                lab = start_lab_in_thread(
                    state_dir=temp_dir / "lab", seed=options.lab_seed, time_scale=options.lab_time_scale
                )
            except BaseException:
                shutil.rmtree(temp_dir, ignore_errors=True)
                raise
            lab_info = dict(lab.info)
            lab_info.setdefault("state_dir", str(temp_dir / "lab"))

    try:
        if lab_info is not None:
            workspace = _lab_workspace(lab_info, options.workspace)
            try:
                profile = profile_from_lab(lab_info, workspace)
            except ConfigError as exc:
                raise HksError("Open the lab", str(exc)) from None
            refs = refs_from_lab(lab_info)
        else:
            workspace = profile.workspace
            refs = refs_from_settings(settings) or [ref_from_profile(profile)]

        if options.data_dir is not None:
            data_dir = Path(options.data_dir).expanduser()
        elif temp_dir is not None and not os.environ.get("HKS_DATA_DIR", "").strip():
            data_dir = temp_dir / "data"  # an embedded lab's journal and audit die with it
        else:
            data_dir = paths.data_dir()
        store = Store.open(paths.db_path(data_dir))
    except BaseException:
        if lab is not None:
            lab.stop()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise

    insecure = bool(options.insecure or getattr(profile.proxmox, "insecure", False))
    runtime = Runtime(
        settings=settings,
        profile=profile,
        store=store,
        services=None,  # type: ignore[arg-type]  # set right below
        lab=lab,
        is_lab=lab_info is not None or bool(getattr(profile, "is_lab", False)),
        readonly=options.readonly,
        insecure=insecure,
        config_error=config_error,
        workspace=workspace,
        lab_info=lab_info,
        options=options,
        _temp_dir=temp_dir,
    )
    runtime.services = _build_services(runtime, profile, refs)
    return runtime
