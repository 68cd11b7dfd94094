"""Messages shared between the shell's screens and the app (workers post these; handlers update widgets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class HealthUpdated(Message):
    """A fresh health result for every backend (``HealthState`` objects)."""

    states: list[Any] = field(default_factory=list)


@dataclass
class WorkspacesLoaded(Message):
    """The workspaces the console can switch between (``Workspace`` objects)."""

    workspaces: list[Any] = field(default_factory=list)
