"""Commissions against hand computations, on SQLite and PostgreSQL: 10% of sales and a flat fee
per lead with a 30-day hold and a partial refund inside the clawback window (before and after
payment), a tier crossing mid-month, a cap reached, a recurring rule's last month, two
currencies, and terms effective before their acceptance. Every figure below is worked out by
hand in the comment beside it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.errors import ConflictError, InvalidInputError, InvalidTransitionError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.pay import earnings, payouts
from crosspromo.services.pay.commissions import compute
from crosspromo.services.pay.ledger import balances
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.store.database import Database
from tests.conftest import agreed

SALE, LEAD, REFUND = ConversionKind.SALE, ConversionKind.LEAD, ConversionKind.REFUND


def rule(applies_to: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"applies_to": applies_to, "kind": kind, **more}


def commission(*rules: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "currency": "EUR",
        "rounding": "half_even",
        "holding_days": 30,
        "clawback_days": 90,
        "rules": list(rules),
        **more,
    }


class Program:
    """A brand (acme) paying a partner (beans) under the given commission, effective from
    2026-01-01, accepted today; conversions come in with the partner's referral code."""

    def __init__(self, db: Database, paid: dict[str, Any]) -> None:
        self.db = db
        self.brand = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
        self.partner = create_organization(db, "beans", "Beans", OrgKind.PARTNER).id
        agreed(db, self.brand, "beans", start="2026-01-01", commission=paid)
        create_code(db, self.brand, "beans", "BEANS", CodeKind.REFERRAL)
        self.orders = 0

    def add(
        self,
        kind: ConversionKind,
        day: str,
        amount: int = 0,
        currency: str | None = "EUR",
        *,
        customer: str | None = None,
        order: str | None = None,
    ) -> str:
        """Record a conversion on ``day`` (noon UTC); a sale gets a new order id."""
        if kind is SALE and order is None:
            self.orders += 1
            order = f"o{self.orders}"
        moment = datetime.fromisoformat(f"{day}T12:00:00+00:00")
        item = ConversionInput(
            kind,
            moment,
            amount,
            currency if kind is not LEAD else None,
            customer,
            referral_code=None if kind is REFUND else "BEANS",
            order_id=order,
        )
        record_conversions(self.db, self.brand, [item])
        return order or ""

    def compute(self, day: str) -> Any:
        return compute(self.db, self.brand, date.fromisoformat(day))

    def summary(self, day: str) -> dict[str, dict[str, int]]:
        found = earnings.summary(self.db, self.brand, date.fromisoformat(day))
        return {
            p.currency: {
                "pending": p.pending_minor,
                "approved": p.approved_minor,
                "paid": p.paid_minor,
                "held": p.held_minor,
                "reversed": p.reversed_minor,
            }
            for p in found.partners
        }

    def owed(self, day: str) -> int:
        """Pending and approved together, in euros' minor units."""
        found = self.summary(day)["EUR"]
        return found["pending"] + found["approved"]

    def receivable(self) -> dict[str, int]:
        """The partner's receivable per currency, from its ledger."""
        return {
            c: v
            for (a, c), v in balances(self.db, self.partner).items()
            if a == "commission_receivable"
        }


def figures(
    pending: int = 0, approved: int = 0, paid: int = 0, held: int = 0, reversed_: int = 0
) -> dict[str, int]:
    return {
        "pending": pending,
        "approved": approved,
        "paid": paid,
        "held": held,
        "reversed": reversed_,
    }


