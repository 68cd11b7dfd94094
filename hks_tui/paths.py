"""Where HKS TUI keeps its files (XDG base directories).

* configuration: ``$XDG_CONFIG_HOME/hks-tui/config.toml`` (default ``~/.config``);
* data (the SQLite state): ``$HKS_DATA_DIR``, else ``$XDG_DATA_HOME/hks-tui`` (default ``~/.local/share``).

Nothing here creates directories; callers that write create them.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR_NAME = "hks-tui"
CONFIG_FILE_NAME = "config.toml"
DB_FILE_NAME = "hks.db"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "").strip()
    # The XDG spec says relative paths are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/hks-tui``."""
    return _xdg("XDG_CONFIG_HOME", ".config") / APP_DIR_NAME


def config_file() -> Path:
    """``$XDG_CONFIG_HOME/hks-tui/config.toml``."""
    return config_dir() / CONFIG_FILE_NAME


def data_dir() -> Path:
    """``$HKS_DATA_DIR`` if set, else ``$XDG_DATA_HOME/hks-tui``."""
    override = os.environ.get("HKS_DATA_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    return _xdg("XDG_DATA_HOME", ".local/share") / APP_DIR_NAME


_default_data_dir = data_dir


def db_path(data_dir: Path | None = None) -> Path:
    """The SQLite state file inside ``data_dir`` (default: :func:`data_dir`)."""
    base = data_dir if data_dir is not None else _default_data_dir()
    return Path(base).expanduser() / DB_FILE_NAME
