"""A partnership's monthly statement: the commissions approved that month by rule, the
reversals, the payouts paid, and the balance owed before and after, per currency. Either party
reads it as a page or a PDF; its totals go into the monthly statement both parties can verify
in the partnership's record (``agree.performance.add_statement``).

The month counts lines by the day they were approved and payouts by the day they were run
as of; the closing balance is what was approved by the month's end and not paid by then, so
it equals the partner's receivable in the ledger once nothing later has been approved or paid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.domain.clock import parse_month
from crosspromo.domain.money import money_text
from crosspromo.services.pay.versions import paying_versions
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    OrganizationRepository,
    PartnershipRepository,
    RecordRepository,
    StatementRepository,
)


@dataclass(frozen=True, slots=True)
class RuleLine:
    """The commissions one rule of one terms version earned in the month (before reversals)."""

    version: int
    rule: int
    describes: str
    currency: str
    lines: int
    earned_minor: int


@dataclass(frozen=True, slots=True)
class MonthTotals:
    """One currency's account of the month: opening + earned - reversed - paid = closing."""

    currency: str
    opening_minor: int
    earned_minor: int
    reversed_minor: int
    paid_minor: int
    closing_minor: int


@dataclass(frozen=True, slots=True)
class Statement:
    partnership_id: int
    brand: str
    partner: str
    month: str
    rules: list[RuleLine]
    totals: list[MonthTotals]


def statement(db: Database, org_id: int, partnership_id: int, month: str) -> Statement:
    """The month's statement of a partnership ``org_id`` is a party to (either side)."""
    first = parse_month(month)
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    with db.reading() as session:
        return _statement(session, org_id, partnership_id, month, first, last)


def _statement(
    session: Session, org_id: int, partnership_id: int, month: str, first: date, last: date
) -> Statement:
    item = PartnershipRepository(session).get_for_org(org_id, partnership_id)
    orgs = OrganizationRepository(session).many((item.initiator_org_id, item.partner_org_id))
    entries = RecordRepository(session).entries(partnership_id)
    paying = {o: paying_versions(entries, orgs[o].slug) for o in orgs}  # the record, read once
    brand_id = next((o for o, versions in paying.items() if versions), item.initiator_org_id)
    partner_id = item.other_party(brand_id)
    described = {
        (v.version, n): describe(rule, v.commission)
        for versions in paying.values()
        for v in versions
        for n, rule in enumerate(v.commission["rules"])
    }
    repo = StatementRepository(session)
    rules = [
        RuleLine(v, r, described.get((v, r), f"rule {r + 1}"), c, n, amount)
        for v, r, c, n, amount in repo.earned(partnership_id, first, last)
    ]
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for currency, name, amount in repo.movements(partnership_id, brand_id, partner_id, first, last):
        sums[currency][name] += amount
    totals = []
    for currency, found in sorted(sums.items()):
        opening = found["approved_before"] - found["paid_before"]
        earned, reversed_, paid = found["earned"], found["reversed"], found["paid"]
        totals.append(
            MonthTotals(
                currency, opening, earned, reversed_, paid, opening + earned - reversed_ - paid
            )
        )
    return Statement(
        partnership_id, orgs[brand_id].slug, orgs[partner_id].slug, month, rules, totals
    )


@dataclass(frozen=True, slots=True)
class StatementMonth:
    partnership_id: int
    other: str
    month: str


def months_of(db: Database, org_id: int) -> list[StatementMonth]:
    """The months the organization's partnerships have statements of, newest first."""
    with db.reading() as session:
        return [StatementMonth(*m) for m in StatementRepository(session).months(org_id)]


def describe(rule: Mapping[str, Any], commission: Mapping[str, Any]) -> str:
    """A rule in words: "10% of each sale", "EUR 2.00 per lead", "tiers on sales"."""
    what = rule["applies_to"]
    if rule["kind"] == "percent":
        return f"{rule['rate_bp'] / 100:g}% of each {what}"
    if rule["kind"] == "flat":
        amount = money_text(int(rule["flat_minor"]), commission["currency"], symbol=False)
        return f"{amount} per {what}"
    return f"tiers on {what}s ({rule['tier_scope'].replace('_', ' ')})"


def record_totals(found: Statement) -> dict[str, Any]:
    """The statement's totals as the record's monthly statement carries them."""
    return {
        t.currency: {
            "earned_minor": t.earned_minor,
            "reversed_minor": t.reversed_minor,
            "paid_minor": t.paid_minor,
            "balance_minor": t.closing_minor,
        }
        for t in found.totals
    }


def pdf(found: Statement) -> bytes:
    """The statement as a one-page PDF (fpdf2; amounts with their ISO codes)."""
    from fpdf import FPDF  # loaded when a PDF is asked for

    doc = FPDF(format="A4")
    doc.set_title(f"Statement {found.month}: {found.brand} / {found.partner}")
    doc.add_page()
    doc.set_font("Helvetica", "B", 16)
    doc.cell(0, 10, f"Commission statement {found.month}", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "", 11)
    doc.cell(
        0,
        7,
        f"{found.brand} pays {found.partner} (partnership {found.partnership_id})",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    doc.ln(4)
    _table(
        doc,
        ["Rule", "Lines", "Earned"],
        [
            [r.describes, str(r.lines), money_text(r.earned_minor, r.currency, symbol=False)]
            for r in found.rules
        ]
        or [["no commissions approved this month", "", ""]],
        [110, 20, 50],
    )
    doc.ln(6)
    _table(
        doc,
        ["Currency", "Opening", "Earned", "Reversed", "Paid", "Closing"],
        [
            [t.currency]
            + [
                money_text(v, t.currency, symbol=False)
                for v in (
                    t.opening_minor,
                    t.earned_minor,
                    t.reversed_minor,
                    t.paid_minor,
                    t.closing_minor,
                )
            ]
            for t in found.totals
        ]
        or [["-", "", "", "", "", ""]],
        [20, 32, 32, 32, 32, 32],
    )
    return bytes(doc.output())


def _table(doc: Any, head: list[str], rows: list[list[str]], widths: list[int]) -> None:
    doc.set_font("Helvetica", "B", 10)
    for text, width in zip(head, widths, strict=True):
        doc.cell(width, 8, text, border=1)
    doc.ln()
    doc.set_font("Helvetica", "", 10)
    for row in rows:
        for number, (text, width) in enumerate(zip(row, widths, strict=True)):
            doc.cell(width, 7, text, border=1, align="L" if number == 0 else "R")
        doc.ln()
