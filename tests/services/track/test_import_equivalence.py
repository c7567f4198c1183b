"""The bulk import checks whole columns and sends only doubtful rows through the row rules.
Property: for any file, it stores exactly what the row rules, applied row by row, would store,
or fails on the same first row and column with the same message."""

from __future__ import annotations

import csv
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind
from crosspromo.errors import CrossPromoError, InvalidInputError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.track.conversions import create_code
from crosspromo.services.track.crediting import Lookups, conversion_values
from crosspromo.services.track.imports import COLUMNS, _parse, import_conversions
from crosspromo.services.track.links import add_domain, create_link
from crosspromo.store import tables as t
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickRepository, LinkRepository
from tests.conftest import agreed

# Per column: values both paths accept, values only the row rules accept (spellings the column
# checks leave to them), and values neither accepts. Most cells are plain, so files that store
# are common; every kind of value still turns up.
CELLS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "type": (["lead", "sale", "sale", "refund"], [" sale "], ["Sale", "gift", ""]),
    "occurred_at": (
        ["2026-03-01T10:00:00Z", "2026-03-01 10:00:00.5+02:00", "2026-03-01T23:59:59.123456-05:30"],
        [
            "2026-03-01T10Z",
            "2026-03-01T10:00:00+0200",
            " 2026-03-01T10:00:00Z ",
            "2026-03-01T10:00+01:00",
        ],
        [
            "2026-02-30T10:00:00Z",
            "2026-03-01T10:00:00",
            "1999-12-31T23:59:59Z",
            "2100-01-01T00:00:00.000001Z",
            "2026-03-01T24:00:00Z",
            "yesterday",
            "",
        ],
    ),
    "amount_minor": (
        ["250", "2500", "100", "2000000000000000"[:4]],
        ["+5", "1_000", "007", " 7 "],
        ["", "0", "-5", "12.50", "99999999999999999999", "1000000000000001"],
    ),
    "currency": (["EUR", "EUR"], [" USD "], ["", "eur", "EURO"]),
    "customer_external_id": (
        ["", "Ann@Example.com", "ID-7", "ann@example.com"],
        [" ann@example.com ", "Ä@x"],
        ["x" * 321],
    ),
    "click_id": (["", "", "CLICKSHOP"], [" CLICKSHOP "], ["CLICKOTHER", "unknown"]),
    "referral_code": (["", "", "FRIEND"], [], ["SAVE10", "NOPE"]),
    "coupon_code": (["", "", "SAVE10"], [], ["FRIEND"]),
    "order_id": (["", "o-1", "o-2", "o-1"], [" o-3 "], ["o" * 201]),
}


@pytest.fixture
def shop(db: Database) -> int:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    other = create_organization(db, "other", "Other", OrgKind.BRAND)
    create_organization(db, "friend", "Friend", OrgKind.PARTNER)
    for owner in (org, other):
        agreed(db, owner.id, "friend", name="referrals")
        add_domain(db, owner.id, "example.com")
    create_code(db, org.id, "friend", "FRIEND", CodeKind.REFERRAL)
    create_code(db, org.id, "friend", "SAVE10", CodeKind.COUPON)
    clicks = []
    for owner, click_id in ((org, "CLICKSHOP"), (other, "CLICKOTHER")):
        code = create_link(db, owner.id, "friend", "https://example.com/").code
        with db.transaction() as session:
            link = LinkRepository(session).get_for_org(owner.id, code)
        clicks.append(
            {
                "link_id": link.id,
                "org_id": owner.id,
                "partner_org_id": link.partner_org_id,
                "click_id": click_id,
                "clicked_at": datetime(2026, 3, 1, tzinfo=UTC),
                "visitor_hash": "v" * 64,
                "visit_key": "k",
                "referer": None,
                "is_bot": False,
            }
        )
    with db.transaction() as session:
        ClickRepository(session).add_many(clicks)
    return org.id


def _by_rules(db: Database, org_id: int, rows: list[dict[str, str]]) -> Any:
    """Row by row through the API's rules: the stored values, or (row, column, message)."""
    texts = {c: {r[c].strip() for r in rows} - {""} for c in COLUMNS}  # more than needed: harmless
    with db.transaction() as session:
        lookups = Lookups(
            session,
            org_id,
            click_ids=texts["click_id"],
            codes={kind: texts[f"{kind}_code"] for kind in CodeKind},
            refund_orders=texts["order_id"],
        )
        stored = []
        for index, row in enumerate(rows):
            try:
                stored.append(conversion_values(db, org_id, _parse(dict(row)), lookups))
            except CrossPromoError as exc:
                column = exc.details.get("column") or exc.details.get("field")
                return index, column, exc.message
    return stored


_ROW = st.fixed_dictionaries(
    {c: st.sampled_from(ok * 40 + odd * 4 + bad) for c, (ok, odd, bad) in CELLS.items()}
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(_ROW, min_size=1, max_size=6))
def test_bulk_import_equals_the_row_rules(
    db: Database, shop: int, rows: list[dict[str, str]]
) -> None:
    expected = _by_rules(db, shop, rows)
    event("fails" if isinstance(expected, tuple) else f"stores {len(expected)}")
    with db.transaction() as session:
        before = session.execute(
            select(t.conversions.c.id).order_by(t.conversions.c.id.desc())
        ).first()
    start = before[0] if before else 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        if isinstance(expected, tuple):
            index, column, message = expected
            with pytest.raises(InvalidInputError) as info:
                import_conversions(db, shop, path)
            assert info.value.message == f"line {index + 2}, column {column}: {message}"
            stored: list[dict[str, Any]] = []
        else:
            assert import_conversions(db, shop, path).imported == len(rows)
    with db.transaction() as session:
        found = session.execute(
            select(t.conversions).where(t.conversions.c.id > start).order_by(t.conversions.c.id)
        ).all()
    if not isinstance(expected, tuple):
        stored = [
            {k: v for k, v in r._mapping.items() if k not in ("id", "recorded_at")} for r in found
        ]
        assert stored == expected
    else:
        assert found == [], "a failed import stores nothing"
