"""CSV and Parquet imports: all rows or none, errors naming line/row and column."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind
from crosspromo.errors import InvalidInputError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.track.conversions import create_code
from crosspromo.services.track.imports import import_conversions
from crosspromo.services.track.outbound import add_endpoint, list_deliveries
from crosspromo.store import tables as t
from crosspromo.store.database import Database
from tests.conftest import agreed

GOOD = """type,occurred_at,amount_minor,currency,order_id,referral_code
sale,2026-03-01T10:00:00Z,2500,EUR,o-1,FRIEND
lead,2026-03-01T11:00:00+02:00,,,,FRIEND
refund,2026-03-02T09:00:00Z,500,EUR,o-1,
"""


@pytest.fixture
def shop(db: Database) -> int:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    create_organization(db, "friend", "Friend", OrgKind.PARTNER)
    agreed(db, org.id, "friend", name="referrals")
    create_code(db, org.id, "friend", "FRIEND", CodeKind.REFERRAL)
    return org.id


def _count(db: Database) -> int:
    with db.transaction() as s:
        return int(s.execute(select(func.count()).select_from(t.conversions)).scalar_one())


def test_csv_import(db: Database, shop: int, tmp_path: Path) -> None:
    path = tmp_path / "conversions.csv"
    path.write_text(GOOD)
    assert import_conversions(db, shop, path).imported == 3
    assert _count(db) == 3


T = "2026-03-03T10:00:00"
BAD_ROWS = [
    (f"sale,{T}Z,12.50,EUR,o-2,", "line 5, column amount_minor: '12.50'"),
    ("sale,yesterday,100,EUR,o-2,", "line 5, column occurred_at: 'yesterday'"),
    (f"sale,{T},100,EUR,o-2,", "line 5, column occurred_at: needs a time zone"),
    (f"gift,{T}Z,100,EUR,o-2,", "line 5, column type: 'gift'"),
    (f"sale,{T}Z,100,EUR,o-2,NOPE", "column referral_code: unknown referral code 'NOPE'"),
    (f"refund,{T}Z,2001,EUR,o-1,", "line 5, column amount_minor: refund of 2001 exceeds"),
    (f"sale,{T}Z,100,EUR,o-2,,extra", "line 5: more values than columns"),
]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        *[(GOOD + row + "\n", message) for row, message in BAD_ROWS],
        ("type,when\nsale,x\n", "unknown column(s) when"),
        ("type,amount_minor\nsale,1\n", "missing column(s) occurred_at"),
    ],
)  # fmt: skip
def test_bad_csv_names_line_and_column_and_stores_nothing(
    db: Database, shop: int, tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "conversions.csv"
    path.write_text(body)
    with pytest.raises(InvalidInputError) as info:
        import_conversions(db, shop, path)
    assert message in info.value.message
    assert _count(db) == 0


def test_parquet_import_and_error(db: Database, shop: int, tmp_path: Path) -> None:
    table = pa.table(
        {
            "type": ["sale", "sale"],
            "occurred_at": pa.array(["2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"]),
            "amount_minor": pa.array([100, 200], pa.int64()),
            "currency": ["EUR", "EURO"],
        }
    )
    path = tmp_path / "c.parquet"
    pq.write_table(table, path)
    with pytest.raises(InvalidInputError, match=r"row 2, column currency: currency 'EURO'"):
        import_conversions(db, shop, path)
    assert _count(db) == 0
    pq.write_table(table.slice(0, 1), path)
    assert import_conversions(db, shop, path).imported == 1


def test_wrong_files(db: Database, shop: int, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        import_conversions(db, shop, tmp_path / "missing.csv")
    other = tmp_path / "c.xlsx"
    other.write_text("x")
    with pytest.raises(InvalidInputError, match=r"expected a \.csv or \.parquet"):
        import_conversions(db, shop, other)
    broken = tmp_path / "c.parquet"
    broken.write_text("not parquet")
    with pytest.raises(InvalidInputError, match="not a readable Parquet file"):
        import_conversions(db, shop, broken)


def test_quoted_line_breaks_count_in_the_line_named(
    db: Database, shop: int, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "type,occurred_at,amount_minor,currency,order_id\n"
        'sale,2026-03-01T10:00:00Z,100,EUR,"order\nwith a break"\n'
        "sale,2026-03-01T10:00:00Z,100,EURO,o-9\n"
    )
    with pytest.raises(InvalidInputError, match=r"^line 4, column currency: currency 'EURO'"):
        import_conversions(db, shop, path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"type,occurred_at,type\nsale,x,y\n", r"column\(s\) type appear twice"),
        (b"type,occurred_at\nsale,2026-03-01T10:00:00Z\nsale,\xff\n", "is not UTF-8 text"),
        (b"\xfftype,occurred_at\n", "is not UTF-8 text"),
    ],
)
def test_unreadable_csv(
    db: Database, shop: int, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message):
        import_conversions(db, shop, path)
    assert _count(db) == 0


def test_short_rows_leave_the_rest_empty(db: Database, shop: int, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("type,occurred_at,amount_minor,currency\nlead,2026-03-01T10:00:00Z\n")
    assert import_conversions(db, shop, path).imported == 1


def test_parquet_native_types(db: Database, shop: int, tmp_path: Path) -> None:
    when = pa.array([1_772_359_200_000_000] * 2, pa.timestamp("us", tz="Europe/Berlin"))
    table = pa.table(
        {
            "type": ["sale", "lead"],
            "occurred_at": when,
            "amount_minor": pa.array([100, None], pa.int32()),
            "currency": ["EUR", None],
        }
    )
    path = tmp_path / "c.parquet"
    pq.write_table(table, path)
    assert import_conversions(db, shop, path).imported == 2
    with db.transaction() as s:
        rows = s.execute(select(t.conversions).order_by(t.conversions.c.id)).all()
    assert [(r.kind, r.amount_minor, r.occurred_at.isoformat()) for r in rows] == [
        ("sale", 100, "2026-03-01T10:00:00+00:00"),
        ("lead", 0, "2026-03-01T10:00:00+00:00"),
    ]
    naive = table.set_column(1, "occurred_at", when.cast(pa.timestamp("us")))
    pq.write_table(naive, path)
    with pytest.raises(InvalidInputError, match="row 1, column occurred_at: needs a time zone"):
        import_conversions(db, shop, path)


def test_import_writes_webhook_events(db: Database, shop: int, tmp_path: Path) -> None:
    add_endpoint(db, shop, "https://hooks.example.com/in", ["conversion.created"])
    path = tmp_path / "conversions.csv"
    path.write_text(GOOD)
    assert import_conversions(db, shop, path).imported == 3
    deliveries = list_deliveries(db, shop)
    assert sorted(d.event_type for d in deliveries) == ["conversion.created"] * 2
