"""The ledger: only balanced transactions (for each organization and currency), each posted
once by its key, nothing ever changed or removed in the database, balances and the trial
balance by sum. Hypothesis posts random sequences of commission movements and checks every
balance against the movements made."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from crosspromo.domain import OrgKind
from crosspromo.domain.ledger import Posting, Transaction, Unbalanced, approved, check
from crosspromo.domain.ledger import paid as settled
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.pay.ledger import balances, post, trial_balance
from crosspromo.store.database import Database
from tests.cli.test_cli import cli_here

BRAND, PARTNER = 1, 2
EXAMPLES = itertools.count()


def earned(key: str, amount: int, currency: str = "EUR", brand: int = BRAND,
           partner: int = PARTNER) -> Transaction:  # fmt: skip
    """A commission approved: the brand's expense against its payable, the partner's
    receivable against its income (a negative amount: the same movement reversed)."""
    return Transaction(key, "commission", "approved", approved(brand, partner, currency, amount))


def paid(key: str, amount: int, currency: str = "EUR", brand: int = BRAND,
         partner: int = PARTNER) -> Transaction:  # fmt: skip
    return Transaction(key, "payout", "paid", settled(brand, partner, currency, amount))


@pytest.fixture
def parties(db: Database) -> None:
    assert create_organization(db, "acme", "Acme", OrgKind.BRAND).id == BRAND
    assert create_organization(db, "beans", "Beans", OrgKind.PARTNER).id == PARTNER


@pytest.mark.parametrize(
    ("postings", "refused"),
    [
        ((Posting(BRAND, "cash", "EUR", 100),), "at least two postings"),
        (
            (Posting(BRAND, "cash", "EUR", 100), Posting(BRAND, "commission_payable", "EUR", -99)),
            "organization 1 EUR \\+1",
        ),
        (
            (Posting(BRAND, "cash", "EUR", 100), Posting(PARTNER, "cash", "EUR", -100)),
            "organization 1 EUR \\+100, organization 2 EUR -100",
        ),  # balanced only across parties
        ((Posting(BRAND, "cash", "EUR", 100), Posting(BRAND, "cash", "USD", -100)), "EUR \\+100"),
        ((Posting(BRAND, "cash", "EUR", 0), Posting(BRAND, "cash", "EUR", 0)), "non-zero"),
        ((Posting(BRAND, "petty", "EUR", 1), Posting(BRAND, "cash", "EUR", -1)), "unknown account"),
        ((Posting(BRAND, "cash", "EUR", True), Posting(BRAND, "cash", "EUR", -1)), "whole number"),
    ],
)
def test_only_balanced_transactions_are_posted(postings: tuple[Posting, ...], refused: str) -> None:
    with pytest.raises(Unbalanced, match=refused):
        check(Transaction("k", "test", "", postings))


def test_posted_once_by_key_never_changed_and_summed(db: Database, parties: None) -> None:
    first = post(db, BRAND, earned("conversion:7:rule:0", 1_000))
    assert first.new
    again = post(db, BRAND, earned("conversion:7:rule:0", 1_000))
    assert (again.transaction_id, again.new) == (first.transaction_id, False)
    with pytest.raises(ConflictError, match="other postings"):
        post(db, BRAND, earned("conversion:7:rule:0", 999))
    with pytest.raises(InvalidInputError, match="debits and credits differ"):
        post(db, BRAND, Transaction("bad", "test", "", (
            Posting(BRAND, "cash", "EUR", 5), Posting(BRAND, "cash", "EUR", -4))))  # fmt: skip
    post(db, BRAND, earned("conversion:8:rule:0", 2_500, "USD"))
    post(db, BRAND, earned("reversal:7", -400))
    post(db, BRAND, paid("payout:1", 600))
    assert balances(db, BRAND) == {("commission_expense", "EUR"): 600,
                                   ("commission_payable", "EUR"): 0,
                                   ("cash", "EUR"): -600,
                                   ("commission_expense", "USD"): 2_500,
                                   ("commission_payable", "USD"): -2_500}  # fmt: skip
    assert [(c.currency, c.debits_minor, c.credits_minor)
            for c in trial_balance(db, PARTNER).currencies] == [
        ("EUR", 1_000 + 400 + 600, 1_000 + 400 + 600), ("USD", 2_500, 2_500)]  # fmt: skip
    for statement in ("UPDATE ledger_postings SET amount_minor = 0", "DELETE FROM ledger_postings",
                      "UPDATE ledger_transactions SET kind = 'x'",
                      "DELETE FROM ledger_transactions"):  # fmt: skip
        with pytest.raises(Exception, match="append-only"), db.transaction() as session:
            session.execute(text(statement))


MOVES = st.lists(st.tuples(st.sampled_from(["earn", "reverse", "pay"]), st.integers(1, 10**9),
                           st.sampled_from(["EUR", "USD", "JPY"])), max_size=30)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(MOVES)
def test_random_movements_keep_every_book_balanced(
    sqlite_db: Database, moves: list[tuple[str, int, str]]
) -> None:
    example = next(EXAMPLES)  # each example keeps the books of two organizations of its own
    brand = create_organization(sqlite_db, f"brand-{example}", "Brand", OrgKind.BRAND).id
    partner = create_organization(sqlite_db, f"partner-{example}", "Partner", OrgKind.PARTNER).id
    owed: dict[str, int] = {}
    for number, (move, amount, currency) in enumerate(moves):
        signed = -amount if move == "reverse" else amount
        made = (paid if move == "pay" else earned)(f"{example}:{number}", signed, currency,
                                                   brand, partner)  # fmt: skip
        assert post(sqlite_db, brand, made).new
        assert not post(sqlite_db, brand, made).new  # replayed: nothing changes
        owed[currency] = owed.get(currency, 0) + (amount if move == "earn" else -amount)
    for org in (brand, partner):
        assert all(c.debits_minor == c.credits_minor
                   for c in trial_balance(sqlite_db, org).currencies)  # fmt: skip
    books, theirs = balances(sqlite_db, brand), balances(sqlite_db, partner)
    for currency, total in owed.items():
        assert -books.get(("commission_payable", currency), 0) == total
        assert theirs.get(("commission_receivable", currency), 0) == total


def test_trial_balance_from_the_command_line(sqlite_db: Database, tmp_path: Path) -> None:
    assert create_organization(sqlite_db, "acme", "Acme", OrgKind.BRAND).id == BRAND
    assert create_organization(sqlite_db, "beans", "Beans", OrgKind.PARTNER).id == PARTNER
    post(sqlite_db, BRAND, earned("k1", 1_234))
    done = cli_here("ledger", "trial-balance", "--org", "acme", "--format", "json",
                    db_url=str(sqlite_db.settings.database_url))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "currencies": [{"currency": "EUR", "debits_minor": 1_234, "credits_minor": 1_234}]
    }
