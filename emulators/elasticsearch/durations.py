"""Elasticsearch time values (`TimeValue.parseTimeValue`): `30s`, `1d`, `12h`, `-1`."""

from __future__ import annotations

from .errors import EsError, illegal_argument, parse_error

_UNITS_MS = {"nanos": 1e-6, "micros": 1e-3, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_millis(value: str, setting: str) -> int:
    """Milliseconds of a time value; `-1` is -1. Raises ES's own errors for a bad value."""
    normalized = value.strip().lower()
    if normalized in ("-1", "0"):
        return int(normalized)
    for unit in sorted(_UNITS_MS, key=len, reverse=True):
        if normalized.endswith(unit):
            number = normalized[: -len(unit)].strip()
            return int(_number(number, value, setting) * _UNITS_MS[unit])
    raise parse_error(
        f"failed to parse setting [{setting}] with value [{value}] as a time value: unit is missing or unrecognized"
    )


def _number(text: str, original: str, setting: str) -> int:
    try:
        number = int(text)
    except ValueError:
        try:
            float(text)
        except ValueError:
            raise parse_error(f"failed to parse [{original}]") from None
        raise parse_error(f"failed to parse [{original}], fractional time values are not supported") from None
    if number < -1:
        raise illegal_argument(
            f"failed to parse setting [{setting}] with value [{original}] as a time value: negative durations are not supported"
        )
    return number


def is_time_value(value: str, setting: str) -> EsError | None:
    """The error a time-value setting would raise for `value`, or None when it parses."""
    try:
        parse_millis(value, setting)
    except EsError as error:
        return error
    return None
