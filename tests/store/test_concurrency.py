"""Concurrent writers on one database: every write lands, none fails with 'locked'."""

from __future__ import annotations

import threading
import time
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


def test_a_long_reading_holds_up_no_write(db: Database) -> None:
    """An analysis reading a whole log keeps one snapshot and takes no lock: a write made
    meanwhile lands at once (on SQLite it waited for the reading to end, up to the 10 s busy
    timeout, when every transaction took the write lock up front), and the reading does not
    see it."""
    org = create_organization(db, "reader", "Reader", OrgKind.BRAND)
    record_customer(db, org.id, "first@example.com", frozenset())
    seen, wrote = threading.Event(), threading.Event()
    counts: list[int] = []

    def analysis() -> None:
        with db.reading() as s:
            counts.append(CustomerRepository(s).count(org.id))
            seen.set()
            assert wrote.wait(30), "the write did not land while the reading was open"
            counts.append(CustomerRepository(s).count(org.id))

    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(analysis)
        assert seen.wait(30)
        began = time.monotonic()
        record_customer(db, org.id, "second@example.com", frozenset())
        took = time.monotonic() - began
        wrote.set()
        reading.result(timeout=30)
    assert took < 5, f"the write waited {took:.1f} s for the reading"
    assert counts == [1, 1]  # one snapshot for the whole reading
    with db.reading() as s:
        assert CustomerRepository(s).count(org.id) == 2
    with db.reading(), pytest.raises(RuntimeError, match="already open on this thread"):
        db.transaction().__enter__()


def test_a_held_connection_serves_transactions_until_it_fails(db: Database) -> None:
    """``holding``: one connection for a thread's transactions, commits and rollbacks alike;
    one killed under it fails one transaction, and the next checks out another."""
    from sqlalchemy import func, select, text

    from crosspromo.errors import DatabaseError
    from crosspromo.store import tables as t

    org = create_organization(db, "held", "Held", OrgKind.BRAND)
    postgres = db.engine.dialect.name == "postgresql"

    def driver() -> object:
        with db.transaction() as s:
            return s.connection().connection.driver_connection

    with db.holding():
        first = driver()
        record_customer(db, org.id, "a@example.com", frozenset())

        def rolled_back() -> None:
            with db.transaction() as s:
                s.execute(text("UPDATE organizations SET name = 'Never' WHERE id = :id"),
                          {"id": org.id})  # fmt: skip
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            rolled_back()
        assert driver() is first
        if postgres:
            with db.transaction() as s:
                backend = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with db.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            with pytest.raises(DatabaseError), db.transaction() as s:
                s.execute(select(func.count()).select_from(t.organizations)).scalar_one()
            assert driver() is not first
        record_customer(db, org.id, "b@example.com", frozenset())
    assert driver() is not None  # outside the block: a pooled connection again
    with db.transaction() as s:
        assert CustomerRepository(s).count(org.id) == 2
        name = s.execute(select(t.organizations.c.name).where(t.organizations.c.id == org.id))
        assert name.scalar_one() == "Held"
