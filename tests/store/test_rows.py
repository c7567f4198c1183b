"""Many rows in one statement (arrays through unnest on PostgreSQL): what comes back is each
stored row's, in the rows' order; duplicates of a unique index are left out when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from crosspromo.domain import OrgKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.store import tables as t
from crosspromo.store.columns import UTCDateTime
from crosspromo.store.database import Database
from crosspromo.store.repositories.rows import add_values, insert_rows


@pytest.mark.parametrize("count", [1, 7, 8, 50])
def test_ids_come_back_in_the_rows_order(db: Database, count: int) -> None:
    when = datetime(2026, 5, 1, 12, tzinfo=UTC)
    rows = [
        {"org_id": 1, "kind": "sale", "order_id": f"o{i}", "amount_minor": 100 + i,
         "currency": "EUR", "occurred_at": when, "recorded_at": when,
         "customer_hash": None if i % 3 else f"h{i}"}
        for i in reversed(range(count))
    ]  # fmt: skip
    with db.transaction() as s:
        ids = [r[0] for r in insert_rows(s, t.conversions, rows, ("id",))]
    with db.transaction() as s:
        stored = {r.id: r for r in s.execute(select(t.conversions))}
    assert len(ids) == count
    for row, new_id in zip(rows, ids, strict=True):
        back = stored[new_id]
        assert (back.order_id, back.amount_minor, back.customer_hash, back.occurred_at) == (
            row["order_id"], row["amount_minor"], row["customer_hash"], when)  # fmt: skip


@pytest.mark.parametrize("count", [3, 12])
def test_duplicates_are_left_out_and_json_kept(db: Database, count: int) -> None:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND).id
    now = datetime.now(UTC)

    def record(key: str, ids: list[int]) -> dict[str, object]:
        return {"org_id": org, "key": key, "request_hash": "h", "status_code": 201,
                "response": {"ids": ids}, "created_at": now}  # fmt: skip

    with db.transaction() as s:
        first = insert_rows(s, t.idempotency_records, [record("k0", [1, 2])], ("org_id", "key"),
                            ("org_id", "key"))  # fmt: skip
    rows = [record(f"k{i}", [i]) for i in range(count)]
    with db.transaction() as s:
        stored = insert_rows(s, t.idempotency_records, rows, ("org_id", "key"), ("org_id", "key"))
    assert first == [(org, "k0")]
    assert sorted(stored) == sorted((org, f"k{i}") for i in range(1, count))
    c = t.idempotency_records.c
    with db.transaction() as s:
        kept = dict(s.execute(select(c.key, c.response)).all())
    assert kept == {"k0": {"ids": [1, 2]}} | {f"k{i}": {"ids": [i]} for i in range(1, count)}
    with pytest.raises(IntegrityError), db.transaction() as s:  # without the skip, refused
        insert_rows(s, t.idempotency_records, rows, ("id",))


@given(
    at=st.datetimes(timezones=st.just(UTC)),
    offset=st.integers(-23 * 60, 23 * 60),
)
def test_sqlite_datetime_text_is_sqlalchemys_own(at: datetime, offset: int) -> None:
    """``UTCDateTime`` writes on SQLite the text SQLAlchemy's ``DATETIME`` writes (what every
    row stored before holds), in UTC whatever the zone it is given in."""
    dialect = sqlite.dialect()  # type: ignore[no-untyped-call]
    ours = UTCDateTime().bind_processor(dialect)
    stock = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None
    assert stock is not None
    zone = timezone(timedelta(minutes=offset))
    if (
        datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
        < at
        < datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
    ):
        at = at.astimezone(zone)
    assert ours(at) == stock(at.astimezone(UTC).replace(tzinfo=None))
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(at.replace(tzinfo=None))


@given(
    at=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    offset=st.integers(-23 * 60, 23 * 60),
    microseconds=st.booleans(),
)
def test_sqlite_text_of_an_iso_time_is_what_its_datetime_stores(
    at: datetime, offset: int, microseconds: bool
) -> None:
    """The text rewritten from an ISO 8601 time (the click journal's, or any other form with
    a zone) is the text its datetime is stored as, byte for byte."""
    dialect = sqlite.dialect()  # type: ignore[no-untyped-call]
    ours = UTCDateTime().bind_processor(dialect)
    assert ours is not None
    given_at = at.astimezone(timezone(timedelta(minutes=offset)))
    iso = given_at.isoformat(timespec="microseconds") if microseconds else given_at.isoformat()
    assert UTCDateTime.sqlite_text(iso) == ours(given_at)


@pytest.mark.parametrize(
    "iso",
    [
        "2026-12-04T01:02:03.000004",  # no zone
        "2026-13-04T01:02:03.000004+00:00",  # no such month, in the journal's form
        "yesterday",
        "",
    ],
)
def test_sqlite_text_refuses_what_is_not_an_aware_iso_time(iso: str) -> None:
    with pytest.raises(ValueError, match=r"zone|format|must be|out of range"):
        UTCDateTime.sqlite_text(iso)


@pytest.mark.parametrize(
    "iso", ["2026-12-04T01:02:03,000004+00:00", "2026-W49-5T01:02:03.000004+00:00"]
)
def test_other_iso_forms_of_the_journals_length_are_read_as_times(iso: str) -> None:
    """A comma before the fraction, a week date: as long as the journal's form, still read."""
    assert UTCDateTime.sqlite_text(iso) == "2026-12-04 01:02:03.000004"


def test_rows_given_as_values_are_stored_as_rows_are(db: Database) -> None:
    """``add_values`` (values in column order, times as ISO text) stores what ``add_rows``
    stores for the same rows, on either backend; a row of another width is refused."""
    org = create_organization(db, "values", "Values", OrgKind.BRAND).id
    when = datetime(2026, 12, 4, 1, 2, 3, 4, tzinfo=UTC)
    columns = ("org_id", "kind", "order_id", "amount_minor", "currency", "occurred_at",
               "recorded_at", "customer_hash")  # fmt: skip
    values = [
        [org, "sale", f"v{i}", 100 + i, "EUR", (when + timedelta(seconds=i)).isoformat(),
         when.astimezone(timezone(timedelta(hours=-5))).isoformat(), None if i % 2 else "h"]
        for i in range(9)
    ]  # fmt: skip
    with db.transaction() as s:
        add_values(s, t.conversions, columns, values)
    c = t.conversions.c
    with db.transaction() as s:
        stored = s.execute(
            select(c.order_id, c.amount_minor, c.occurred_at, c.recorded_at, c.customer_hash)
            .where(c.org_id == org)
            .order_by(c.order_id)
        ).all()
    assert [tuple(r) for r in stored] == [
        (f"v{i}", 100 + i, when + timedelta(seconds=i), when, None if i % 2 else "h")
        for i in range(9)
    ]
    with pytest.raises(ValueError, match="values for 8 columns"), db.transaction() as s:
        add_values(s, t.conversions, columns, [values[0][:-1]])
