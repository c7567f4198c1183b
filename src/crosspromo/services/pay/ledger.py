"""The ledger as its users see it: transactions posted whole and once, each organization's
balances and its trial balance (debits and credits per currency, equal when its books hold)."""

from __future__ import annotations

from dataclasses import dataclass

from crosspromo.domain.ledger import Transaction, Unbalanced, check
from crosspromo.errors import InvalidInputError
from crosspromo.store.database import Database
from crosspromo.store.repositories import LedgerRepository, OrganizationRepository, Totals


@dataclass(frozen=True, slots=True)
class TrialBalance:
    currencies: list[Totals]


@dataclass(frozen=True, slots=True)
class Posted:
    transaction_id: int
    new: bool  # False: the same transaction was posted before, nothing changed


def post(db: Database, org_id: int, transaction: Transaction) -> Posted:
    """Post a balanced transaction, whole and once (its key again with the same postings
    changes nothing; with others it is a conflict)."""
    with db.transaction() as session:
        return Posted(*LedgerRepository(session).post(org_id, _checked(transaction)))


def _checked(transaction: Transaction) -> Transaction:
    try:
        return check(transaction)
    except Unbalanced as exc:
        raise InvalidInputError(
            f"ledger transaction {transaction.key!r}: {exc}", field="postings"
        ) from None


def trial_balance(db: Database, org_id: int) -> TrialBalance:
    with db.reading() as session:
        return TrialBalance(LedgerRepository(session).trial_balance(org_id))


def balances(db: Database, org_id: int) -> dict[tuple[str, str], int]:
    """The organization's balance on each (account, currency) it has postings on."""
    with db.reading() as session:
        return LedgerRepository(session).balances(org_id)


@dataclass(frozen=True, slots=True)
class Balance:
    """What the organization owes one partner (as a brand) in a currency: approved commissions
    not yet paid, from its ledger."""

    partner: str
    currency: str
    owed_minor: int


def partner_balances(db: Database, org_id: int) -> list[Balance]:
    with db.reading() as session:
        found = LedgerRepository(session).by_counterparty(org_id, "commission_payable")
        names = OrganizationRepository(session).many({p for p, _ in found})
    made = [Balance(names[p].slug, c, -v) for (p, c), v in found.items() if v]
    return sorted(made, key=lambda b: (b.partner, b.currency))
