"""The ledger's transactions and postings: added whole or not at all, each once by its key;
balances and the trial balance are sums, in integers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, insert, select

from crosspromo.domain.ledger import Posting, Transaction
from crosspromo.errors import ConflictError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


@dataclass(frozen=True, slots=True)
class Totals:
    currency: str
    debits_minor: int
    credits_minor: int


class LedgerRepository(Repository):
    def post(self, org_id: int, transaction: Transaction) -> tuple[int, bool]:
        """Add a checked transaction (``domain.ledger.check``); its id and whether it is new.
        The same key again with the same postings changes nothing; with others, a conflict."""
        c = t.ledger_transactions.c
        found = self.session.execute(select(c.id).where(c.key == transaction.key)).first()
        if found is not None:
            if self.postings(int(found[0])) != sorted(transaction.postings, key=_order):
                raise ConflictError(f"ledger transaction {transaction.key!r} was posted with "
                                    "other postings")  # fmt: skip
            return int(found[0]), False
        values = {"org_id": org_id, "key": transaction.key, "kind": transaction.kind,
                  "memo": transaction.memo[:500], "created_at": utcnow()}  # fmt: skip
        busy = f"ledger transaction {transaction.key!r} is being posted"
        new_id = self._insert(t.ledger_transactions, values, busy)
        self.session.execute(insert(t.ledger_postings), [
            {"transaction_id": new_id, "org_id": p.org_id, "account": p.account,
             "currency": p.currency, "amount_minor": p.amount_minor,
             "counterparty_org_id": p.counterparty}
            for p in transaction.postings
        ])  # fmt: skip
        return new_id, True

    def postings(self, transaction_id: int) -> list[Posting]:
        p = t.ledger_postings.c
        rows = self.session.execute(
            select(p.org_id, p.account, p.currency, p.amount_minor, p.counterparty_org_id).where(
                p.transaction_id == transaction_id
            )
        )
        return sorted((Posting(int(r[0]), r[1], r[2], int(r[3]), r[4]) for r in rows), key=_order)

    def balances(self, org_id: int) -> dict[tuple[str, str], int]:
        """Each of the organization's accounts by (account, currency): the sum of its postings."""
        p = t.ledger_postings.c
        rows = self.session.execute(
            select(p.account, p.currency, func.sum(p.amount_minor))
            .where(p.org_id == org_id)
            .group_by(p.account, p.currency)
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def by_counterparty(self, org_id: int, account: str) -> dict[tuple[int, str], int]:
        """The organization's balance on ``account`` per (other party, currency)."""
        p = t.ledger_postings.c
        rows = self.session.execute(
            select(p.counterparty_org_id, p.currency, func.sum(p.amount_minor))
            .where(p.org_id == org_id, p.account == account, p.counterparty_org_id.is_not(None))
            .group_by(p.counterparty_org_id, p.currency)
        )
        return {(int(r[0]), r[1]): int(r[2]) for r in rows}

    def trial_balance(self, org_id: int) -> list[Totals]:
        """Per currency, the organization's debits and credits (equal when its books hold)."""
        p = t.ledger_postings.c
        debit = func.sum(case((p.amount_minor > 0, p.amount_minor), else_=0))
        credit = func.sum(case((p.amount_minor < 0, -p.amount_minor), else_=0))
        rows = self.session.execute(
            select(p.currency, debit, credit)
            .where(p.org_id == org_id)
            .group_by(p.currency)
            .order_by(p.currency)
        )
        return [Totals(r[0], int(r[1]), int(r[2])) for r in rows]


def _order(posting: Posting) -> tuple[int, str, str, int, int]:
    return (posting.org_id, posting.account, posting.currency, posting.amount_minor,
            posting.counterparty or 0)  # fmt: skip
