"""Hypothesis drives random sequences of conversions, refunds, computations (each repeated),
fraud decisions, payout runs, payments and cancellations through the Pay services, and after
every step checks what we promise: every ledger transaction balances for each organization and
currency, the partner's receivable (and the brand's payable) equals what is approved and not
yet paid, no line is paid twice and every payout equals its lines, and computing again
changes nothing."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import text

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.pay import holds, payouts
from crosspromo.services.pay.commissions import compute
from crosspromo.services.pay.ledger import balances
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.store.database import Database
from tests.conftest import agreed

START = date(2026, 1, 1)
EXAMPLES = itertools.count()
TERMS = {
    "currency": "EUR",
    "rounding": "half_up",
    "holding_days": 14,
    "clawback_days": 60,
    "rules": [
        {
            "applies_to": "sale",
            "kind": "tiered",
            "tier_scope": "whole_period",
            "recurring_months": 2,
            "cap_minor": 40_000,
            "tiers": [{"from_count": 1, "rate_bp": 1000}, {"from_count": 4, "rate_bp": 1500}],
        },
        {"applies_to": "lead", "kind": "flat", "flat_minor": 250, "cap_minor": 1_000},
    ],
}


class PayMachine(RuleBasedStateMachine):
    db: ClassVar[Database]

    def __init__(self) -> None:
        super().__init__()
        example = next(EXAMPLES)
        self.brand = create_organization(self.db, f"brand-{example}", "Brand", OrgKind.BRAND).id
        partner = f"partner-{example}"
        self.partner = create_organization(self.db, partner, "Partner", OrgKind.PARTNER).id
        agreed(self.db, self.brand, partner, start=START.isoformat(), commission=TERMS)
        self.code = f"CODE{example}"
        create_code(self.db, self.brand, partner, self.code, CodeKind.REFERRAL)
        self.as_of = START
        self.sales: dict[str, int] = {}  # order id → what is left to refund
        self.orders = 0

    def _record(
        self, kind: ConversionKind, day: int, amount: int, currency: str | None, **more: Any
    ) -> None:
        moment = datetime.combine(START + timedelta(days=day), time(12), UTC)
        record_conversions(
            self.db, self.brand, [ConversionInput(kind, moment, amount, currency, **more)]
        )

    @rule(
        day=st.integers(0, 120),
        amount=st.integers(1, 60_000),
        currency=st.sampled_from(["EUR", "EUR", "USD"]),
        customer=st.sampled_from(["a", "b", None]),
        duplicate=st.booleans(),
    )
    def sale(
        self, day: int, amount: int, currency: str, customer: str | None, duplicate: bool
    ) -> None:
        if duplicate and self.sales:  # the same order id claimed again: a fraud hold
            order = sorted(self.sales)[0]
        else:
            self.orders += 1
            order = f"o{self.orders}"
            self.sales[order] = amount
        self._record(
            ConversionKind.SALE,
            day,
            amount,
            currency,
            customer_external_id=customer,
            referral_code=self.code,
            order_id=order,
        )

    @initialize(
        days=st.lists(st.integers(0, 60), min_size=2, max_size=6), amount=st.integers(1_000, 60_000)
    )
    def some_sales(self, days: list[int], amount: int) -> None:
        for day in days:
            self.sale(day, amount, "EUR", None, duplicate=False)

    @rule(day=st.integers(0, 120))
    def lead(self, day: int) -> None:
        self._record(ConversionKind.LEAD, day, 0, None, referral_code=self.code)

    @precondition(lambda self: any(left > 0 for left in self.sales.values()))
    @rule(data=st.data(), later=st.integers(0, 90))
    def refund(self, data: st.DataObject, later: int) -> None:
        order = data.draw(st.sampled_from(sorted(o for o, left in self.sales.items() if left)))
        amount = data.draw(st.integers(1, self.sales[order]))
        with self.db.reading() as session:
            day, currency = session.execute(
                text(
                    "SELECT occurred_at, currency FROM conversions WHERE order_id = :o AND kind = "
                    "'sale' AND org_id = :b ORDER BY id LIMIT 1"
                ),
                {"o": order, "b": self.brand},
            ).one()
        moment = day if isinstance(day, datetime) else datetime.fromisoformat(day)
        offset = (moment.date() - START).days + later
        self._record(ConversionKind.REFUND, offset, amount, currency, order_id=order)
        self.sales[order] -= amount

    @rule(days=st.integers(5, 90))
    def compute_twice(self, days: int) -> None:
        self.as_of = min(self.as_of + timedelta(days=days), date.today())
        compute(self.db, self.brand, self.as_of)
        before = balances(self.db, self.partner)
        again = compute(self.db, self.brand, self.as_of)
        assert (again.lines, again.approved, again.held) == (0, 0, 0)
        assert balances(self.db, self.partner) == before

    @rule(data=st.data())
    def decide(self, data: st.DataObject) -> None:
        waiting = holds.holds(self.db, self.brand)
        if waiting:
            hold = data.draw(st.sampled_from(waiting))
            holds.decide(
                self.db,
                self.brand,
                hold.id,
                data.draw(st.sampled_from(["approve", "reject"])),
                "checked",
                "tester",
            )

    @rule()
    def run_payouts(self) -> None:
        made = payouts.run(self.db, self.brand, self.as_of)
        event(f"payouts made: {len(made.payouts)}")

    def _open(self) -> list[Any]:
        return [p for p in payouts.payouts(self.db, self.brand) if p.status == "open"]

    @rule(data=st.data())
    def pay_a_payout(self, data: st.DataObject) -> None:
        if self._open():
            chosen = data.draw(st.sampled_from(self._open()))
            payouts.mark_paid(self.db, self.brand, chosen.id, f"ref-{chosen.id}")

    @rule(data=st.data())
    def cancel_a_payout(self, data: st.DataObject) -> None:
        if self._open():
            payouts.cancel(self.db, self.brand, data.draw(st.sampled_from(self._open())).id)

    @invariant()
    def books_hold(self) -> None:
        with self.db.reading() as session:
            unbalanced = session.execute(
                text(
                    "SELECT transaction_id FROM ledger_postings GROUP BY transaction_id, org_id, "
                    "currency HAVING SUM(amount_minor) <> 0"
                )
            ).all()
            lines = session.execute(
                text(
                    "SELECT l.currency, l.status, l.amount_minor, l.payout_id, p.status "
                    "FROM commission_lines l LEFT JOIN payouts p ON p.id = l.payout_id "
                    "WHERE l.org_id = :b"
                ),
                {"b": self.brand},
            ).all()
            made = session.execute(
                text("SELECT id, currency, amount_minor, status FROM payouts WHERE org_id = :b"),
                {"b": self.brand},
            ).all()
        assert unbalanced == []
        unpaid: dict[str, int] = defaultdict(int)
        in_payout: dict[int, int] = defaultdict(int)
        for currency, status, amount, payout, payout_status in lines:
            if status == "approved":
                unpaid[currency] += amount
            if status == "paid":  # paid once: by exactly one payout, which was paid
                assert payout_status == "paid"
            if payout is not None:
                assert status in ("approved", "paid")
                assert payout_status in ("open", "paid")  # a cancelled payout keeps no line
                in_payout[payout] += amount
        for payout, _, amount, status in made:
            assert in_payout.get(payout, 0) == (0 if status == "cancelled" else amount)
        theirs, mine = balances(self.db, self.partner), balances(self.db, self.brand)
        for currency in {*unpaid, "EUR", "USD"}:
            assert theirs.get(("commission_receivable", currency), 0) == unpaid[currency]
            assert mine.get(("commission_payable", currency), 0) == -unpaid[currency]


def test_random_pay_sequences_keep_every_promise(sqlite_db: Database) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    PayMachine.db = sqlite_db
    run_state_machine_as_test(
        PayMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
