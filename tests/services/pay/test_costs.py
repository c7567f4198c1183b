"""Costs: imported all or nothing (a bad row names itself, a file again adds nothing), a shared
budget split as the terms say, and the KPIs reading stored costs and approved commissions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.errors import InvalidInputError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.measure.kpis import partner_kpis
from crosspromo.services.pay.commissions import compute
from crosspromo.services.pay.costs import import_costs, kpi_costs
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.services.track.touchpoints import import_touchpoints
from crosspromo.store.database import Database
from tests.cli.test_cli import cli_here
from tests.conftest import agreed

HEADER = "partner,channel,month,kind,amount_minor,currency,note\n"


def test_costs_are_imported_whole_and_feed_the_kpis(db: Database, tmp_path: Path) -> None:
    brand = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
    create_organization(db, "beans", "Beans", OrgKind.PARTNER)
    agreed(
        db,
        brand,
        "beans",
        start="2026-01-01",
        commission={
            "currency": "EUR",
            "holding_days": 0,
            "rules": [
                {"applies_to": "sale", "kind": "percent", "rate_bp": 1000, "recurring_months": 120}
            ],
        },
    )
    create_code(db, brand, "beans", "BEANS", CodeKind.REFERRAL)
    # carl found acme by its own search ads alone; dora by search, then beans' code
    touches = tmp_path / "touches.csv"
    touches.write_text(
        "touch_id,customer_external_id,channel,occurred_at,kind,partner\n"
        "s1,carl,search,2026-03-10T09:00:00+00:00,visit,\n"
        "s2,dora,search,2026-03-12T09:00:00+00:00,visit,\n"
    )
    import_touchpoints(db, brand, touches)
    for day, customer, amount, code in (
        ("2026-03-02", "ann", 20_000, "BEANS"),
        ("2026-03-05", "bob", 20_000, "BEANS"),
        ("2026-03-11", "carl", 10_000, None),
        ("2026-03-13", "dora", 10_000, "BEANS"),
    ):
        record_conversions(
            db,
            brand,
            [
                ConversionInput(
                    ConversionKind.SALE,
                    datetime.fromisoformat(f"{day}T10:00:00+00:00"),
                    amount,
                    "EUR",
                    customer,
                    referral_code=code,
                    order_id=day,
                )
            ],
        )
    compute(db, brand, date(2026, 3, 31))  # 20.00 + 20.00 + 10.00 approved in March
    good = tmp_path / "costs.csv"
    good.write_text(
        HEADER + "beans,newsletter,2026-03,fixed_fee,10000,EUR,setup\n"
        "beans,events,2026-03,shared_budget,50000,EUR,co-hosted fair\n"
        ",search,2026-03,other,99900,EUR,our own channel\n"
    )
    assert import_costs(db, brand, good).added == 3
    assert import_costs(db, brand, good).added == 0  # again: nothing new
    # the template's terms give acme 70% of shared costs: 500.00 x 0.7 = 350.00
    assert kpi_costs(db, brand, "EUR") == {("beans", "2026-03"): 100.0 + 350.0 + 50.0}
    report = partner_kpis(db, brand, start=date(2026, 3, 1), end=date(2026, 3, 31))
    beans = next(p for p in report.partners if p.partner == "beans")
    assert beans.cost == pytest.approx(500.0)
    assert beans.cpa == pytest.approx(500.0 / 3)  # three new customers
    # beside it, acme's own search channel, both credited by the same model (Shapley): dora's
    # journey (search, then the code) is shared half and half
    assert report.channel_model == "shapley"
    channels = {(c.partner, c.channel): c for c in report.channels}
    assert set(channels) == {("beans", None), (None, "search")}
    partner, search = channels[("beans", None)], channels[(None, "search")]
    assert (partner.sales, partner.revenue) == (pytest.approx(2.5), pytest.approx(450.0))
    assert (search.sales, search.revenue) == (pytest.approx(1.5), pytest.approx(150.0))
    assert (partner.cost, search.cost) == (pytest.approx(500.0), pytest.approx(999.0))
    assert partner.cost_per_sale == pytest.approx(200.0)
    assert search.cost_per_sale == pytest.approx(666.0)
    assert partner.roi == pytest.approx(-0.1)
    assert search.roi == pytest.approx((150.0 - 999.0) / 999.0)
    assert report.channels[0] is partner  # the larger revenue first

    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "beans,newsletter,2026-04,fixed_fee,100,EUR,\n"
        "beans,newsletter,2026-13,fixed_fee,100,EUR,\n"
    )
    with pytest.raises(InvalidInputError, match=r"bad\.csv, row 2: month '2026-13'"):
        import_costs(db, brand, bad)
    assert kpi_costs(db, brand, "EUR") == {("beans", "2026-03"): 500.0}  # nothing half-written
    done = cli_here(
        "costs",
        "import",
        str(good),
        "--org",
        "acme",
        "--format",
        "json",
        db_url=str(db.settings.database_url),
    )
    assert done.returncode == 0, done.stderr
    assert '"added": 0' in done.stdout
    assert datetime.now(UTC).year >= 2026
