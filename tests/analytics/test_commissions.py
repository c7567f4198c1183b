"""The array computation of commissions equals the reference (``domain.commission.owed``)
line for line on random conversions, refunds and rules: percentages, flat fees, tiers of both
scopes, caps, recurring windows, clawback windows, currencies and roundings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crosspromo.analytics.commissions import KINDS, Credits, owed_arrays
from crosspromo.domain.commission import Credited, owed

START = datetime(2026, 1, 1, tzinfo=UTC)


def as_arrays(items: list[Credited]) -> Credits:
    currencies = sorted({c.currency for c in items if c.currency})
    customers = sorted({c.customer for c in items if c.customer})
    place = {c.id: n for n, c in enumerate(items)}
    return Credits(
        id=np.array([c.id for c in items], np.int64),
        kind=np.array([KINDS[c.kind] for c in items], np.int64),
        at=np.array([c.occurred_at.replace(tzinfo=None) for c in items], "datetime64[us]"),
        amount=np.array([c.amount_minor for c in items], np.int64),
        currency=np.array(
            [currencies.index(c.currency) if c.currency else -1 for c in items], np.int64
        ),
        currencies=currencies,
        customer=np.array(
            [customers.index(c.customer) if c.customer else -1 for c in items], np.int64
        ),
        refund_of=np.array(
            [place.get(c.refund_of, -1) if c.refund_of else -1 for c in items], np.int64
        ),
    )


tiers = st.lists(
    st.one_of(
        st.integers(0, 3000).map(lambda r: {"rate_bp": r}),
        st.integers(0, 900).map(lambda f: {"flat_minor": f}),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    applies_to = draw(st.sampled_from(["lead", "sale"]))
    kind = draw(st.sampled_from(["flat", "tiered"] + (["percent"] if applies_to == "sale" else [])))
    rule: dict[str, Any] = {
        "applies_to": applies_to,
        "kind": kind,
        "recurring_months": draw(st.integers(0, 4)),
        "cap_minor": draw(st.one_of(st.none(), st.integers(0, 5000))),
        "cap_period": draw(st.sampled_from(["month", "quarter", "year"])),
        "tier_scope": draw(st.sampled_from(["marginal", "whole_period"])),
    }
    if kind == "percent":
        rule["rate_bp"] = draw(st.integers(0, 10_000))
    elif kind == "flat":
        rule["flat_minor"] = draw(st.integers(0, 2000))
    else:
        levels = draw(tiers)
        rule["tiers"] = [{"from_count": 1 + 2 * n, **t} for n, t in enumerate(levels)]
    return rule


@st.composite
def histories(draw: st.DrawFn) -> list[Credited]:
    items: list[Credited] = []
    for number in range(draw(st.integers(0, 40))):
        at = START + timedelta(hours=draw(st.integers(-300, 24 * 200)))
        kind = draw(st.sampled_from(["lead", "sale", "sale", "refund"]))
        sales = [c for c in items if c.kind == "sale"]
        if kind == "refund" and sales:
            sale = draw(st.sampled_from(sales))
            items.append(
                Credited(
                    number + 1,
                    "refund",
                    sale.occurred_at + timedelta(days=draw(st.integers(0, 120))),
                    draw(st.integers(1, sale.amount_minor)),
                    sale.currency,
                    None,
                    sale.id,
                )
            )
        elif kind != "refund":
            items.append(
                Credited(
                    number + 1,
                    kind,
                    at,
                    draw(st.integers(1, 90_000)) if kind == "sale" else 0,
                    draw(st.sampled_from(["EUR", "USD"])) if kind == "sale" else None,
                    draw(st.sampled_from([None, "ann", "bob", "cy"])),
                )
            )
    return sorted(items, key=lambda c: (c.occurred_at, c.id))


@settings(max_examples=300, deadline=None)
@given(
    histories(),
    st.lists(rules(), min_size=1, max_size=3),
    st.sampled_from(["half_up", "half_even", "down"]),
    st.integers(0, 100),
    st.integers(-5, 40),
)
def test_arrays_equal_the_reference(
    items: list[Credited], chosen: list[dict[str, Any]], rounding: str, clawback: int, late: int
) -> None:
    commission = {
        "currency": "EUR",
        "rounding": rounding,
        "clawback_days": clawback,
        "holding_days": 30,
        "rules": chosen,
    }
    start = date(2026, 1, 1) + timedelta(days=late)
    expected = {
        (o.conversion, o.rule, o.amount_minor, o.currency, o.period)
        for o in owed(commission, start, items)
    }
    found = owed_arrays(commission, start, as_arrays(items))
    got = set(
        zip(
            found.conversion.tolist(),
            found.rule.tolist(),
            found.amount.tolist(),
            [found.currencies[c] for c in found.currency.tolist()],
            found.period,
            strict=True,
        )
    )
    assert got == expected
    assert len(found.conversion) == len(expected)
