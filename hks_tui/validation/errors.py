"""The one error every validator raises: what field, what value, which rule, and the rule in words."""

from __future__ import annotations

from typing import Any


class ValidationProblem(ValueError):
    """A value broke an input rule.

    ``field`` names the input (``"name"``, ``"schedule"``…), ``rule`` is a short machine-readable rule id
    (``"dns1123-label"``, ``"cron-range"``…), ``message`` states the rule in plain English so the UI can
    show it beside the field unchanged. It subclasses :class:`ValueError` so pydantic field validators
    turn it into a normal ``ValidationError``.
    """

    def __init__(self, field: str, value: Any, rule: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.rule = rule
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ValidationProblem(field={self.field!r}, value={self.value!r}, rule={self.rule!r}, message={self.message!r})"


def require_text(value: Any, field: str, *, strip: bool = True) -> str:
    """``value`` as a string (whitespace-stripped), or a ValidationProblem if it is not text or is empty."""
    if not isinstance(value, str):
        raise ValidationProblem(field, value, "type", f"{field} must be text")
    text = value.strip() if strip else value
    if not text:
        raise ValidationProblem(field, value, "required", f"{field} is required")
    return text
