"""When events may happen, and times as files and requests give them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from crosspromo.domain.text import digits
from crosspromo.errors import InvalidInputError

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def aware_time(raw: Any, *, bounded: bool = True) -> datetime:
    """``raw`` (a datetime, or ISO 8601 text) as an aware UTC datetime; ``bounded``: between
    EARLIEST and LATEST. A ValueError says what is wrong with it."""
    if isinstance(raw, datetime):
        moment = raw
    else:
        try:
            moment = datetime.fromisoformat("" if raw is None else str(raw).strip())
        except ValueError:
            raise ValueError(f"{raw!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2026-03-01T12:00:00Z")
    if bounded and not EARLIEST <= moment <= LATEST:
        raise ValueError("must lie between 2000-01-01 and 2100-01-01")
    return moment.astimezone(UTC)


def parse_date(text: str | None, field: str) -> date | None:
    """``YYYY-MM-DD`` (1900 to 2100) as a date, or a clear error naming ``field``."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        message = f"{field} {text!r} is not a date (YYYY-MM-DD)"
        raise InvalidInputError(message, field=field) from None
    if not date(1900, 1, 1) <= day <= date(2100, 1, 1):
        raise InvalidInputError(f"{field} {day} must lie between 1900 and 2100", field=field)
    return day


def parse_day(text: str | None, field: str) -> date:
    """A day that must be given: ``parse_date``, with an empty value refused by name."""
    day = parse_date(text or None, field)
    if day is None:
        raise InvalidInputError(f"{field} is a day, YYYY-MM-DD", field=field)
    return day


def parse_month(text: str, field: str = "month") -> date:
    """``YYYY-MM`` (years 1900 to 2099) as the month's first day, or a clear error."""
    raw = str(text).strip()
    if len(raw) != 7 or raw[4] != "-" or not digits(raw[:4] + raw[5:]):
        raise InvalidInputError(f"{field} {text!r} is not YYYY-MM", field=field)
    year, month = int(raw[:4]), int(raw[5:])
    if not 1900 <= year <= 2099 or not 1 <= month <= 12:
        raise InvalidInputError(
            f"{field} {text!r} is not a month between 1900 and 2099", field=field
        )
    return date(year, month, 1)


def today() -> date:
    """Today in UTC."""
    return datetime.now(UTC).date()


def checked_day(as_of: date | None, field: str = "as_of") -> date:
    """``as_of`` (today when None), refused when it is in the future."""
    now = today()
    if as_of is None:
        return now
    if as_of > now:
        raise InvalidInputError(f"as of {as_of} is in the future (today is {now})", field=field)
    return as_of


def end_of(day: date) -> datetime:
    """The first moment after ``day`` (UTC): what occurred before it counts as of that day."""
    return datetime.combine(day + timedelta(days=1), time(), UTC)
