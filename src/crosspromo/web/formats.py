"""Numbers as a manager reads them, for every template: money with its currency and grouping,
rates as percentages, counts with thousands separators (babel, English by default)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment

from crosspromo.domain.money import minor_per_major, money_text

LOCALE = "en"
DASH = "—"


def money(minor: int | float | None, currency: str | None) -> str:
    """An amount in minor units (1701 EUR cents → €17.01); a dash when there is none."""
    if minor is None:
        return DASH
    if not currency:
        return number(minor)
    if isinstance(minor, int):
        return money_text(minor, currency)
    major = Decimal(str(minor)) / minor_per_major(currency)
    return format_currency(major, currency, locale=LOCALE)


def major(amount: float | None, currency: str | None) -> str:
    """An amount already in major units (a mean, a fitted value), rounded to the currency."""
    if amount is None:
        return DASH
    if not currency:
        return number(amount, 2)
    return format_currency(Decimal(repr(float(amount))), currency, locale=LOCALE)


def percent(rate: float | None, digits: int = 1) -> str:
    """A rate as a percentage (0.2553 → 25.5%)."""
    if rate is None:
        return DASH
    return format_percent(rate, f"#,##0.{'0' * digits}%" if digits else "#,##0%", locale=LOCALE)


def number(value: int | float | None, digits: int = 0) -> str:
    """A count or a measure with grouping (1560.0 → 1,560)."""
    if value is None:
        return DASH
    pattern = f"#,##0.{'0' * digits}" if digits else "#,##0"
    return format_decimal(value, pattern, locale=LOCALE)


def install(env: Environment) -> None:
    env.filters.update(money=money, major=major, percent=percent, number=number)
