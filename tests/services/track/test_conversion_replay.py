"""Every conversion sent twice at the same time, with the same idempotency key: each is
stored exactly once and both senders get the same answer (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, select

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import ConversionKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.track.conversions import (
    ConversionInput,
    record_conversions,
    request_fingerprint,
)
from crosspromo.store import tables as t
from crosspromo.store.database import Database

N = 60


def test_concurrent_twins_store_once(db: Database) -> None:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)

    def send(i: int) -> list[int]:
        item = ConversionInput(
            ConversionKind.SALE, datetime(2026, 3, 1, tzinfo=UTC), 100 + i, "EUR", order_id=f"o{i}"
        )
        recorded = record_conversions(
            db, org.id, [item], idempotency_key=f"key-{i}", fingerprint=request_fingerprint(i)
        )
        return [c.id for c in recorded.conversions]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, [i for i in range(N) for _ in range(2)]))
    for i in range(N):
        assert answers[2 * i] == answers[2 * i + 1], f"twins of {i} got different answers"
    with db.transaction() as s:
        stored = s.execute(select(func.count()).select_from(t.conversions)).scalar_one()
        orders = s.execute(select(func.count(t.conversions.c.order_id.distinct()))).scalar_one()
    assert (stored, orders) == (N, N)


def test_an_amount_that_is_no_whole_number_is_named(db: Database) -> None:
    """From Python, the amount is checked as the API checks it: a clear error, nothing kept."""
    import pytest

    from crosspromo.errors import InvalidInputError

    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    for amount in (None, 12.5, True, "100"):
        item = ConversionInput(ConversionKind.LEAD, datetime(2026, 3, 1, tzinfo=UTC), amount,  # type: ignore[arg-type]
                               None)  # fmt: skip
        with pytest.raises(InvalidInputError, match="row 0: amount_minor is a whole number"):
            record_conversions(db, org.id, [item])
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(t.conversions)).scalar_one() == 0


def test_concurrent_refunds_stay_within_their_sale(db: Database) -> None:
    """Two refunds of 600 against each sale of 1000, sent at the same moment from different
    connections: one of each pair is stored, the other refused as exceeding what is left."""
    from crosspromo.errors import InvalidInputError

    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    when = datetime(2026, 3, 1, tzinfo=UTC)
    sales = [ConversionInput(ConversionKind.SALE, when, 1000, "EUR", order_id=f"o{i}")
             for i in range(N)]  # fmt: skip
    record_conversions(db, org.id, sales)

    def refund(i: int) -> str:
        item = ConversionInput(ConversionKind.REFUND, when, 600, "EUR", order_id=f"o{i}")
        try:
            record_conversions(db, org.id, [item])
        except InvalidInputError as exc:
            return exc.message
        return "stored"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(refund, [i for i in range(N) for _ in range(2)]))
    refused = "row 0: refund of 600 exceeds what is left of the sale (400)"
    assert [sorted(answers[2 * i : 2 * i + 2]) for i in range(N)] == [[refused, "stored"]] * N
    c = t.conversions.c
    with db.transaction() as s:
        refunded = s.execute(
            select(c.order_id, func.sum(c.amount_minor)).where(c.kind == "refund")
            .group_by(c.order_id)
        ).all()  # fmt: skip
    assert dict(refunded) == {f"o{i}": 600 for i in range(N)}