def test_percent_of_sales_and_a_fee_per_lead_with_a_hold_a_refund_and_a_payout(
    db: Database,
) -> None:
    program = Program(
        db,
        commission(
            rule("sale", "percent", rate_bp=1000, recurring_months=120),
            rule("lead", "flat", flat_minor=200),
        ),
    )
    program.add(LEAD, "2026-03-01")  # 2.00, due 03-31
    first = program.add(SALE, "2026-03-02", 10_000)  # 10% of 100.00 = 10.00, due 04-01
    second = program.add(SALE, "2026-03-10", 5_555)  # 5.555 → 5.56 (half to even), due 04-09
    program.add(SALE, "2025-12-31", 10_000)  # before the terms' start: earns nothing

    made = program.compute("2026-03-15")
    assert (made.lines, made.approved, made.held) == (3, 0, 0)
    assert program.summary("2026-03-15") == {"EUR": figures(pending=200 + 1000 + 556)}
    assert program.compute("2026-03-15").lines == 0  # again: nothing changes

    program.add(REFUND, "2026-03-20", 4_000, order=first)  # 60.00 left: 6.00, reverses 4.00
    made = program.compute("2026-04-05")
    assert (made.lines, made.approved) == (1, 3)  # the reversal; lead, sale and its reversal
    assert program.summary("2026-04-05") == {
        "EUR": figures(pending=556, approved=800, reversed_=400)
    }
    assert program.summary("2026-03-31") == {
        "EUR": figures(pending=1000 - 400 + 556, approved=200, reversed_=400)
    }
    assert program.receivable() == {"EUR": 800}

    run = payouts.run(db, program.brand, date(2026, 4, 5))
    assert [(p.partner, p.currency, p.amount_minor, p.lines) for p in run.payouts] == [
        ("beans", "EUR", 800, 3)
    ]
    assert payouts.run(db, program.brand, date(2026, 4, 5)).payouts == []  # nothing left
    paid = payouts.mark_paid(db, program.brand, run.payouts[0].id, "TX-1")
    assert (paid.status, paid.reference) == ("paid", "TX-1")
    assert payouts.mark_paid(db, program.brand, paid.id, "TX-1").status == "paid"  # replayed
    with pytest.raises(InvalidTransitionError):
        payouts.mark_paid(db, program.brand, paid.id, "TX-2")
    assert program.summary("2026-04-05") == {"EUR": figures(pending=556, paid=800, reversed_=400)}
    assert program.receivable() == {"EUR": 0}

    program.compute("2026-04-10")  # the second sale's hold ends on 04-09
    assert program.receivable() == {"EUR": 556}
    program.add(REFUND, "2026-04-20", 1_555, order=second)  # 40.00 left: 4.00, reverses 1.56
    program.compute("2026-04-25")
    assert program.summary("2026-04-25") == {
        "EUR": figures(approved=556 - 156, paid=800, reversed_=400 + 156)
    }
    assert program.receivable() == {"EUR": 400}
    program.add(REFUND, "2026-02-01", 100, order="o3")  # the pre-start sale: still nothing
    assert program.compute("2026-04-25").lines == 0


def test_a_refund_after_payment_carries_into_the_next_payout_as_a_negative_line(
    db: Database,
) -> None:
    program = Program(
        db,
        commission(
            rule("sale", "percent", rate_bp=1000, recurring_months=120),
            holding_days=10,
            clawback_days=60,
        ),
    )
    first = program.add(SALE, "2026-05-01", 20_000)  # 20.00, due 05-11
    program.compute("2026-05-12")
    run = payouts.run(db, program.brand, date(2026, 5, 12))
    payouts.mark_paid(db, program.brand, run.payouts[0].id, "TX-1")
    program.add(REFUND, "2026-05-20", 20_000, order=first)  # refunded whole: -20.00
    program.add(SALE, "2026-05-21", 50_000)  # 50.00, due 05-31
    program.compute("2026-06-01")
    assert program.summary("2026-06-01") == {
        "EUR": figures(approved=3000, paid=2000, reversed_=2000)
    }
    run = payouts.run(db, program.brand, date(2026, 6, 1))
    assert [(p.amount_minor, p.lines) for p in run.payouts] == [(3000, 2)]  # 50.00 - 20.00
    cancelled = payouts.cancel(db, program.brand, run.payouts[0].id)
    assert cancelled.status == "cancelled"
    again = payouts.run(db, program.brand, date(2026, 6, 1))  # the lines are free again
    assert [(p.amount_minor, p.lines) for p in again.payouts] == [(3000, 2)]


def test_a_refund_leaving_a_negative_balance_makes_no_payout(db: Database) -> None:
    program = Program(
        db, commission(rule("sale", "percent", rate_bp=1000, recurring_months=120), holding_days=0)
    )
    first = program.add(SALE, "2026-05-01", 20_000)
    program.compute("2026-05-02")
    run = payouts.run(db, program.brand, date(2026, 5, 2))
    payouts.mark_paid(db, program.brand, run.payouts[0].id, "TX-1")
    program.add(REFUND, "2026-05-03", 20_000, order=first)
    program.compute("2026-05-04")
    assert payouts.run(db, program.brand, date(2026, 5, 4)).payouts == []  # -20.00 carries
    program.add(SALE, "2026-05-05", 50_000)
    program.compute("2026-05-06")
    assert [p.amount_minor for p in payouts.run(db, program.brand, date(2026, 5, 6)).payouts] == [
        3000
    ]


