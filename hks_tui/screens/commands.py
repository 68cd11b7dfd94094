"""The k9s-style ``:`` command line: parsing, the command table, and completion.

Parsing is pure (no widgets) so it is easy to test; the app executes the parsed :class:`Command`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from textual.suggester import Suggester


@dataclass(frozen=True)
class CommandSpec:
    """One command of the command line."""

    name: str
    aliases: tuple[str, ...]
    help: str
    takes_argument: bool = False
    argument_hint: str = ""


# Only commands whose feature exists are listed; later issues add nodes/apps/storage/alerts.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("overview", ("ov", "quota"), "Node Overview: usage by plan and quota warnings"),
    CommandSpec("nodes", ("node", "no"), "The dedicated node list and node actions"),
    CommandSpec("home", ("ws-info", "workspace"), "Workspace facts and backend health"),
    CommandSpec("audit", ("au",), "The audit log of every mutating call"),
    CommandSpec("workflows", ("wf",), "Every workflow: status, progress, resume and cancel"),
    CommandSpec("ws", ("ctx",), "Switch workspace (no name: open the picker)", True, "NAME"),
    CommandSpec(
        "ns", ("project", "proj"), "Pick the project (namespace); * = all; no name: picker", True, "NAME|*"
    ),
    CommandSpec("health", ("backends",), "Backend health details"),
    CommandSpec("theme", (), "Switch theme: dark or light (no argument: toggle)", True, "dark|light"),
    CommandSpec("help", ("h",), "List the key bindings of this screen"),
    CommandSpec("q", ("quit", "q!"), "Quit the console"),
)


@dataclass(frozen=True)
class Command:
    """A parsed command line: the canonical command name and its optional argument."""

    name: str
    argument: str | None = None


class CommandError(ValueError):
    """The command line could not be understood; ``str()`` is the message for the user."""


def _lookup() -> dict[str, CommandSpec]:
    table: dict[str, CommandSpec] = {}
    for spec in COMMANDS:
        table[spec.name] = spec
        for alias in spec.aliases:
            table[alias] = spec
    return table


def parse_command(text: str) -> Command:
    """Parse ``text`` (with or without the leading ``:``) into a :class:`Command`."""
    line = text.strip().removeprefix(":").strip()
    if not line:
        raise CommandError("Empty command — type a command such as :home, :audit, :ws NAME or :q")
    word, _, rest = line.partition(" ")
    spec = _lookup().get(word.lower())
    if spec is None:
        known = ", ".join(f":{c.name}" for c in COMMANDS)
        raise CommandError(f"Unknown command ':{word}' — known commands: {known}")
    argument = rest.strip() or None
    if argument is not None and not spec.takes_argument:
        raise CommandError(f":{spec.name} takes no argument (got {argument!r})")
    return Command(spec.name, argument)


def completions(text: str, arguments: Callable[[str], Iterable[str]] | None = None) -> list[str]:
    """Full command lines that complete ``text`` (without ``:``), best first.

    ``arguments(command)`` yields the known arguments of a command (e.g. workspace names for ``ws``).
    """
    line = text.lstrip(":")
    if " " not in line:
        prefix = line.lower()
        names = [c.name for c in COMMANDS] + [a for c in COMMANDS for a in c.aliases]
        return [n for n in names if n.startswith(prefix) and n != prefix] if prefix else []
    word, _, partial = line.partition(" ")
    spec = _lookup().get(word.lower())
    if spec is None or not spec.takes_argument or arguments is None:
        return []
    return [f"{word} {arg}" for arg in arguments(spec.name) if arg.startswith(partial) and arg != partial]


class CommandSuggester(Suggester):
    """Inline completion for the command line; argument values come from the app's known lists."""

    def __init__(self, arguments: Callable[[str], Iterable[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._arguments = arguments

    async def get_suggestion(self, value: str) -> str | None:
        found = completions(value, self._arguments)
        return found[0] if found else None
