"""Payouts: a brand's run as of a day gathers, per partner and currency, every approved line
not yet in a payout (reversals included) when the total reaches the partner's threshold; a
payout is marked paid with the bank's reference (its lines paid, the ledger posted: the brand's
payable and the partner's receivable settled in cash) or cancelled (its lines free again).
Exported as CSV, or for EUR as a SEPA credit transfer (pain.001.001.03, ``sepaxml``) from the
brand's account to the partner's."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sepaxml import SepaTransfer
from sqlalchemy.orm import Session

from crosspromo.domain import Organization
from crosspromo.domain.clock import checked_day, today
from crosspromo.domain.ledger import Transaction, check, paid
from crosspromo.errors import ConflictError, InvalidInputError, InvalidTransitionError
from crosspromo.services.pay.details import account
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    CommissionRepository,
    LedgerRepository,
    OrganizationRepository,
    PayoutDetailsRepository,
    PayoutRepository,
    PayoutRow,
)

FORMATS = ("csv", "sepa")


@dataclass(frozen=True, slots=True)
class RunPayout:
    id: int
    partner: str
    currency: str
    amount_minor: int
    lines: int


@dataclass(frozen=True, slots=True)
class PayoutRun:
    payouts: list[RunPayout]


@dataclass(frozen=True, slots=True)
class PayoutView:
    id: int
    brand: str
    partner: str
    currency: str
    amount_minor: int
    lines: int
    as_of: date
    status: str
    reference: str | None
    created_at: datetime
    closed_at: datetime | None


def run(db: Database, org_id: int, as_of: date | None = None) -> PayoutRun:
    """One payout per partner and currency whose approved, unpaid total as of the day reaches
    its threshold (and is above zero: a negative total carries into the next run)."""
    day = checked_day(as_of)
    with db.transaction() as session:
        lines = CommissionRepository(session)
        lines.lock(org_id)
        payable = lines.payable(org_id, day)
        thresholds = PayoutDetailsRepository(session).thresholds([p for p, *_ in payable])
        names = OrganizationRepository(session).many({p for p, *_ in payable})
        repo, made = PayoutRepository(session), []
        for partner, currency, amount, _ in sorted(payable):
            if amount <= 0 or amount < thresholds.get(partner, 0):
                continue
            payout = repo.add(org_id, partner, currency, amount, 0, day)
            count = lines.assign(org_id, partner, currency, day, payout)
            repo.set_lines(payout, count)
            made.append(RunPayout(payout, names[partner].slug, currency, amount, count))
        return PayoutRun(made)


def mark_paid(db: Database, org_id: int, payout_id: int, reference: str) -> PayoutView:
    """Mark an open payout paid with the bank's reference (again with the same reference:
    nothing changes)."""
    reference = reference.strip()
    if not 1 <= len(reference) <= 140:
        raise InvalidInputError("a payment reference is 1-140 characters", field="reference")
    with db.transaction() as session:
        CommissionRepository(session).lock(org_id)
        repo = PayoutRepository(session)
        payout = repo.get(org_id, payout_id)
        if payout.status == "paid" and payout.reference == reference:
            return _one(session, payout)
        if not repo.close(payout_id, "paid", reference):
            raise InvalidTransitionError(
                f"payout {payout_id} is {payout.status}: only an open payout can be marked paid"
            )
        CommissionRepository(session).mark_paid(payout_id)
        moves = paid(org_id, payout.partner_org_id, payout.currency, payout.amount_minor)
        LedgerRepository(session).post(
            org_id,
            check(
                Transaction(
                    f"payout:{payout_id}:paid",
                    "payout",
                    f"payout {payout_id} paid: {reference}"[:500],
                    moves,
                )
            ),
        )
        return _one(session, repo.get(org_id, payout_id))


def cancel(db: Database, org_id: int, payout_id: int) -> PayoutView:
    """Cancel an open payout: its lines are free for the next run."""
    with db.transaction() as session:
        lines = CommissionRepository(session)
        lines.lock(org_id)
        repo = PayoutRepository(session)
        payout = repo.get(org_id, payout_id)
        if not repo.close(payout_id, "cancelled", None):
            raise InvalidTransitionError(
                f"payout {payout_id} is {payout.status}: only an open payout can be cancelled"
            )
        lines.assign(
            org_id,
            payout.partner_org_id,
            payout.currency,
            payout.as_of,
            None,
            from_payout=payout_id,
        )
        return _one(session, repo.get(org_id, payout_id))


def payouts(db: Database, org_id: int, side: str = "brand") -> list[PayoutView]:
    """The brand's payouts, newest first (``side="partner"``: those paid to the organization)."""
    party = "org_id" if side == "brand" else "partner_org_id"
    with db.reading() as session:
        found = PayoutRepository(session).list(org_id, party)
        names = OrganizationRepository(session).many(
            {p.org_id for p in found} | {p.partner_org_id for p in found}
        )
    return [_view(p, names) for p in found]