@pytest.mark.parametrize(
    ("scope", "first_two", "total"),
    [
        ("marginal", [500, 500], 500 + 500 + 1000 + 1000),  # each sale at its own tier
        ("whole_period", [500, 500], 4 * 1000),
    ],  # the month's count sets every sale's tier
)
def test_a_tier_crossing_mid_month(
    db: Database, scope: str, first_two: list[int], total: int
) -> None:
    tiers = [{"from_count": 1, "rate_bp": 500}, {"from_count": 3, "rate_bp": 1000}]
    program = Program(
        db, commission(rule("sale", "tiered", tiers=tiers, tier_scope=scope, recurring_months=120))
    )
    program.add(SALE, "2026-03-03", 10_000)
    program.add(SALE, "2026-03-09", 10_000)
    program.compute("2026-03-10")
    assert program.summary("2026-03-10")["EUR"]["pending"] == sum(first_two)
    program.add(SALE, "2026-03-16", 10_000)  # the third: the 10% tier from here
    program.add(SALE, "2026-03-28", 10_000)
    program.add(SALE, "2026-04-02", 10_000)  # a new month starts at the first tier again
    program.compute("2026-04-02")
    assert program.owed("2026-04-02") == total + 500


def test_a_cap_reached(db: Database) -> None:
    program = Program(db, commission(rule("lead", "flat", flat_minor=200, cap_minor=500)))
    for day in ("2026-03-02", "2026-03-05", "2026-03-09", "2026-03-20"):
        program.add(LEAD, day)  # 2.00, 2.00, 1.00 (the cap's rest), 0
    program.add(LEAD, "2026-04-01")  # a new month: 2.00
    program.compute("2026-04-01")
    assert program.owed("2026-04-01") == 200 + 200 + 100 + 200


def test_a_recurring_rules_last_month(db: Database) -> None:
    program = Program(db, commission(rule("sale", "percent", rate_bp=1000, recurring_months=3)))
    for day in ("2026-01-15", "2026-02-15", "2026-04-14"):  # the first, and within 3 months
        program.add(SALE, day, 10_000, customer="ann")
    program.add(SALE, "2026-04-15", 10_000, customer="ann")  # 3 months on: no longer
    program.add(SALE, "2026-04-15", 10_000, customer="bob")  # bob's first
    program.compute("2026-05-01")
    assert program.owed("2026-05-01") == 4 * 1000


def test_two_currencies(db: Database) -> None:
    program = Program(
        db,
        commission(
            rule("sale", "percent", rate_bp=1250, recurring_months=120),
            rule("lead", "flat", flat_minor=300),
        ),
    )
    program.add(SALE, "2026-03-01", 10_000, "EUR")  # 12.50 EUR
    program.add(SALE, "2026-03-02", 8_001, "USD")  # 10.00125 → 10.00 USD
    program.add(LEAD, "2026-03-03")  # 3.00 in the terms' currency
    program.compute("2026-04-10")
    assert program.summary("2026-04-10") == {
        "EUR": figures(approved=1250 + 300),
        "USD": figures(approved=1000),
    }
    assert program.receivable() == {"EUR": 1550, "USD": 1000}
    made = payouts.run(db, program.brand, date(2026, 4, 10)).payouts
    assert sorted((p.currency, p.amount_minor) for p in made) == [("EUR", 1550), ("USD", 1000)]


def test_as_of_is_judged_by_when_conversions_occurred_and_never_moves_back(db: Database) -> None:
    program = Program(db, commission(rule("lead", "flat", flat_minor=200)))
    program.add(LEAD, "2026-03-01")
    program.add(LEAD, "2026-03-20")  # recorded now, occurred after the day asked
    assert program.compute("2026-03-10").lines == 1
    assert program.summary("2026-03-10") == {"EUR": figures(pending=200)}
    with pytest.raises(ConflictError, match="computed as of 2026-03-10"):
        program.compute("2026-03-09")
    with pytest.raises(InvalidInputError, match="in the future"):
        compute(db, program.brand, date(2100, 1, 1))
    with pytest.raises(InvalidInputError, match="in the future"):
        earnings.summary(db, program.brand, datetime.now(UTC).date().replace(year=2100))
    assert program.compute("2026-03-25").lines == 1


def test_nothing_is_owed_without_terms_both_accepted(db: Database) -> None:
    from crosspromo.services.agree.agreements import propose
    from crosspromo.services.agree.terms import parse_terms, template

    brand = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
    create_organization(db, "beans", "Beans", OrgKind.PARTNER)
    propose(db, brand, "beans", parse_terms(template("acme", "beans").document()))
    assert compute(db, brand, date(2026, 3, 1)).lines == 0
    assert earnings.summary(db, brand, date(2026, 3, 1)).partners == []
