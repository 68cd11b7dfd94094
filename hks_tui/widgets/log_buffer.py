"""The data side of :class:`~hks_tui.widgets.log_view.LogView` (no Textual here).

* :class:`IngestQueue` — what producers write to (from any thread): a bounded deque; lines that arrive
  while it is full are dropped *and counted*, so the view can say "N lines dropped".
* :class:`LogLines` — the ring buffer of entries (``deque(maxlen)``) and the derived display lines
  (filtered by the search text, JSON optionally pretty-printed), kept in step incrementally.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Iterable
from operator import itemgetter
from typing import Literal

Level = Literal["error", "warn", "info", "debug", "none"]

_LEVEL_RE = re.compile(
    r"\b(FATAL|PANIC|CRIT(?:ICAL)?|ERROR|ERR|E\d{4}|WARN(?:ING)?|W\d{4}|INFO|I\d{4}|DEBUG|TRACE)\b", re.I
)
_LEVEL_WORDS: dict[str, Level] = {
    "fatal": "error",
    "panic": "error",
    "crit": "error",
    "critical": "error",
    "error": "error",
    "err": "error",
    "warn": "warn",
    "warning": "warn",
    "info": "info",
    "debug": "debug",
    "trace": "debug",
}
_KLOG: dict[str, Level] = {"e": "error", "w": "warn", "i": "info"}


def detect_level(line: str) -> Level:
    """Level of a log line: a JSON ``level``/``severity`` field, a klog prefix, or a level word early on."""
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            for field in ("level", "lvl", "severity", "levelname"):
                value = record.get(field)
                if isinstance(value, str):
                    return _LEVEL_WORDS.get(value.lower(), "none")
    match = _LEVEL_RE.search(line, 0, 120)
    if match is None:
        return "none"
    word = match.group(1).lower()
    if word[0] in _KLOG and word[1:].isdigit():
        return _KLOG[word[0]]
    return _LEVEL_WORDS.get(word, "none")


def pretty_json(line: str) -> list[str] | None:
    """The line as indented JSON when it is a JSON object or array, else ``None``."""
    if not line.startswith(("{", "[")):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict | list):
        return None
    return json.dumps(record, indent=2, ensure_ascii=False).splitlines()


class IngestQueue:
    """Bounded, thread-safe hand-off from producers to the UI flusher."""

    def __init__(self, max_pending: int = 20_000) -> None:
        self._pending: deque[str] = deque()
        self._lock = threading.Lock()
        self.max_pending = max_pending
        self.dropped = 0

    def put(self, lines: Iterable[str]) -> None:
        """Queue ``lines`` (any iterable; one list conversion, then C-level extends: no per-line Python)."""
        batch = lines if isinstance(lines, list) else list(lines)
        with self._lock:
            room = self.max_pending - len(self._pending)
            if len(batch) <= room:
                self._pending.extend(batch)
            else:
                room = max(0, room)
                self._pending.extend(batch[:room])
                self.dropped += len(batch) - room

    def drain(self) -> list[str]:
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
        return batch

    def __len__(self) -> int:
        return len(self._pending)


class LogLines:
    """Ring buffer of entries and the display lines derived from them.

    ``display`` items are ``(text, level)``; ``level`` is ``None`` until someone needs it (the renderer
    asks :meth:`line` for the rows on screen only), so ingest costs no per-line regex. Pretty-printed
    JSON lines carry their entry's level explicitly.
    """

    def __init__(self, max_lines: int = 10_000) -> None:
        self.entries: deque[str] = deque(maxlen=max_lines)
        self.counts: deque[int] = deque(maxlen=max_lines)  # display lines per entry
        self.display: list[tuple[str, Level | None]] = []
        self.evicted = 0
        self.search = ""
        self.pretty = False
        self.width = 0

    @property
    def max_lines(self) -> int:
        return self.entries.maxlen or 0

    def line(self, index: int) -> tuple[str, Level]:
        """Display line ``index`` with its level resolved."""
        text, level = self.display[index]
        return text, detect_level(text) if level is None else level

    def _expand(self, texts: list[str]) -> tuple[list[tuple[str, Level | None]], list[int] | None]:
        """Display lines for ``texts`` and how many each entry produced (0 when filtered out);
        ``None`` for "one each" (no search, no pretty-print: built without a per-line Python loop)."""
        needle = self.search
        if not needle and not self.pretty:
            return list(zip(texts, itertools.repeat(None))), None
        shown: list[tuple[str, Level | None]] = []
        counts: list[int] = []
        for text in texts:
            if needle and needle not in text.lower():
                counts.append(0)
                continue
            pretty = pretty_json(text) if self.pretty else None
            if pretty is None:
                shown.append((text, None))
                counts.append(1)
            else:
                level = detect_level(text)
                shown.extend((line, level) for line in pretty)
                counts.append(len(pretty))
        return shown, counts

    def add(self, lines: Iterable[str]) -> int:
        """Append raw lines; returns how many display lines were added."""
        incoming = normalize(lines)
        limit = self.max_lines
        if len(incoming) > limit:
            self.evicted += len(incoming) - limit
            incoming = incoming[-limit:]
        overflow = max(0, len(self.entries) + len(incoming) - limit)
        if overflow:
            self.evicted += overflow
            gone = sum(itertools.islice(self.counts, overflow))
            del self.display[:gone]
        shown, counts = self._expand(incoming)
        self.entries.extend(incoming)
        self.counts.extend(itertools.repeat(1, len(incoming)) if counts is None else counts)
        if shown:
            self.display.extend(shown)
            if counts is None:
                self.width = max(self.width, max(map(len, incoming)))
            else:
                self.width = max(self.width, max(map(len, map(_TEXT, shown))))
        return len(shown)

    def rebuild(self) -> None:
        """Recompute the display lines after the search text or the pretty toggle changed."""
        shown, counts = self._expand(list(self.entries))
        self.display = shown
        self.counts.clear()
        self.counts.extend(itertools.repeat(1, len(shown)) if counts is None else counts)
        self.width = max(map(len, map(_TEXT, shown)), default=0)

    def clear(self) -> None:
        self.entries.clear()
        self.counts.clear()
        self.display = []
        self.width = 0


def normalize(lines: Iterable[str]) -> list[str]:
    """Lines as stored: trailing CR/LF removed, embedded line breaks split, tabs expanded.

    The common case (no CR, LF or tab anywhere in the batch) is detected with C-level scans of the
    joined batch and costs no per-line Python work.
    """
    batch = lines if isinstance(lines, list) else list(lines)
    joined = "".join(batch)
    if "\n" not in joined and "\r" not in joined and "\t" not in joined:
        return batch
    out: list[str] = []
    for line in batch:
        line = line.rstrip("\r\n")
        if "\n" in line or "\r" in line:
            out.extend(part.expandtabs(4) for part in line.splitlines())
        else:
            out.append(line.expandtabs(4) if "\t" in line else line)
    return out


_TEXT = itemgetter(0)
