"""Commissions owed under an agreement's rules, computed exactly from the credited conversions.

The calculation is a function of everything known: for each conversion and rule it gives the
amount that is owed *now* (its **target**). An engine that has posted lines before posts the
difference (a reversal when negative), so computing again changes nothing and a refund reverses
exactly what it undoes: the sum of a sale's lines always equals the rule applied to the net sale.

- Amounts are integer minor units; a share is ``amount * basis points / 10000`` rounded as the
  terms say (half up, half to even, or down), once per line, in integers only.
- A rule's **period** (its ``cap_period``: month, quarter or year of the conversion's time, UTC)
  scopes its tiers and its cap.
- **Tiers** count the rule's conversions in the period in time order: ``marginal`` gives the
  n-th conversion the tier for n; ``whole_period`` gives every conversion of the period the tier
  the period's count reached.
- A **cap** limits a rule's lines in a period, taken in time order (what a refund frees goes to
  the conversions after it).
- **Recurring**: a sale earns if it is the customer's first credited sale under the terms, or
  within ``recurring_months`` months after it (0: the first only). A sale without a customer
  counts as a first sale.
- **Refunds** reduce the sale they name when they happen within ``clawback_days`` of it; later
  ones change nothing owed. A sale refunded whole owes nothing and counts toward no tier; a flat
  fee on a sale refunded in part shrinks in proportion. Conversions before the terms' start earn
  nothing.
- **Currency**: a share of a sale is in the sale's currency; flat amounts are in the terms'
  currency; a cap (in the terms' currency) limits the lines in that currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

BASIS = 10_000


def share(amount_minor: int, basis_points: int, rounding: str) -> int:
    """``amount_minor * basis_points / 10000`` rounded by ``rounding`` (``half_up``,
    ``half_even`` or ``down``), in integers; the amount is not negative."""
    return part(amount_minor * basis_points, BASIS, rounding)


def part(numerator: int, denominator: int, rounding: str) -> int:
    """``numerator / denominator`` (both not negative, the denominator positive) rounded by
    ``rounding``, in integers only."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("a part is of a non-negative amount over a positive whole")
    whole, rest = divmod(numerator, denominator)
    if rounding == "down" or rest == 0:
        return whole
    if rounding == "half_up":
        return whole + (2 * rest >= denominator)
    if rounding == "half_even":
        return whole + (2 * rest > denominator or (2 * rest == denominator and whole % 2 == 1))
    raise ValueError(f"unknown rounding {rounding!r}")


@dataclass(frozen=True, slots=True)
class Credited:
    """A conversion credited to the partner: ``refund_of`` names the sale a refund undoes."""

    id: int
    kind: str  # lead, sale or refund
    occurred_at: datetime
    amount_minor: int
    currency: str | None
    customer: str | None = None
    refund_of: int | None = None


@dataclass(frozen=True, slots=True)
class Owed:
    """What conversion ``conversion`` owes under rule number ``rule`` now."""

    conversion: int
    rule: int
    amount_minor: int
    currency: str
    period: str


def period_of(moment: datetime, per: str) -> str:
    """The period a time falls in: ``2026-11``, ``2026-Q4`` or ``2026``."""
    if per == "month":
        return f"{moment.year}-{moment.month:02d}"
    if per == "quarter":
        return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
    return str(moment.year)


def owed(commission: Mapping[str, Any], start: date, conversions: Iterable[Credited]) -> list[Owed]:
    """Every (conversion, rule) that owes something under the terms' ``commission`` section
    from ``start`` on, given all the partner's credited conversions known now."""
    items = sorted(conversions, key=lambda c: (c.occurred_at, c.id))
    net = _net_sales(items, int(commission["clawback_days"]))
    earning = [c for c in items if c.kind != "refund" and c.occurred_at.date() >= start]
    first_sale = _first_sales(earning)
    lines: list[Owed] = []
    for number, rule in enumerate(commission["rules"]):
        mine = [c for c in earning if c.kind == rule["applies_to"]]
        if rule["applies_to"] == "sale":  # a sale refunded whole counts for nothing, tiers too
            mine = [c for c in mine if net[c.id] > 0
                    and _recurs(c, first_sale, int(rule["recurring_months"]))]  # fmt: skip
        lines += _rule_lines(number, rule, commission, mine, net)
    return lines


def _net_sales(items: Sequence[Credited], clawback_days: int) -> dict[int, int]:
    """Each sale's amount less the refunds made within the clawback window (never below 0)."""
    sales = {c.id: c for c in items if c.kind == "sale"}
    net = {i: c.amount_minor for i, c in sales.items()}
    for refund in items:
        if refund.kind != "refund" or refund.refund_of not in sales:
            continue
        sale = sales[refund.refund_of]
        if refund.occurred_at <= sale.occurred_at + timedelta(days=clawback_days):
            net[sale.id] = max(0, net[sale.id] - refund.amount_minor)
    return net


def _first_sales(items: Sequence[Credited]) -> dict[str, datetime]:
    first: dict[str, datetime] = {}
    for c in items:
        if c.kind == "sale" and c.customer is not None:
            first.setdefault(c.customer, c.occurred_at)
    return first


def _recurs(sale: Credited, first: Mapping[str, datetime], months: int) -> bool:
    if sale.customer is None:
        return True
    began = first[sale.customer]
    if sale.occurred_at == began:
        return True
    return sale.occurred_at < _add_months(began, months)


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, _days_in(year, month))
    return moment.replace(year=year, month=month, day=day)


def _days_in(year: int, month: int) -> int:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _rule_lines(
    number: int, rule: Mapping[str, Any], commission: Mapping[str, Any],
    mine: Sequence[Credited], net: Mapping[int, int],
) -> list[Owed]:  # fmt: skip
    rounding, currency = str(commission["rounding"]), str(commission["currency"])
    per = str(rule["cap_period"])
    by_period: dict[str, list[Credited]] = defaultdict(list)
    for c in mine:
        by_period[period_of(c.occurred_at, per)].append(c)
    lines: list[Owed] = []
    for period, items in by_period.items():
        room = rule["cap_minor"]  # what the cap leaves in the terms' currency (None: no cap)
        for place, c in enumerate(items, start=1):
            rate, flat = _terms_for(rule, place, len(items))
            base = net[c.id] if c.kind == "sale" else c.amount_minor
            if flat is not None:  # a refunded part of a sale takes back that part of the fee
                amount = (
                    flat
                    if c.kind != "sale" or base == c.amount_minor
                    else part(flat * base, c.amount_minor, rounding)
                )
                line_currency = currency
            else:
                amount = share(base, rate or 0, rounding)
                line_currency = c.currency or currency
            if room is not None and line_currency == currency:
                amount = min(amount, room)
                room -= amount
            if amount:
                lines.append(Owed(c.id, number, amount, line_currency, period))
    return lines


def _terms_for(rule: Mapping[str, Any], place: int, count: int) -> tuple[int | None, int | None]:
    """The rate (basis points) or flat amount for the ``place``-th of ``count`` conversions."""
    if rule["kind"] == "percent":
        return int(rule["rate_bp"]), None
    if rule["kind"] == "flat":
        return None, int(rule["flat_minor"])
    reached = count if rule["tier_scope"] == "whole_period" else place
    tier = [t for t in rule["tiers"] if t["from_count"] <= reached][-1]
    flat = tier.get("flat_minor")
    return (None, int(flat)) if flat is not None else (int(tier["rate_bp"]), None)
