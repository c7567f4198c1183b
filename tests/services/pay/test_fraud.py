"""The fraud checks, each made to hold exactly the conversion it is about (and nothing when the
organization turns it off): a partner's own staff buying, a conversion seconds after its
click, a visitor clicking in bursts, a conversion rate far outside the partner's history, and a
partner whose refunds pass the threshold. The robust z-score against a hand computation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from crosspromo.domain import OrgKind, Role
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.errors import InvalidInputError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.accounts.users import create_user
from crosspromo.services.pay import fraud, holds
from crosspromo.services.pay.commissions import compute
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.services.track.links import add_domain, create_link
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickRepository
from tests.conftest import agreed

TERMS = {
    "currency": "EUR",
    "holding_days": 30,
    "rules": [
        {"applies_to": "sale", "kind": "percent", "rate_bp": 1000, "recurring_months": 120},
        {"applies_to": "lead", "kind": "flat", "flat_minor": 100},
    ],
}
BASE = datetime(2026, 6, 1, 12, tzinfo=UTC)


class Shop:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.brand = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
        self.partner = create_organization(db, "beans", "Beans", OrgKind.PARTNER).id
        agreed(db, self.brand, "beans", start="2026-01-01", commission=TERMS)
        create_code(db, self.brand, "beans", "BEANS", CodeKind.REFERRAL)
        add_domain(db, self.brand, "acme.example")
        code = create_link(db, self.brand, "beans", "https://acme.example/", "c").code
        with db.transaction() as session:
            self.link = session.execute(
                text("SELECT id FROM links WHERE code = :c"), {"c": code}
            ).scalar_one()
        self.clicks = 0

    def click(self, at: datetime, visitor: str = "v", count: int = 1) -> str:
        rows = []
        for _ in range(count):
            self.clicks += 1
            rows.append(
                {
                    "link_id": self.link,
                    "org_id": self.brand,
                    "partner_org_id": self.partner,
                    "click_id": f"k{self.clicks:08d}",
                    "clicked_at": at,
                    "visitor_hash": visitor * 8,
                    "visit_key": "x",
                    "referer": None,
                    "is_bot": False,
                }
            )
        with self.db.transaction() as session:
            ClickRepository(session).add_many(rows)
        return str(rows[-1]["click_id"])

    def convert(self, at: datetime, kind: ConversionKind = ConversionKind.SALE, **more: Any) -> int:
        amount, currency = (10_000, "EUR") if kind is not ConversionKind.LEAD else (0, None)
        if kind is ConversionKind.REFUND:
            amount = more.pop("amount")
        if "click_id" not in more and kind is not ConversionKind.REFUND:
            more["referral_code"] = "BEANS"
        done = record_conversions(
            self.db, self.brand, [ConversionInput(kind, at, amount, currency, **more)]
        )
        return done.conversions[0].id

    def held(self, day: date) -> dict[int, str]:
        compute(self.db, self.brand, day)
        return {h.conversion_id: h.check for h in holds.holds(self.db, self.brand)}


def test_each_check_holds_what_it_is_about(db: Database) -> None:
    shop = Shop(db)
    create_user(db, "beans", "owner@beans.example", "a-long-password-1", Role.OWNER)
    staff = shop.convert(BASE, customer_external_id="Owner@Beans.example")  # normalized alike
    fast = shop.convert(
        BASE + timedelta(seconds=3), click_id=shop.click(BASE + timedelta(seconds=1), "f")
    )
    burst = shop.convert(
        BASE + timedelta(hours=2), click_id=shop.click(BASE + timedelta(hours=1), "b", count=25)
    )
    calm = shop.convert(BASE + timedelta(hours=3), click_id=shop.click(BASE, "c"))
    found = shop.held(date(2026, 6, 2))
    assert found == {staff: "self_referral", fast: "too_soon", burst: "click_burst"}
    assert calm not in found
    reasons = {h.check: h.reason for h in holds.holds(db, shop.brand)}
    assert reasons["too_soon"] == "converted 2 s after the click (under 10 s)"
    assert reasons["click_burst"].startswith("its visitor clicked 25 times within 60 min")


def test_a_conversion_rate_outside_the_partners_history(db: Database) -> None:
    shop = Shop(db)
    for day in range(10):  # ten days: 50 clicks, 2 conversions each (4%)
        at = BASE + timedelta(days=day)
        shop.click(at, f"d{day}", count=50)
        for _ in range(2 + (day % 2)):  # 4% and 6% alternating: the history varies
            shop.convert(at + timedelta(hours=3), ConversionKind.LEAD)
    assert shop.held(date(2026, 6, 11)) == {}
    spike = BASE + timedelta(days=10)
    shop.click(spike, "s", count=50)
    leads = [shop.convert(spike + timedelta(hours=3), ConversionKind.LEAD) for _ in range(20)]
    found = shop.held(date(2026, 6, 12))
    assert found == dict.fromkeys(leads, "rate_outlier")  # 40% against 4-6%


def test_a_refund_rate_above_the_threshold_holds_new_sales(db: Database) -> None:
    shop = Shop(db)
    for n in range(10):
        shop.convert(BASE + timedelta(hours=n), order_id=f"o{n}")
    for n in range(3):  # 30% of the sales' amount: not above the default 30%
        shop.convert(
            BASE + timedelta(hours=20 + n), ConversionKind.REFUND, amount=10_000, order_id=f"o{n}"
        )
    assert shop.held(date(2026, 6, 2)) == {}
    shop.convert(
        BASE + timedelta(days=1, hours=1), ConversionKind.REFUND, amount=10_000, order_id="o3"
    )
    new = shop.convert(BASE + timedelta(days=1, hours=2), order_id="o10")
    assert shop.held(date(2026, 6, 3)) == {new: "refund_rate"}  # 4 of 11 sales refunded


def test_an_organization_sets_its_own_thresholds(db: Database) -> None:
    shop = Shop(db)
    changed = fraud.save_settings(db, shop.brand, {"checks": ["duplicate_order"], "min_seconds": 2})
    assert (changed.checks, changed.min_seconds, changed.burst_clicks) == (
        ["duplicate_order"],
        2,
        20,
    )
    shop.convert(BASE + timedelta(seconds=1), click_id=shop.click(BASE, "f"))
    assert shop.held(date(2026, 6, 2)) == {}  # too_soon is off
    with pytest.raises(InvalidInputError, match="unknown fraud checks"):
        fraud.save_settings(db, shop.brand, {"checks": ["astrology"]})
    with pytest.raises(InvalidInputError, match="min_seconds"):
        fraud.save_settings(db, shop.brand, {"min_seconds": -1})


def test_robust_z_by_hand() -> None:
    # history 1..5: median 3, MAD median(|h-3|) = median(2,1,0,1,2) = 1
    assert fraud.robust_z(7, [1, 2, 3, 4, 5]) == pytest.approx(0.6745 * 4)
    # MAD 0 (median 3, deviations 0,0,0,0,5): the mean absolute deviation, 1.0
    assert fraud.robust_z(4, [3, 3, 3, 3, 8]) == pytest.approx(1 / 1.2533)
    assert fraud.robust_z(9, [2, 2, 2]) is None
