"""Concurrent writers on one database: every write lands, none fails with 'locked'."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from crosspromo.domain import OrgKind
from crosspromo.services.accounts.customers import record_customer
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.store.database import Database
from crosspromo.store.repositories import CustomerRepository


def test_concurrent_read_then_write_transactions(db: Database) -> None:
    org = create_organization(db, "busy", "Busy", OrgKind.BRAND)

    def writer(worker: int) -> int:
        for i in range(40):
            record_customer(db, org.id, f"w{worker}-{i}@example.com", frozenset())
            record_customer(db, org.id, f"shared-{i}@example.com", frozenset())
        return worker

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert sorted(pool.map(writer, range(6))) == list(range(6))
    with db.transaction() as s:
        assert CustomerRepository(s).count(org.id) == 6 * 40 + 40


def test_nested_transaction_on_one_thread_is_refused(db: Database) -> None:
    def nested() -> None:
        with db.transaction():
            raise AssertionError("a nested transaction was opened")

    with db.transaction(), pytest.raises(RuntimeError, match="already open on this thread"):
        nested()
    with db.transaction() as s:  # the guard is released afterwards
        assert CustomerRepository(s).counts_by_org() == {}
