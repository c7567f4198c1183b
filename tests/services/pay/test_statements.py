"""The monthly statement: commissions by rule, reversals, payouts and balances worked out by
hand; the PDF opens and shows the same totals, which equal the ledger's; the totals go into
the partnership's signed record, which still verifies."""

from __future__ import annotations

import io
from datetime import date, datetime

from pypdf import PdfReader

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.domain.record import verify
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.agree.agreements import export_bundle
from crosspromo.services.agree.performance import add_statement
from crosspromo.services.pay import payouts
from crosspromo.services.pay.commissions import compute
from crosspromo.services.pay.ledger import balances
from crosspromo.services.pay.statements import MonthTotals, RuleLine, pdf, statement
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.store.database import Database
from tests.conftest import agreed

TERMS = {
    "currency": "EUR",
    "rounding": "half_up",
    "holding_days": 5,
    "clawback_days": 60,
    "rules": [
        {"applies_to": "sale", "kind": "percent", "rate_bp": 1000, "recurring_months": 120},
        {"applies_to": "lead", "kind": "flat", "flat_minor": 250},
    ],
}


def _add(
    db: Database,
    brand: int,
    kind: ConversionKind,
    day: str,
    amount: int = 0,
    order: str | None = None,
) -> None:
    record_conversions(
        db,
        brand,
        [
            ConversionInput(
                kind,
                datetime.fromisoformat(f"{day}T09:00:00+00:00"),
                amount,
                None if kind is ConversionKind.LEAD else "EUR",
                referral_code=None if kind is ConversionKind.REFUND else "BEANS",
                order_id=order,
            )
        ],
    )


def test_a_monthly_statement_as_page_pdf_and_signed_totals(db: Database) -> None:
    brand = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
    partner = create_organization(db, "beans", "Beans", OrgKind.PARTNER).id
    pid = agreed(db, brand, "beans", start="2026-01-01", commission=TERMS)
    create_code(db, brand, "beans", "BEANS", CodeKind.REFERRAL)
    _add(db, brand, ConversionKind.SALE, "2026-02-20", 30_000, "a")  # 30.00, approved 02-25
    compute(db, brand, date(2026, 2, 28))
    paid = payouts.run(db, brand, date(2026, 2, 28)).payouts[0]
    payouts.mark_paid(db, brand, paid.id, "FEB")  # 30.00 paid as of February
    _add(db, brand, ConversionKind.SALE, "2026-03-02", 12_345, "b")  # 12.35 (half up), 03-07
    _add(db, brand, ConversionKind.LEAD, "2026-03-03")  # 2.50, approved 03-08
    _add(db, brand, ConversionKind.REFUND, "2026-03-10", 10_000, "a")  # reverses 10.00
    compute(db, brand, date(2026, 4, 2))
    run = payouts.run(db, brand, date(2026, 3, 31)).payouts[0]  # 12.35 + 2.50 - 10.00
    payouts.mark_paid(db, brand, run.id, "MAR")
    march = statement(db, partner, pid, "2026-03")  # the partner's side reads it too
    assert (march.brand, march.partner) == ("acme", "beans")
    assert march.rules == [
        RuleLine(1, 0, "10% of each sale", "EUR", 1, 1235),
        RuleLine(1, 1, "EUR 2.50 per lead", "EUR", 1, 250),
    ]
    assert march.totals == [MonthTotals("EUR", 0, 1235 + 250, 1000, 485, 0)]
    assert statement(db, brand, pid, "2026-02").totals == [MonthTotals("EUR", 0, 3000, 0, 3000, 0)]
    receivable = balances(db, partner).get(("commission_receivable", "EUR"), 0)
    assert march.totals[0].closing_minor == receivable == 0

    document = PdfReader(io.BytesIO(pdf(march)))
    text = document.pages[0].extract_text()
    assert "Commission statement 2026-03" in text
    for shown in ("EUR 12.35", "EUR 2.50", "EUR 14.85", "EUR 10.00", "EUR 4.85", "EUR 0.00"):
        assert shown in text, shown

    add_statement(db, brand, pid, "2026-03", today=date(2026, 4, 2))
    bundle = export_bundle(db, partner, pid)
    assert verify(bundle).valid
    assert (
        b'"commissions":{"EUR":{"balance_minor":0,"earned_minor":1485,"paid_minor":485,'
        b'"reversed_minor":1000}}' in bundle
    )
