"""Cron schedules: strict parsing, English rendering table, next runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hks_tui.validation import ValidationProblem, describe_cron, next_runs, parse_cron, validate_cron

RENDERINGS = [
    ("0 2 * * *", "every day at 02:00"),
    ("15 * * * *", "at minute 15 past every hour"),
    ("30 3 * * 1", "every Monday at 03:30"),
    ("30 3 * * MON", "every Monday at 03:30"),
    ("@hourly", "at minute 0 past every hour"),
    ("@daily", "every day at 00:00"),
    ("@midnight", "every day at 00:00"),
    ("@weekly", "every Sunday at 00:00"),
    ("@monthly", "on day 1 of every month at 00:00"),
    ("@yearly", "on day 1 of January at 00:00"),
    ("@annually", "on day 1 of January at 00:00"),
    ("* * * * *", "every minute"),
    ("*/5 * * * *", "every 5 minutes"),
    ("0 */2 * * *", "at minute 0 past every 2nd hour"),
    ("0 9-17 * * 1-5", "at minute 0 past hours 9–17, every Monday through Friday"),
    ("*/10 9-17 * * mon-fri", "every 10 minutes during hours 9–17, every Monday through Friday"),
    ("0 0 1,15 * *", "on day 1 and 15 of every month at 00:00"),
    ("0 2 * 1,7 *", "every day in January and July at 02:00"),
    ("0 6,18 * * *", "every day at 06:00 and 18:00"),
    ("0 4 * * 6,0", "every Sunday and Saturday at 04:00"),
    ("0 1 1 * 1", "on day 1 of every month or every Monday at 01:00"),
    ("0 0 ? * *", "every day at 00:00"),
]


@pytest.mark.parametrize(("expr", "english"), RENDERINGS)
def test_rendering_table(expr: str, english: str) -> None:
    assert describe_cron(expr) == english


@pytest.mark.parametrize(
    ("expr", "field_name", "rule"),
    [
        ("61 * * * *", "minute value 61 is out of range 0–59", "cron-range"),
        ("* 24 * * *", "hour value 24 is out of range 0–23", "cron-range"),
        ("0 0 0 * *", "day of month value 0 is out of range 1–31", "cron-range"),
        ("0 0 0 0 *", "day of month value 0", "cron-range"),
        ("0 0 * 13 *", "month value 13 is out of range 1–12", "cron-range"),
        ("0 0 * * 7", "day of week value 7 is out of range 0–6", "cron-range"),
        ("5-1 * * * *", "minute range 5-1 starts after it ends", "cron-range"),
        ("*/0 * * * *", "minute step '0'", "cron-step"),
        ("*/61 * * * *", "minute step 61 is larger", "cron-step"),
        ("0 0 * * funday", "day of week value 'funday' is not a number", "cron-value"),
        ("0,,1 * * * *", "empty item", "cron-syntax"),
        ("? * * * *", "'?' is only allowed", "cron-syntax"),
    ],
)
def test_refusals_name_field_and_range(expr: str, field_name: str, rule: str) -> None:
    with pytest.raises(ValidationProblem) as info:
        validate_cron(expr)
    assert field_name in info.value.message
    assert info.value.rule == rule
    assert info.value.field == "schedule"


@pytest.mark.parametrize(
    "expr", ["* * * *", "* * * * * *", "0 0 * * * 2026", "", "@every 5m", "@reboot", "@often"]
)
def test_field_count_and_macros(expr: str) -> None:
    with pytest.raises(ValidationProblem) as info:
        validate_cron(expr)
    if expr.startswith("@every"):
        assert "@every is not supported" in info.value.message
    if expr.count(" ") >= 3:
        assert "5 fields" in info.value.message


def test_never_running_schedule_refused() -> None:
    with pytest.raises(ValidationProblem, match="never runs"):
        validate_cron("0 0 31 2 *")
    assert validate_cron("0 0 29 2 *") == "0 0 29 2 *"
    assert validate_cron("0 0 31 2 1")  # OR-ed with Mondays: it runs


def test_normalisation_and_sets() -> None:
    assert validate_cron("  0   2 *  * * ") == "0 2 * * *"
    assert validate_cron("@DAILY") == "@daily"
    schedule = parse_cron("0-10/5 1,2 * jan-mar sun")
    assert schedule.minutes == frozenset({0, 5, 10})
    assert schedule.months == frozenset({1, 2, 3})
    assert schedule.weekdays == frozenset({0})
    assert schedule.numeric == "0-10/5 1,2 * 1-3 0"


def test_next_runs() -> None:
    start = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert next_runs("0 2 * * *", 3, start=start) == [
        datetime(2026, 11, 22, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
    ]
    mondays = next_runs("30 3 * * mon", 2, start=start)
    assert [d.weekday() for d in mondays] == [0, 0]
    assert mondays[1] - mondays[0] == timedelta(days=7)
    assert next_runs("@monthly", 1, start=start) == [datetime(2026, 12, 1, tzinfo=UTC)]
    naive = next_runs("*/15 * * * *", 2, start=datetime(2026, 1, 1, 0, 1))
    assert naive[0] == datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
    tokyo = timezone(timedelta(hours=9))
    local = next_runs("0 2 * * *", 1, start=datetime(2026, 1, 1, 3, 0, tzinfo=tokyo))
    assert local[0] == datetime(2026, 1, 2, 2, 0, tzinfo=tokyo)
