"""English rendering of a cron schedule ("every day at 02:00", "every Monday at 03:30")."""

from __future__ import annotations

from typing import Any

from hks_tui.validation.cron import DAY_NAMES, MONTH_NAMES, CronSchedule, parse_cron


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _runs(values: frozenset[int]) -> list[tuple[int, int]]:
    ordered = sorted(values)
    runs: list[tuple[int, int]] = []
    for value in ordered:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _names(values: frozenset[int], names: tuple[str, ...], base: int) -> str:
    parts = []
    for low, high in _runs(values):
        if high - low >= 2:
            parts.append(f"{names[low - base]} through {names[high - base]}")
        else:
            parts.extend(names[v - base] for v in range(low, high + 1))
    return _join(parts)


def _step(token: str) -> int | None:
    """``*/n`` → n; otherwise None."""
    if token.startswith("*/"):
        return int(token[2:])
    return None


def _numbers(values: frozenset[int]) -> str:
    parts = [f"{a}" if a == b else f"{a}–{b}" if b - a >= 2 else f"{a} and {b}" for a, b in _runs(values)]
    return _join(parts)


def _day_phrase(s: CronSchedule) -> str:
    dom, month, dow = s.fields[2], s.fields[3], s.fields[4]
    months = "" if month == "*" else _names(s.months, MONTH_NAMES, 1)
    in_months = f" in {months}" if months else ""
    weekdays = _names(s.weekdays, DAY_NAMES, 0)
    if dom == "*" and dow == "*":
        return f"every day{in_months}"
    if dom == "*":
        return f"every {weekdays}{in_months}"
    step = _step(dom)
    days = f"every {_ordinal(step)} day" if step else f"on day {_numbers(s.days)}"
    of = f" of {months}" if months else " of every month"
    if dow == "*":
        return f"{days}{of}"
    return f"{days}{of} or every {weekdays}{in_months}"


def _hours_phrase(s: CronSchedule) -> str:
    token = s.fields[1]
    if token == "*":
        return "every hour"
    step = _step(token)
    if step:
        return f"every {_ordinal(step)} hour" if step != 1 else "every hour"
    return "hour " + _numbers(s.hours) if len(s.hours) == 1 else "hours " + _numbers(s.hours)


def describe_cron(value: Any) -> str:
    """A one-line English description of a schedule (times are in the CronJob's time zone)."""
    s = value if isinstance(value, CronSchedule) else parse_cron(value)
    minute, hour = s.fields[0], s.fields[1]
    day = _day_phrase(s)
    day_restricted = day != "every day"
    fixed_minutes = "*" not in minute and "/" not in minute
    fixed_hours = "*" not in hour and "/" not in hour
    if fixed_minutes and fixed_hours and len(s.minutes) * len(s.hours) <= 6:
        times = [f"{h:02d}:{m:02d}" for h in sorted(s.hours) for m in sorted(s.minutes)]
        return f"{day} at {_join(times)}"
    if fixed_minutes:
        minutes = f"minute {_numbers(s.minutes)}" if len(s.minutes) == 1 else f"minutes {_numbers(s.minutes)}"
        text = f"at {minutes} past {_hours_phrase(s)}"
    else:
        step = _step(minute)
        if minute == "*":
            text = "every minute"
        elif step:
            text = f"every {step} minutes"
        else:
            text = f"at minutes {_numbers(s.minutes)} of every hour"
        if hour != "*":
            text += f" during {_hours_phrase(s)}" if not _step(hour) else f", {_hours_phrase(s)}"
    return f"{text}, {day}" if day_restricted else text
