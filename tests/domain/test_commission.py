"""Commissions owed under the agreed rules, checked against hand computations (every figure
below is worked out in the comment beside it) and, with Hypothesis, against what we promise:
integers only, a percent rule on a sale always equals the rule applied to the net sale, a cap
is never exceeded, and the order conversions arrive in changes nothing."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crosspromo.domain.commission import Credited, Owed, owed, part, share

START = date(2026, 1, 1)


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def commission(*rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    base = {"currency": "EUR", "rounding": "half_even", "holding_days": 30, "clawback_days": 90}
    defaults = {"rate_bp": None, "flat_minor": None, "tiers": [], "tier_scope": "marginal",
                "recurring_months": 0, "cap_minor": None, "cap_period": "month"}  # fmt: skip
    return base | extra | {"rules": [defaults | r for r in rules]}


def totals(lines: list[Owed]) -> dict[tuple[int, int], int]:
    return {(line.conversion, line.rule): line.amount_minor for line in lines}


def sale(i: int, day: str, amount: int, customer: str | None = None, currency: str = "EUR"
         ) -> Credited:  # fmt: skip
    return Credited(i, "sale", at(day), amount, currency, customer)


@pytest.mark.parametrize(
    ("amount", "rate", "rounding", "expected"),
    [
        (1005, 1000, "half_up", 101),  # 100.5 -> 101
        (1005, 1000, "half_even", 100),  # 100.5 -> 100 (even)
        (1015, 1000, "half_even", 102),  # 101.5 -> 102 (even)
        (1009, 1000, "down", 100),  # 100.9 -> 100
        (1, 1, "half_up", 0),  # 0.0001 -> 0
        (0, 1000, "half_up", 0),
    ],
)
def test_a_share_is_rounded_as_the_terms_say(
    amount: int, rate: int, rounding: str, expected: int
) -> None:
    assert share(amount, rate, rounding) == expected


def test_ten_percent_of_sales_and_a_flat_fee_per_lead_with_a_partial_refund() -> None:
    rules = commission({"applies_to": "sale", "kind": "percent", "rate_bp": 1000},
                       {"applies_to": "lead", "kind": "flat", "flat_minor": 200})  # fmt: skip
    items = [
        Credited(1, "lead", at("2026-02-01"), 0, None, "ann"),
        sale(2, "2026-02-03", 12_345, "ann"),  # 10% of 123.45 = 12.345 -> 12.34 (half even)
        Credited(3, "refund", at("2026-02-20"), 2_345, "EUR", "ann", refund_of=2),
        sale(4, "2026-02-05", 5_000, "bob"),  # 10% of 50.00 = 5.00
        Credited(5, "refund", at("2026-09-01"), 5_000, "EUR", "bob", refund_of=4),  # late
        Credited(6, "lead", at("2025-12-31"), 0, None, "cat"),  # before the terms' start
    ]
    got = totals(owed(rules, START, items))
    # sale 2 net of its refund inside the 90-day window: 100.00 -> 10.00; sale 4's refund
    # came after the window: still 5.00; the lead 2.00; the lead before the start: nothing
    assert got == {(2, 0): 1_000, (4, 0): 500, (1, 1): 200}


def test_a_tier_crossed_mid_month_marginal_and_for_the_whole_month() -> None:
    tiers = [{"from_count": 1, "rate_bp": 500}, {"from_count": 3, "rate_bp": 1000}]
    items = [sale(i, f"2026-03-{i:02d}", 10_000, f"c{i}") for i in range(1, 5)]
    items.append(sale(9, "2026-04-01", 10_000, "c9"))  # a new month starts at the first tier
    marginal = totals(owed(commission({"applies_to": "sale", "kind": "tiered", "tiers": tiers}),
                           START, items))  # fmt: skip
    # 1st and 2nd of March at 5% (5.00 each), 3rd and 4th at 10% (10.00), April's 1st at 5%
    assert marginal == {(1, 0): 500, (2, 0): 500, (3, 0): 1_000, (4, 0): 1_000, (9, 0): 500}
    whole = totals(owed(commission({"applies_to": "sale", "kind": "tiered", "tiers": tiers,
                                    "tier_scope": "whole_period"}), START, items))  # fmt: skip
    # March reached 4 sales: all four at 10%; April reached 1
    assert whole == {(1, 0): 1_000, (2, 0): 1_000, (3, 0): 1_000, (4, 0): 1_000, (9, 0): 500}
    refunded = [*items, Credited(10, "refund", at("2026-03-20"), 10_000, "EUR", refund_of=4)]
    again = totals(owed(commission({"applies_to": "sale", "kind": "tiered", "tiers": tiers,
                                    "tier_scope": "whole_period"}), START, refunded))  # fmt: skip
    # the 4th sale refunded whole: March has 3 sales, still the 10% tier, the 4th owes nothing
    assert again == {(1, 0): 1_000, (2, 0): 1_000, (3, 0): 1_000, (9, 0): 500}


def test_a_cap_is_reached_and_a_refund_frees_room_for_later_sales() -> None:
    rules = commission({"applies_to": "sale", "kind": "percent", "rate_bp": 2000,
                        "cap_minor": 5_000})  # fmt: skip
    items = [sale(1, "2026-05-01", 20_000), sale(2, "2026-05-02", 10_000),
             sale(3, "2026-05-03", 10_000), sale(4, "2026-06-01", 10_000)]  # fmt: skip
    # 20% of 200.00 = 40.00; of 100.00 = 20.00 but only 10.00 left under May's 50.00 cap; the
    # third May sale gets nothing; June starts a new cap
    assert totals(owed(rules, START, items)) == {(1, 0): 4_000, (2, 0): 1_000, (4, 0): 2_000}
    refund = Credited(5, "refund", at("2026-05-10"), 10_000, "EUR", refund_of=1)
    # sale 1 net 100.00 -> 20.00; room 30.00: sale 2 gets 20.00, sale 3 gets 10.00
    assert totals(owed(rules, START, [*items, refund])) == {
        (1, 0): 2_000, (2, 0): 2_000, (3, 0): 1_000, (4, 0): 2_000}  # fmt: skip


def test_a_recurring_rule_pays_through_its_last_month_and_no_further() -> None:
    rules = commission({"applies_to": "sale", "kind": "percent", "rate_bp": 1000,
                        "recurring_months": 3})  # fmt: skip
    items = [
        sale(1, "2026-01-31", 1_000, "ann"),  # the first sale: 1.00
        sale(2, "2026-04-29", 1_000, "ann"),  # within 3 months (to 2026-04-30): 1.00
        sale(3, "2026-04-30", 1_000, "ann"),  # 3 months after 31 Jan end on 30 Apr: none
        sale(4, "2026-02-10", 3_000, "bob"),  # bob's first: 3.00
        sale(5, "2026-03-01", 3_000, None),
    ]  # no customer: a first sale, 3.00
    assert totals(owed(rules, START, items)) == {(1, 0): 100, (2, 0): 100, (4, 0): 300,
                                                 (5, 0): 300}  # fmt: skip
    once = commission({"applies_to": "sale", "kind": "percent", "rate_bp": 1000})
    assert totals(owed(once, START, items)) == {(1, 0): 100, (4, 0): 300, (5, 0): 300}


def test_two_currencies_shares_in_the_sales_currency_flat_fees_and_caps_in_the_terms() -> None:
    rules = commission({"applies_to": "sale", "kind": "percent", "rate_bp": 1000,
                        "cap_minor": 1_500},
                       {"applies_to": "sale", "kind": "flat", "flat_minor": 250})  # fmt: skip
    items = [sale(1, "2026-07-01", 10_000, "a", "EUR"), sale(2, "2026-07-02", 30_000, "b", "USD"),
             sale(3, "2026-07-03", 10_000, "c", "EUR")]  # fmt: skip
    lines = owed(rules, START, items)
    by = {(x.conversion, x.rule): (x.amount_minor, x.currency) for x in lines}
    # EUR shares: 10.00, then 10.00 capped to the 5.00 left of 15.00; the USD share (30.00) is
    # not under the EUR cap; the flat 2.50 per sale is in the terms' currency
    assert by == {(1, 0): (1_000, "EUR"), (2, 0): (3_000, "USD"), (3, 0): (500, "EUR"),
                  (1, 1): (250, "EUR"), (2, 1): (250, "EUR"), (3, 1): (250, "EUR")}  # fmt: skip
    partly = Credited(4, "refund", at("2026-07-05"), 2_500, "EUR", refund_of=1)
    # a quarter of sale 1 refunded: its flat fee 2.50 * 75.00/100.00 = 1.875 -> 1.88 (half even)
    assert totals(owed(rules, START, [*items, partly]))[(1, 1)] == 188


AMOUNTS = st.integers(1, 500_000)


@st.composite
def histories(draw: st.DrawFn) -> list[Credited]:
    count = draw(st.integers(1, 25))
    items: list[Credited] = []
    for i in range(count):
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(0, 8000)))
        sales = [c for c in items if c.kind == "sale"]
        kind = draw(st.sampled_from(["sale", "lead", "refund"] if sales else ["sale", "lead"]))
        if kind == "refund":
            of = draw(st.sampled_from(sales))
            items.append(Credited(i, "refund", of.occurred_at + timedelta(
                days=draw(st.integers(0, 120))), draw(st.integers(1, of.amount_minor)), "EUR",
                of.customer, refund_of=of.id))  # fmt: skip
        else:
            items.append(Credited(i, kind, moment, draw(AMOUNTS) if kind == "sale" else 0,
                                  "EUR", draw(st.sampled_from(["a", "b", "c", None]))))  # fmt: skip
    return items


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(0, 10_000), st.sampled_from(["half_up", "half_even", "down"]),
       st.integers(0, 90))  # fmt: skip
def test_a_percent_rule_owes_exactly_the_rule_on_the_net_sale(
    items: list[Credited], rate: int, rounding: str, clawback: int
) -> None:
    rule = {"applies_to": "sale", "kind": "percent", "rate_bp": rate, "recurring_months": 120}
    rules = commission(rule, rounding=rounding, clawback_days=clawback)
    got = totals(owed(rules, START, items))
    for c in items:
        if c.kind != "sale":
            continue
        refunded = sum(r.amount_minor for r in items if r.refund_of == c.id
                       and r.occurred_at <= c.occurred_at + timedelta(days=clawback))  # fmt: skip
        net = max(0, c.amount_minor - refunded)
        assert got.get((c.id, 0), 0) == (share(net, rate, rounding) if net else 0)
    shuffled = items[:]
    random.Random(len(items)).shuffle(shuffled)
    assert owed(rules, START, shuffled) == owed(rules, START, items)


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(0, 100_000), st.sampled_from(["month", "quarter", "year"]))
def test_a_cap_is_never_exceeded(items: list[Credited], cap: int, per: str) -> None:
    rules = commission({"applies_to": "sale", "kind": "percent", "rate_bp": 1500,
                        "cap_minor": cap, "cap_period": per, "recurring_months": 120},
                       {"applies_to": "lead", "kind": "flat", "flat_minor": 300,
                        "cap_minor": cap, "cap_period": per})  # fmt: skip
    lines = owed(rules, START, items)
    spent: dict[tuple[int, str], int] = {}
    for line in lines:
        assert isinstance(line.amount_minor, int)
        assert line.amount_minor > 0
        spent[(line.rule, line.period)] = spent.get((line.rule, line.period), 0) + line.amount_minor
    assert all(total <= cap for total in spent.values())


@given(st.integers(0, 10**12), st.integers(1, 10**6))
def test_a_part_is_within_one_of_the_exact_ratio(numerator: int, denominator: int) -> None:
    for rounding in ("half_up", "half_even", "down"):
        got = part(numerator, denominator, rounding)
        assert got * denominator <= numerator + denominator
        assert (got + 1) * denominator > numerator
