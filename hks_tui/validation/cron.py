"""CronJob schedules: strict validation, an English rendering, and the next run times.

Kubernetes' ``.spec.schedule`` takes exactly 5 fields (minute hour day-of-month month day-of-week,
day-of-week 0–6 or sun–sat), ``*``, ``?`` (= ``*``), ranges ``a-b``, steps ``*/n`` and ``a-b/n``, lists
``a,b``, month and weekday names, or a macro. ``@every`` is a robfig extension the UI refuses.
croniter alone is too lenient (6/7 fields, ``0 0 0 0 *``), so each field is parsed here first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from croniter import croniter

from hks_tui.validation.errors import ValidationProblem, require_text

MACROS: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


FIELDS = (
    CronField("minute", 0, 59),
    CronField("hour", 0, 23),
    CronField("day of month", 1, 31),
    CronField("month", 1, 12, MONTHS, 1),
    CronField("day of week", 0, 6, DAYS, 0),
)
CRON_RULE = (
    "must be 5 fields (minute hour day-of-month month day-of-week) or one of @hourly, @daily, @midnight, "
    "@weekly, @monthly, @yearly, @annually"
)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed schedule: the text as given (normalised) and the value set of each field."""

    text: str
    expanded: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    fields: tuple[str, ...]  # the 5 expanded tokens, '?' turned into '*'

    @property
    def numeric(self) -> str:
        """The schedule with names replaced by numbers (what croniter gets)."""
        return " ".join(self.fields)


def _value(token: str, spec: CronField, field: str, expr: str) -> int:
    lowered = token.lower()
    if spec.names and lowered in spec.names:
        return spec.names.index(lowered) + spec.name_base
    if not token.isdigit() or not token.isascii():
        names = f" or a name ({', '.join(spec.names)})" if spec.names else ""
        raise ValidationProblem(
            field, expr, "cron-value", f"{field}: {spec.name} value {token!r} is not a number{names}"
        )
    number = int(token)
    if not spec.low <= number <= spec.high:
        raise ValidationProblem(
            field,
            expr,
            "cron-range",
            f"{field}: {spec.name} value {number} is out of range {spec.low}–{spec.high}",
        )
    return number


def _parse_field(token: str, spec: CronField, field: str, expr: str) -> tuple[frozenset[int], str]:
    values: set[int] = set()
    numeric_items: list[str] = []
    for item in token.split(","):
        if not item:
            raise ValidationProblem(
                field, expr, "cron-syntax", f"{field}: empty item in the {spec.name} list"
            )
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or not step_text.isascii() or int(step_text) == 0:
                raise ValidationProblem(
                    field, expr, "cron-step", f"{field}: {spec.name} step {step_text!r} must be a number ≥ 1"
                )
            step = int(step_text)
            if step > spec.high - spec.low + 1:
                raise ValidationProblem(
                    field,
                    expr,
                    "cron-step",
                    f"{field}: {spec.name} step {step} is larger than the range {spec.low}–{spec.high}",
                )
        if base in ("*", "?"):
            if base == "?" and spec.name not in ("day of month", "day of week"):
                raise ValidationProblem(
                    field, expr, "cron-syntax", f"{field}: '?' is only allowed in day of month or day of week"
                )
            low, high, base_text = spec.low, spec.high, "*"
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _value(first, spec, field, expr), _value(last, spec, field, expr)
            if low > high:
                raise ValidationProblem(
                    field, expr, "cron-range", f"{field}: {spec.name} range {base} starts after it ends"
                )
            base_text = f"{low}-{high}"
        else:
            low = _value(base, spec, field, expr)
            high = spec.high if slash else low
            base_text = str(low)
        values.update(range(low, high + 1, step))
        numeric_items.append(f"{base_text}/{step}" if slash else base_text)
    return frozenset(values), ",".join(numeric_items)


def parse_cron(value: Any, field: str = "schedule") -> CronSchedule:
    """Parse and strictly validate a schedule; raises ValidationProblem naming the field and the range."""
    text = " ".join(require_text(value, field).split())
    if text.startswith("@"):
        macro = text.lower()
        if macro not in MACROS:
            extra = " (@every is not supported by Kubernetes CronJobs)" if macro.startswith("@every") else ""
            raise ValidationProblem(field, value, "cron-macro", f"{field} {CRON_RULE}{extra}")
        text, expanded = macro, MACROS[macro]
    else:
        expanded = text
    tokens = expanded.split(" ")
    if len(tokens) != 5:
        raise ValidationProblem(
            field, value, "cron-fields", f"{field} has {len(tokens)} field(s) but {CRON_RULE}"
        )
    parsed = [_parse_field(token, spec, field, text) for token, spec in zip(tokens, FIELDS, strict=True)]
    sets = [values for values, _ in parsed]
    schedule = CronSchedule(
        text, expanded, sets[0], sets[1], sets[2], sets[3], sets[4], tuple(numeric for _, numeric in parsed)
    )
    dom_restricted, dow_restricted = tokens[2] not in ("*", "?"), tokens[4] not in ("*", "?")
    if dom_restricted and not dow_restricted:
        longest = max(_DAYS_IN_MONTH[m - 1] for m in schedule.months)
        if min(schedule.days) > longest:
            raise ValidationProblem(
                field,
                value,
                "cron-never",
                f"{field} never runs: no chosen month has day {min(schedule.days)}",
            )
    if not croniter.is_valid(schedule.numeric):
        raise ValidationProblem(field, value, "cron", f"{field} {CRON_RULE}")
    return schedule


def validate_cron(value: Any, field: str = "schedule") -> str:
    """The schedule with whitespace collapsed and macros lower-cased."""
    return parse_cron(value, field).text


def next_runs(value: Any, count: int = 3, *, start: datetime | None = None) -> list[datetime]:
    """The next ``count`` run times after ``start`` (default now), in ``start``'s time zone (UTC if naive)."""
    schedule = parse_cron(value)
    base = start or datetime.now(UTC)
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    iterator = croniter(schedule.numeric, base)
    return [iterator.get_next(datetime) for _ in range(count)]
