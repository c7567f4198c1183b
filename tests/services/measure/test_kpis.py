"""Partnership KPIs on hand-built data, every figure counted by hand: new customers via the
partner, referral conversion, CPA, cost per lead, ROI, and fairness both ways; and the CLI
and API agree on the sample."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crosspromo.cli.output import jsonable
from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.errors import InvalidInputError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.measure.kpis import partner_kpis, read_costs
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.store.database import Database
from crosspromo.web.app import create_server
from tests.cli.test_cli import cli_here
from tests.compare import close
from tests.conftest import Snapshot, agreed, sample_with_keys


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC)


def sale(day: str, customer: str, amount: int, code: str | None = None) -> ConversionInput:
    return ConversionInput(
        ConversionKind.SALE, at(day), amount, "EUR", customer, referral_code=code,
        order_id=f"{customer}-{day}",
    )  # fmt: skip


def lead(day: str, customer: str, code: str) -> ConversionInput:
    return ConversionInput(ConversionKind.LEAD, at(day), 0, None, customer, referral_code=code)


@pytest.fixture
def shop(db: Database) -> int:
    shop = create_organization(db, "shop", "Shop", OrgKind.BRAND).id
    cafe = create_organization(db, "cafe", "Cafe", OrgKind.PARTNER).id
    agreed(db, shop, "cafe", name="Shop x Cafe")
    create_code(db, shop, "cafe", "CAFE10", CodeKind.REFERRAL)
    create_code(db, cafe, "shop", "SHOP5", CodeKind.REFERRAL)
    record_conversions(db, shop, [
        lead("2026-01-05", "u1", "CAFE10"),
        sale("2026-01-10", "u1", 4000, "CAFE10"),  # u1's first sale: a customer via cafe
        sale("2026-02-01", "u1", 2500),
        lead("2026-01-07", "u2", "CAFE10"),  # never buys
        sale("2026-01-03", "u3", 1000),  # organic first ...
        sale("2026-02-05", "u3", 6000, "CAFE10"),  # ... so not new via cafe
    ])  # fmt: skip
    record_conversions(db, cafe, [sale("2026-01-20", "c9", 1000, "SHOP5")])
    return shop


def test_every_figure_by_hand(db: Database, shop: int) -> None:
    costs = {("cafe", "2026-01"): 100.0, ("cafe", "2026-02"): 50.0, ("cafe", "2025-06"): 999.0}
    report = jsonable(
        partner_kpis(db, shop, start=date(2026, 1, 1), end=date(2026, 2, 28), costs=costs)
    )
    assert report["currency"] == "EUR"
    (total,) = report["partners"]
    assert total["partner"] == "cafe"
    assert (total["leads"], total["sales"], total["new_customers"]) == (2, 2, 1)
    assert total["revenue"] == pytest.approx(100.0)  # 40.00 + 60.00 through the code
    assert total["referral_conversion_rate"] == pytest.approx(0.5)  # u1 bought, u2 did not
    assert total["cost"] == pytest.approx(150.0)  # the 2025 spend is outside the range
    assert total["cpa"] == pytest.approx(150.0)
    assert total["cost_per_lead"] == pytest.approx(75.0)
    assert total["roi"] == pytest.approx((100.0 - 150.0) / 150.0)
    january, february = report["months"]
    assert (january["month"], january["new_customers"], january["cpa"]) == ("2026-01", 1, 100.0)
    assert (february["month"], february["new_customers"], february["cpa"]) == ("2026-02", 0, None)
    assert february["roi"] == pytest.approx((60.0 - 50.0) / 50.0)
    (fair,) = report["fairness"]
    assert (fair["received"], fair["delivered"]) == (pytest.approx(100.0), pytest.approx(10.0))
    assert fair["share_received"] == pytest.approx(100 / 110)
    assert fair["imbalanced"] is True
    balanced = jsonable(partner_kpis(db, shop, start=date(2026, 1, 1), end=date(2026, 2, 28),
                                     imbalance=0.95))  # fmt: skip
    assert balanced["fairness"][0]["imbalanced"] is False
    assert balanced["partners"][0]["cpa"] is None  # no costs given: nothing divided by them


def test_costs_files_and_options_are_checked(db: Database, shop: int, tmp_path: Path) -> None:
    path = tmp_path / "costs.csv"
    path.write_text("partner,month,cost\ncafe,2026-01,100\ncafe,2026-01,20.5\n")
    assert read_costs(path) == {("cafe", "2026-01"): 120.5}
    path.write_text("partner,month,cost\ncafe,January,100\n")
    with pytest.raises(InvalidInputError, match="row 1: partner and month"):
        read_costs(path)
    path.write_text("partner,month,cost\ncafe,2026-01,-5\n")
    with pytest.raises(InvalidInputError, match="row 1: cost must be a number >= 0"):
        read_costs(path)
    with pytest.raises(InvalidInputError, match="imbalance"):
        partner_kpis(db, shop, imbalance=0.3)


def test_cli_and_api_agree_on_the_sample(snapshot: Snapshot[dict[str, str]]) -> None:
    settings, keys = snapshot(*sample_with_keys(5, 10))
    key = keys["trailhead-outfitters"]
    with TestClient(create_server(settings)) as client:
        response = client.get("/api/v1/kpis", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    done = cli_here("kpis", "--org", "trailhead-outfitters", "--format", "json",
               db_url=settings.database_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert close(json.loads(done.stdout), response.json(), rel=1e-5)  # DuckDB sums in any order
    partners = {p["partner"]: p for p in response.json()["partners"]}
    assert partners["summit-coffee"]["new_customers"] > 0
    assert partners["summit-coffee"]["clv_12m"] is not None


def test_given_values_are_used(db: Database, shop: int) -> None:
    report = partner_kpis(
        db, shop, start=date(2026, 1, 1), end=date(2026, 2, 28),
        costs={("cafe", "2026-01"): 120.0}, values={"cafe": 240.0, "organic": 80.0},
    )  # fmt: skip
    (total,) = jsonable(report)["partners"]
    assert total["clv_12m"] == 240.0
    assert total["payback_months"] == pytest.approx(120.0 / (240.0 / 12))
    assert report.organic_clv_12m == 80.0
