"""The double-entry ledger's rules: every money movement is one transaction of postings that
balance, on accounts named per organization and currency. A transaction balances for each
organization and currency on its own (the brand's expense against its payable, the partner's
receivable against its income), so each party's books balance and both see the same movement
from their side. A posting names the other party it concerns (``counterparty``), which gives
balances per partner.

A posting's amount is in integer minor units: positive debits, negative credits. The accounts
commissions move through, from the brand's side to the partner's:

- ``commission_expense`` (brand, debit when approved, credit when reversed),
- ``commission_payable`` (brand: what it owes the partner),
- ``commission_receivable`` (partner: what it is owed), with ``commission_income`` against it,
- ``cash`` (the party's money: paid out by the brand, received by the partner).

A commission is posted when it is approved (pending and held lines owe nothing yet), so the
payable and the receivable always equal what is approved and not yet paid; a payout marked
paid moves it to cash on both sides.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from crosspromo.domain.money import MAX_MINOR, check_currency

ACCOUNTS = frozenset({
    "commission_expense", "commission_payable", "commission_receivable", "commission_income",
    "cash",
})  # fmt: skip


class Unbalanced(ValueError):
    """A transaction that is not a balanced set of postings; the message says why."""


@dataclass(frozen=True, slots=True)
class Posting:
    org_id: int
    account: str
    currency: str
    amount_minor: int  # > 0 debit, < 0 credit
    counterparty: int | None = None  # the other organization it concerns


@dataclass(frozen=True, slots=True)
class Transaction:
    """Postings that move money together; ``key`` makes posting it twice change nothing."""

    key: str
    kind: str
    memo: str
    postings: tuple[Posting, ...]


def check(transaction: Transaction) -> Transaction:
    """The transaction, or Unbalanced naming what is wrong."""
    if not 1 <= len(transaction.key) <= 200:
        raise Unbalanced("a transaction's key is 1-200 characters")
    if len(transaction.postings) < 2:
        raise Unbalanced("a transaction has at least two postings")
    sums: dict[tuple[int, str], int] = defaultdict(int)
    for posting in transaction.postings:
        if posting.account not in ACCOUNTS:
            raise Unbalanced(f"unknown account {posting.account!r}")
        check_currency(posting.currency)
        amount = posting.amount_minor
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise Unbalanced("a posting moves a non-zero whole number of minor units")
        if abs(amount) > MAX_MINOR:
            raise Unbalanced(f"a posting of {amount} is out of range")
        sums[(posting.org_id, posting.currency)] += amount
    unbalanced = {k: v for k, v in sums.items() if v}
    if unbalanced:
        shown = ", ".join(
            f"organization {o} {c} {v:+d}" for (o, c), v in sorted(unbalanced.items())
        )
        raise Unbalanced(f"debits and credits differ: {shown}")
    return transaction


def approved(brand: int, partner: int, currency: str, amount_minor: int) -> tuple[Posting, ...]:
    """Commissions approved (negative: reversals approved): the brand's expense and payable,
    the partner's receivable and income."""
    return (
        Posting(brand, "commission_expense", currency, amount_minor, partner),
        Posting(brand, "commission_payable", currency, -amount_minor, partner),
        Posting(partner, "commission_receivable", currency, amount_minor, brand),
        Posting(partner, "commission_income", currency, -amount_minor, brand),
    )


def paid(brand: int, partner: int, currency: str, amount_minor: int) -> tuple[Posting, ...]:
    """A payout paid: the brand's payable settled from its cash, the partner's receivable
    into its cash."""
    return (
        Posting(brand, "commission_payable", currency, amount_minor, partner),
        Posting(brand, "cash", currency, -amount_minor, partner),
        Posting(partner, "cash", currency, amount_minor, brand),
        Posting(partner, "commission_receivable", currency, -amount_minor, brand),
    )