def export(db: Database, org_id: int, payout_id: int, fmt: str) -> bytes:
    """The payout as CSV, or as a SEPA credit-transfer file (EUR only)."""
    if fmt not in FORMATS:
        raise InvalidInputError(f"format must be one of {list(FORMATS)}", field="format")
    with db.reading() as session:
        payout = PayoutRepository(session).get(org_id, payout_id)
        view = _one(session, payout)
        payer, payee = account(db, session, org_id), account(db, session, payout.partner_org_id)
    if payout.status == "cancelled":
        raise InvalidTransitionError(f"payout {payout_id} was cancelled: nothing to pay")
    if fmt == "csv":
        return _csv(view, payee.holder if payee else "", payee.iban if payee else "")
    if payout.currency != "EUR":
        raise InvalidInputError(
            f"a SEPA transfer is in EUR; payout {payout_id} is in "
            f"{payout.currency}: export it as CSV",
            field="format",
        )
    if payer is None:
        raise ConflictError(
            "give your own payout details (the account SEPA transfers are paid "
            "from) before exporting a SEPA file"
        )
    if payee is None:
        raise ConflictError(f"{view.partner} has not given its payout details yet")
    debtor: dict[str, object] = {
        "name": payer.holder,
        "IBAN": payer.iban,
        "batch": True,
        "currency": "EUR",
    }
    if payer.bic:  # without it the file says the bank is not provided, as SEPA allows
        debtor["BIC"] = payer.bic
    transfer = SepaTransfer(debtor, clean=True)
    payment = {
        "name": payee.holder,
        "IBAN": payee.iban,
        "amount": payout.amount_minor,
        "execution_date": max(today(), payout.as_of),
        "description": f"crosspromo payout {payout_id} from {view.brand}"[:140],
        "endtoend_id": f"CROSSPROMO-{payout_id}",
    }
    if payee.bic:
        payment["BIC"] = payee.bic
    transfer.add_payment(payment)
    return bytes(transfer.export(validate=True, pretty_print=True))


def _csv(view: PayoutView, holder: str, iban: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "payout_id",
            "brand",
            "partner",
            "currency",
            "amount_minor",
            "lines",
            "as_of",
            "status",
            "reference",
            "account_holder",
            "iban",
        ]
    )
    writer.writerow(
        [
            view.id,
            view.brand,
            view.partner,
            view.currency,
            view.amount_minor,
            view.lines,
            view.as_of.isoformat(),
            view.status,
            view.reference or "",
            holder,
            iban,
        ]
    )
    return out.getvalue().encode()


def _one(session: Session, payout: PayoutRow) -> PayoutView:
    return _view(
        payout, OrganizationRepository(session).many((payout.org_id, payout.partner_org_id))
    )


def _view(payout: PayoutRow, names: Mapping[int, Organization]) -> PayoutView:
    return PayoutView(
        payout.id,
        names[payout.org_id].slug,
        names[payout.partner_org_id].slug,
        payout.currency,
        payout.amount_minor,
        payout.lines,
        payout.as_of,
        payout.status,
        payout.reference,
        payout.created_at,
        payout.closed_at,
    )
