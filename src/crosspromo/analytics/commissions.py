"""Commissions owed, computed on whole arrays: the same rules as ``domain.commission.owed``
(which states them and is the reference this is tested against, example by example), in numpy,
so a million conversions take about a second instead of a minute.

Input arrays are in time order (``occurred_at``, then id); amounts are int64 minor units. Where
a product could overflow int64 (an amount above ``SAFE_MINOR``) the caller uses the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

import numpy as np
import numpy.typing as npt

from crosspromo.domain.commission import BASIS, Credited, owed

LEAD, SALE, REFUND = 0, 1, 2
KINDS = {"lead": LEAD, "sale": SALE, "refund": REFUND}
SAFE_MINOR = 9 * 10**14 // BASIS * 10  # amount x basis points stays inside int64
Ints = npt.NDArray[np.int64]
Times = npt.NDArray[np.datetime64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Credits:
    """A partner's credited conversions, in time order. ``currency``: codes into
    ``currencies`` (-1: none); ``customer``: codes (-1: none); ``refund_of``: the position of the
    sale a refund undoes (-1: none)."""

    id: Ints
    kind: Ints
    at: Times  # datetime64[us], UTC
    amount: Ints
    currency: Ints
    currencies: list[str]
    customer: Ints
    refund_of: Ints

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class OwedLines:
    """Every (conversion, rule) owing something: ``currency`` is a code into the credits'
    currencies (extended with the terms' currency when it was not among them)."""

    conversion: Ints
    rule: Ints
    amount: Ints
    currency: Ints
    currencies: list[str]
    period: list[str]


def owed_lines(commission: Mapping[str, Any], start: date, credits: Credits) -> OwedLines:
    """``owed_arrays``, or the reference for amounts too large for int64 products."""
    if not len(credits) or int(credits.amount.max()) <= SAFE_MINOR:
        return owed_arrays(commission, start, credits)
    names = {v: k for k, v in KINDS.items()}
    moments = credits.at.astype("datetime64[us]").tolist()
    items = [
        Credited(
            int(credits.id[i]),
            names[int(credits.kind[i])],
            moments[i].replace(tzinfo=UTC),
            int(credits.amount[i]),
            credits.currencies[c] if (c := int(credits.currency[i])) >= 0 else None,
            str(k) if (k := int(credits.customer[i])) >= 0 else None,
            int(credits.id[r]) if (r := int(credits.refund_of[i])) >= 0 else None,
        )
        for i in range(len(credits))
    ]
    found = owed(commission, start, items)
    currencies = list(credits.currencies)
    for line in found:
        if line.currency not in currencies:
            currencies.append(line.currency)
    return OwedLines(
        np.array([o.conversion for o in found], np.int64),
        np.array([o.rule for o in found], np.int64),
        np.array([o.amount_minor for o in found], np.int64),
        np.array([currencies.index(o.currency) for o in found], np.int64),
        currencies,
        [o.period for o in found],
    )


def divide(numerator: Ints, denominator: Ints | int, rounding: str) -> Ints:
    """``numerator / denominator`` element-wise (both not negative, the denominator positive),
    rounded as ``domain.commission.part`` rounds."""
    whole, rest = np.divmod(numerator, denominator)
    if rounding == "down":
        up = np.zeros(len(whole), bool)
    elif rounding == "half_up":
        up = (2 * rest >= denominator) & (rest > 0)
    elif rounding == "half_even":
        up = (2 * rest > denominator) | ((2 * rest == denominator) & (whole % 2 == 1))
    else:
        raise ValueError(f"unknown rounding {rounding!r}")
    result: Ints = whole + up
    return result


def owed_arrays(commission: Mapping[str, Any], start: date, credits: Credits) -> OwedLines:
    """What each conversion owes under each rule of the terms' ``commission``, from ``start``."""
    currencies = list(credits.currencies)
    terms_currency = str(commission["currency"])
    if terms_currency not in currencies:
        currencies.append(terms_currency)
    terms_code = currencies.index(terms_currency)
    net = _net_sales(credits, int(commission["clawback_days"]))
    day = credits.at.astype("datetime64[D]")
    earning = (credits.kind != REFUND) & (day >= np.datetime64(start, "D"))
    parts: list[tuple[Ints, Ints, Ints, Ints, Ints]] = []
    for number, rule in enumerate(commission["rules"]):
        mine = earning & (credits.kind == KINDS[rule["applies_to"]])
        if rule["applies_to"] == "sale":
            mine &= (net > 0) & _recurs(credits, earning, int(rule["recurring_months"]))
        picked = np.flatnonzero(mine)
        if len(picked):
            parts.append(_rule(number, rule, commission, credits, net, picked, terms_code))
    if not parts:
        empty = np.zeros(0, np.int64)
        return OwedLines(empty, empty, empty, empty, currencies, [])
    conversion, rule_no, amount, currency, period = (
        np.concatenate(c) for c in zip(*parts, strict=True)
    )
    return OwedLines(
        conversion,
        rule_no,
        amount,
        currency,
        currencies,
        _period_names(period, commission, rule_no),
    )


def _net_sales(credits: Credits, clawback_days: int) -> Ints:
    """Each sale's amount less the refunds within the clawback window (never below 0)."""
    net = np.where(credits.kind == SALE, credits.amount, 0)
    refunds = np.flatnonzero((credits.kind == REFUND) & (credits.refund_of >= 0))
    if len(refunds):
        sale = credits.refund_of[refunds]
        ok = (credits.kind[sale] == SALE) & (
            credits.at[refunds] <= credits.at[sale] + np.timedelta64(clawback_days, "D")
        )
        np.subtract.at(net, sale[ok], credits.amount[refunds][ok])
    return np.maximum(net, 0)


def _recurs(credits: Credits, earning: Bools, months: int) -> Bools:
    """Whether each sale earns under a recurring rule: a first sale of its customer (or one
    without a customer), or one within ``months`` months after that first sale."""
    sales = earning & (credits.kind == SALE)
    known = sales & (credits.customer >= 0)
    result = np.ones(len(credits), bool)
    if not known.any():
        return result
    where = np.flatnonzero(known)
    customers = credits.customer[where]
    _, first_index = np.unique(customers, return_index=True)  # first in time order
    first_at = np.empty(int(customers.max()) + 1, dtype="datetime64[us]")
    first_at[customers[first_index]] = credits.at[where[first_index]]
    began = first_at[customers]
    result[where] = (credits.at[where] == began) | (credits.at[where] < _add_months(began, months))
    return result


def _add_months(moment: Times, months: int) -> Times:
    """``moment`` plus whole months, the day kept or clamped to the month's last."""
    month = moment.astype("datetime64[M]")
    day = (moment.astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
    within = moment - moment.astype("datetime64[D]")
    target = month + np.timedelta64(months, "M")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    days = target.astype("datetime64[D]") + np.minimum(day, length - 1)
    result: Times = days.astype("datetime64[us]") + within
    return result


def _period_keys(at: Times, per: str) -> Ints:
    month = at.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    if per == "month":
        return month
    if per == "quarter":
        return month // 3
    return month // 12


def _rule(
    number: int,
    rule: Mapping[str, Any],
    commission: Mapping[str, Any],
    credits: Credits,
    net: Ints,
    picked: Ints,
    terms_code: int,
) -> tuple[Ints, Ints, Ints, Ints, Ints]:
    rounding, per = str(commission["rounding"]), str(rule["cap_period"])
    period = _period_keys(credits.at[picked], per)
    order = np.argsort(period, kind="stable")  # by period, time order kept within
    picked, period = picked[order], period[order]
    starts = np.flatnonzero(np.r_[True, period[1:] != period[:-1]])
    sizes = np.diff(np.r_[starts, len(period)])
    group = np.repeat(np.arange(len(starts)), sizes)
    place = np.arange(len(period)) - starts[group] + 1
    count = sizes[group]
    kind = credits.kind[picked]
    full = credits.amount[picked]
    base = np.where(kind == SALE, net[picked], full)
    rate, flat = _terms(rule, place, count)
    partial = (kind == SALE) & (base != full)
    flat_amount = flat.copy()
    if partial.any():
        flat_amount[partial] = divide(flat[partial] * base[partial], full[partial], rounding)
    amount = np.where(flat >= 0, flat_amount, divide(base * np.maximum(rate, 0), BASIS, rounding))
    own = credits.currency[picked]
    currency = np.where((flat >= 0) | (own < 0), terms_code, own)
    if rule["cap_minor"] is not None:
        amount = _capped(amount, currency == terms_code, group, int(rule["cap_minor"]))
    keep = amount != 0
    return (
        credits.id[picked][keep],
        np.full(int(keep.sum()), number, np.int64),
        amount[keep],
        currency[keep],
        period[keep],
    )


def _terms(rule: Mapping[str, Any], place: Ints, count: Ints) -> tuple[Ints, Ints]:
    """Per conversion: the rate in basis points and the flat amount (-1: not this kind)."""
    n = len(place)
    if rule["kind"] == "percent":
        return np.full(n, int(rule["rate_bp"]), np.int64), np.full(n, -1, np.int64)
    if rule["kind"] == "flat":
        return np.full(n, -1, np.int64), np.full(n, int(rule["flat_minor"]), np.int64)
    tiers = rule["tiers"]
    reached = count if rule["tier_scope"] == "whole_period" else place
    index = np.searchsorted(np.array([t["from_count"] for t in tiers]), reached, side="right") - 1
    rates = np.array([-1 if t.get("rate_bp") is None else t["rate_bp"] for t in tiers], np.int64)
    flats = np.array(
        [-1 if t.get("flat_minor") is None else t["flat_minor"] for t in tiers], np.int64
    )
    return rates[index], flats[index]


def _capped(amount: Ints, counted: Bools, group: Ints, cap: int) -> Ints:
    """Lines in the terms' currency limited, in time order within each period, to what the cap
    leaves: each gets min(running total, cap) - min(running total before it, cap)."""
    inside = np.where(counted, amount, 0)
    running = np.cumsum(inside)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    offset = np.repeat(running[starts] - inside[starts], np.diff(np.r_[starts, len(group)]))
    total = running - offset
    before = total - inside
    capped = np.minimum(total, cap) - np.minimum(before, cap)
    return np.where(counted, capped, amount)


def _period_names(keys: Ints, commission: Mapping[str, Any], rule: Ints) -> list[str]:
    """Each line's period as ``domain.commission.period_of`` names it (each distinct period
    and rule written once)."""
    pers = [str(r["cap_period"]) for r in commission["rules"]]
    pairs, back = np.unique(np.stack([keys, rule]), axis=1, return_inverse=True)
    names = []
    for key, number in pairs.T.tolist():
        per = pers[number]
        if per == "month":
            names.append(f"{1970 + key // 12}-{key % 12 + 1:02d}")
        elif per == "quarter":
            names.append(f"{1970 + key // 4}-Q{key % 4 + 1}")
        else:
            names.append(str(1970 + key))
    result: list[str] = np.array(names, dtype=object)[np.ravel(back)].tolist()
    return result
