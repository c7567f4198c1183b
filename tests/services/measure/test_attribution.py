"""Attribution of an organization's own tracked data: journeys from imported touchpoints,
tracked clicks and code uses, cut by the lookback window, credited by channel and partner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crosspromo.cli.output import jsonable
from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.engine.backend import Engine
from crosspromo.errors import InvalidInputError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.measure.journeys import attribute_tracked
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.services.track.links import add_domain, create_link
from crosspromo.services.track.touchpoints import import_touchpoints
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickRepository, LinkRepository
from tests.conftest import agreed

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def iso(hours: float) -> str:
    return at(hours).isoformat().replace("+00:00", "Z")


@pytest.fixture
def shop(db: Database, tmp_path: Path) -> int:
    """Journeys, by customer (hours from T0):
    ann: email(0) > acme link 'spring'(1) > sale 40.00 (2); then email(3), never converts
    bob: acme banner (0, far outside 30 days) ... beta coupon + sale 10.00 (24*40)
    cyd: sale 5.00 with nothing before it
    eve: email(5) and a lead (6) -- a lead, not counted as a sale
    """
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND).id
    for slug in ("acme", "beta"):
        create_organization(db, slug, slug.title(), OrgKind.PARTNER)
        agreed(db, org, slug, name=f"with {slug}")
    add_domain(db, org, "shop.example")
    code = create_link(db, org, "acme", "https://shop.example/", campaign="spring").code
    create_code(db, org, "beta", "BETA10", CodeKind.COUPON)
    with db.transaction() as session:
        link = LinkRepository(session).get_for_org(org, code)
        ClickRepository(session).add_many(
            [
                {
                    "link_id": link.id,
                    "org_id": org,
                    "partner_org_id": link.partner_org_id,
                    "click_id": click_id,
                    "clicked_at": at(hours),
                    "visitor_hash": "v" * 64,
                    "visit_key": f"v:{click_id}",
                    "referer": None,
                    "is_bot": bot,
                }
                for click_id, hours, bot in (("c-ann", 1, False), ("c-bot", 1.5, True))
            ]
        )
    touches = tmp_path / "touches.csv"
    touches.write_text(
        "touch_id,customer_external_id,channel,occurred_at,kind,partner\n"
        f"t1,ann@example.com,email,{iso(0)},email_open,\n"
        f"t2,ANN@example.com ,email,{iso(3)},email_open,\n"
        f"t3,bob,banner,{iso(0)},impression,acme\n"
        f"t4,eve,email,{iso(5)},,\n"
    )
    first, again = import_touchpoints(db, org, touches), import_touchpoints(db, org, touches)
    assert (first.read, first.imported) == (4, 4)
    assert (again.read, again.imported) == (4, 0)  # replay adds nothing

    def sale(hours: float, minor: int, customer: str, **extra: str) -> ConversionInput:
        return ConversionInput(
            ConversionKind.SALE, at(hours), minor, "EUR", customer_external_id=customer, **extra
        )

    record_conversions(
        db,
        org,
        [
            sale(2, 4000, "ann@example.com", click_id="c-ann", order_id="o1"),
            sale(24 * 40, 1000, "bob", coupon_code="BETA10", order_id="o2"),
            sale(7, 500, "cyd", order_id="o3"),
            ConversionInput(ConversionKind.LEAD, at(6), customer_external_id="eve"),
        ],
    )
    return org


def entries(result: dict, label: str) -> dict[str, tuple[float, float]]:
    return {e[label]: (e["conversions"], e["value"]) for e in result[f"{label}s"]}


def test_journeys_and_heuristics(db: Database, shop: int) -> None:
    tracked = attribute_tracked(db, shop, model="all", lookback_days=30)
    assert (tracked.currency, tracked.conversions, tracked.value) == ("EUR", 3, 5500.0)
    # ann converts (email > spring), ann's later email and eve's email are nulls; bob's
    # banner is 40 days before his sale, so only the coupon counts; cyd has no touch.
    assert (tracked.journeys, tracked.untouched_conversions) == (4, 1)
    models = {m["model"]: m for m in jsonable(tracked)["models"]}
    assert entries(models["last"], "channel") == {
        "email": (0.0, 0.0),
        "spring": (1.0, 4000.0),
        "coupon code": (1.0, 1000.0),
    }
    assert entries(models["first"], "channel")["email"] == (1.0, 4000.0)
    assert entries(models["linear"], "partner") == {
        "own": (0.5, 2000.0),
        "acme": (0.5, 2000.0),
        "beta": (1.0, 1000.0),
    }
    for model in models.values():
        for label in ("channel", "partner"):
            credited = sum(c for c, _ in entries(model, label).values())
            assert credited == pytest.approx(2.0, abs=1e-9), (model["model"], label)


def test_lookback_and_kind(db: Database, shop: int) -> None:
    wide = attribute_tracked(db, shop, model="first", lookback_days=60)
    assert entries(jsonable(wide.models[0]), "channel")["banner"] == (1.0, 1000.0)
    assert wide.untouched_conversions == 1
    leads = attribute_tracked(db, shop, model="last", kind="lead")
    assert (leads.conversions, leads.currency) == (1, None)
    assert entries(jsonable(leads.models[0]), "channel")["email"][0] == 1.0


def test_bootstrap_intervals_cover_the_estimate(db: Database, shop: int) -> None:
    tracked = attribute_tracked(db, shop, model="markov", bootstrap_rounds=50, seed=3)
    for label in ("channel", "partner"):
        for entry in jsonable(tracked.models[0])[f"{label}s"]:
            low, high = entry["conversions_interval"]
            assert 0 <= low <= high <= 4


def test_bad_requests_name_the_field(db: Database, shop: int) -> None:
    with pytest.raises(InvalidInputError, match="lookback_days"):
        attribute_tracked(db, shop, lookback_days=0)
    with pytest.raises(InvalidInputError, match="unknown model 'magic'"):
        attribute_tracked(db, shop, model="magic")
    with pytest.raises(InvalidInputError, match="kind must be sale or lead"):
        attribute_tracked(db, shop, kind="refund")
    record_conversions(db, shop, [ConversionInput(ConversionKind.SALE, at(9), 100, "USD")])
    with pytest.raises(InvalidInputError, match="sales are in EUR, USD: choose one currency"):
        attribute_tracked(db, shop)
    assert attribute_tracked(db, shop, model="last", currency="USD").conversions == 1


def test_no_journeys(db: Database) -> None:
    org = create_organization(db, "empty", "Empty", OrgKind.BRAND).id
    tracked = attribute_tracked(db, org)
    assert (tracked.journeys, tracked.conversions, tracked.models) == (0, 0, [])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("t9,x,email,yesterday,,", "line 2, column occurred_at: 'yesterday'"),
        ("t9,x,a > b,2026-03-01T00:00:00Z,,", "column channel: 'a > b'"),
        ("t9,,email,2026-03-01T00:00:00Z,,", "column customer_external_id: is empty"),
        ("t9,x,email,2026-03-01T00:00:00Z,glance,", "column kind: 'glance' is not one of"),
        ("t9,x,email,2026-03-01T00:00:00Z,,nobody", "no organization with slug 'nobody'"),
        ("t9,x,email,2026-03-01T00:00:00,,", "needs a time zone"),
    ],
)
def test_touchpoint_import_errors(db: Database, tmp_path: Path, row: str, message: str) -> None:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND).id
    path = tmp_path / "t.csv"
    path.write_text(f"touch_id,customer_external_id,channel,occurred_at,kind,partner\n{row}\n")
    with pytest.raises(InvalidInputError, match=message):
        import_touchpoints(db, org, path)


def test_spark_engine_gives_the_same_credit(db: Database, shop: int, spark_engine: Engine) -> None:
    """CROSSPROMO_ENGINE=spark runs the same journey expression: the same result."""
    on_duckdb = attribute_tracked(db, shop, lookback_days=60)
    on_spark = attribute_tracked(db, shop, lookback_days=60, engine=spark_engine)
    assert on_spark == on_duckdb


def test_engine_follows_the_setting() -> None:
    from crosspromo.config import Settings
    from crosspromo.engine.backend import connect

    engine = connect(Settings(engine="duckdb"))
    assert engine.name == "duckdb"
    engine.close()
    with pytest.raises(ValueError, match="engine"):
        Settings(engine="oracle")
