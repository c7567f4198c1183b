"""A running app (in-process) with three organizations, a key each, and a few records."""

from __future__ import annotations

import copy
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crosspromo.config import Settings
from crosspromo.domain import ConsentPurpose, OrgKind
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.services.accounts.customers import record_customer
from crosspromo.services.accounts.keys import create_api_key
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.admin.database import open_database
from crosspromo.services.agree import agreements
from crosspromo.services.agree.partnerships import propose_partnership
from crosspromo.services.agree.terms import parse_terms, template
from crosspromo.services.discover.lists import ListOptions
from crosspromo.services.discover.profiles import ProfileInput, save_profile
from crosspromo.services.discover.sessions import open_offer, set_sharing
from crosspromo.services.measure.experiments import create_experiment
from crosspromo.services.pay import holds, payouts
from crosspromo.services.pay.commissions import compute
from crosspromo.services.plan import assets, calendar, offers
from crosspromo.services.plan.campaigns import CampaignInput, create_campaign
from crosspromo.services.plan.feeds import create_feed
from crosspromo.services.track.conversions import ConversionInput, create_code, record_conversions
from crosspromo.services.track.links import add_domain, create_link
from crosspromo.services.track.outbound import add_endpoint, list_deliveries
from crosspromo.store.blobs import BlobStore
from crosspromo.web.app import create_server
from tests.conftest import Snapshot, Snapshots, agreed, drop_copies, snapshot_copy

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # what makes a file a PNG is its signature


@dataclass
class World:
    client: TestClient
    settings: Settings
    keys: dict[str, str]
    org_ids: dict[str, int]
    partnership_ids: dict[str, int]
    customer_ids: dict[str, int] = field(default_factory=dict)
    link_codes: dict[str, str] = field(default_factory=dict)
    conversion_ids: dict[str, int] = field(default_factory=dict)
    endpoint_ids: dict[str, int] = field(default_factory=dict)
    delivery_ids: dict[str, int] = field(default_factory=dict)
    experiment_ids: dict[str, int] = field(default_factory=dict)
    overlap_sessions: dict[str, str] = field(default_factory=dict)
    hold_ids: dict[str, int] = field(default_factory=dict)
    payout_ids: dict[str, int] = field(default_factory=dict)
    campaign_ids: dict[str, int] = field(default_factory=dict)
    calendar_item_ids: dict[str, int] = field(default_factory=dict)
    blackout_ids: dict[str, int] = field(default_factory=dict)
    feed_ids: dict[str, int] = field(default_factory=dict)
    feed_tokens: dict[str, str] = field(default_factory=dict)
    asset_ids: dict[str, int] = field(default_factory=dict)
    offer_ids: dict[str, int] = field(default_factory=dict)
    landing_ids: dict[str, int] = field(default_factory=dict)
    landing_slugs: dict[str, str] = field(default_factory=dict)

    def auth(self, slug: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[slug]}"}


def build_world(settings: Settings) -> dict[str, Any]:
    """Three organizations, a key each, and a record of every kind the API serves; what a
    World knows of them (keys, ids, codes) is returned."""
    db = open_database(settings)
    orgs = {
        slug: create_organization(db, slug, slug.title(), kind).id
        for slug, kind in [
            ("acme", OrgKind.BRAND),
            ("beans", OrgKind.PARTNER),
            ("other", OrgKind.BRAND),
        ]
    }
    keys = {slug: create_api_key(db, slug).key for slug in orgs}
    shared = agreed(db, orgs["acme"], "beans", name="Acme x Beans", start="2025-01-01")
    amended = template("acme", "beans").document() | {"strategy": "bundle"}
    agreements.offer(db, orgs["beans"], shared, parse_terms(amended))  # version 2, waiting for acme
    foreign = propose_partnership(db, orgs["other"], "beans", "Other x Beans").id
    acme_customer, _ = record_customer(db, orgs["acme"], "c1@example.com", frozenset())
    other_customer, _ = record_customer(db, orgs["other"], "c1@example.com", frozenset())
    add_domain(db, orgs["acme"], "acme.example")
    add_domain(db, orgs["other"], "other.example")
    acme_link = create_link(db, orgs["acme"], "beans", "https://shop.acme.example/p?x=1", "launch")
    create_code(db, orgs["acme"], "beans", "BEANS10", CodeKind.REFERRAL)
    endpoint = add_endpoint(db, orgs["acme"], "http://127.0.0.1:9/hook", ["conversion.created"])
    lead = record_conversions(
        db, orgs["acme"], [ConversionInput(ConversionKind.LEAD, datetime(2026, 1, 5, tzinfo=UTC))]
    ).conversions[0]
    delivery = list_deliveries(db, orgs["acme"])[0]
    record_conversions(  # a repeat buyer, for the customer-value routes
        db,
        orgs["acme"],
        [
            ConversionInput(
                ConversionKind.SALE,
                datetime(2025, month, 3, tzinfo=UTC),
                2500,
                "EUR",
                "c1@example.com",
                order_id=f"repeat-{month}",
            )
            for month in (2, 5)
        ],
    )
    for day in (1, 2):  # a sale through beans, claimed twice: commissions, a hold, a payout
        record_conversions(
            db,
            orgs["acme"],
            [
                ConversionInput(
                    ConversionKind.SALE,
                    datetime(2025, 3, day, tzinfo=UTC),
                    10_000,
                    "EUR",
                    referral_code="BEANS10",
                    order_id="beans-order-1",
                )
            ],
        )
    compute(db, orgs["acme"])
    payout = payouts.run(db, orgs["acme"]).payouts[0]
    hold = holds.holds(db, orgs["acme"])[0]
    experiment = create_experiment(db, orgs["acme"], "Partner offer")
    share = frozenset({ConsentPurpose.PARTNER_SHARING})
    for i in range(6):  # acme and beans share c2..c5 (consenting); acme's offer is to beans
        record_customer(db, orgs["acme"], f"c{i}@example.com", share if i else frozenset())
        record_customer(db, orgs["beans"], f"c{i + 2}@example.com", share)
    set_sharing(db, orgs["acme"], "counts")
    set_sharing(db, orgs["beans"], "counts")
    with tempfile.TemporaryDirectory() as folder:
        offer_file = Path(folder) / "acme-offer.csv"
        offer_file.write_text("email\n" + "".join(f"c{i}@example.com\n" for i in range(6)))
        offer = open_offer(db, orgs["acme"], offer_file, ListOptions(), partner="beans")
    for slug, about, offering in [
        ("acme", "Outdoor gear for hikers", "tents"),
        ("beans", "Coffee for early starts on the trail", "camp coffee"),
        ("other", "Toys for dogs", "dog toys"),
    ]:
        save_profile(db, orgs[slug], ProfileInput(about, ("shop",), (offering,), 100, 50, 5))
    campaign = create_campaign(db, orgs["acme"], CampaignInput(
        "Acme x Beans spring", "email_swap", date(2026, 3, 1), date(2026, 3, 31), [shared],
    ))  # fmt: skip
    item = calendar.add_item(db, orgs["acme"], calendar.ItemInput(
        campaign.id, "2026-03-02T09:00", "send", "newsletter", "loyal", "Swap mail",
    ))  # fmt: skip
    blackout = calendar.add_blackout(db, orgs["acme"], date(2026, 12, 24), date(2026, 12, 26),
                                     "Christmas")  # fmt: skip
    feed = create_feed(db, orgs["acme"], "http://testserver")
    blobs = BlobStore(settings.assets_url())
    asset = assets.upload(db, blobs, orgs["acme"], campaign.id, io.BytesIO(PNG),
                          filename="banner.png", by="ann@acme", limit=10_000)  # fmt: skip
    for slug in ("acme", "beans"):
        assets.review(db, orgs[slug], campaign.id, asset.id, 1, "approved", slug)
    assets.save_guidelines(db, blobs, orgs["acme"], colours=["#1f6f4a"], dos=["Logo on white"],
                           donts=[], logo=io.BytesIO(PNG))  # fmt: skip
    joint = offers.create_offer(db, orgs["acme"], campaign.id, offers.OfferInput(
        "Camp breakfast", ["Tent", "Coffee"], 9900, date(2026, 3, 1), date(2026, 3, 31),
        "CAMP-BREAKFAST",
    ))  # fmt: skip
    landing = offers.create_landing(db, orgs["acme"], campaign.id, offers.LandingInput(
        "acme-beans-spring", "Gear and coffee for spring", offer_id=joint.id))  # fmt: skip
    db.dispose()
    with TestClient(create_server(settings)) as client:
        client.get(f"/r/{acme_link.code}", headers={"user-agent": "Mozilla/5.0 (X11)"})
    return {
        "keys": keys,
        "org_ids": orgs,
        "partnership_ids": {"acme-beans": shared, "other-beans": foreign},
        "customer_ids": {"acme": acme_customer.id, "other": other_customer.id},
        "link_codes": {"acme": acme_link.code},
        "conversion_ids": {"acme": lead.id},
        "endpoint_ids": {"acme": endpoint.id},
        "delivery_ids": {"acme": delivery.id},
        "experiment_ids": {"acme": experiment.id},
        "overlap_sessions": {"acme": offer.session.id},
        "hold_ids": {"acme": hold.id},
        "payout_ids": {"acme": payout.id},
        "campaign_ids": {"acme": campaign.id},
        "calendar_item_ids": {"acme": item.id},
        "blackout_ids": {"acme": blackout.id},
        "feed_ids": {"acme": feed.id},
        "feed_tokens": {"acme": str(feed.url).rsplit("/", 1)[1].removesuffix(".ics")},
        "asset_ids": {"acme": asset.id},
        "offer_ids": {"acme": joint.id},
        "landing_ids": {"acme": landing.id},
        "landing_slugs": {"acme": landing.slug},
    }


@pytest.fixture
def world(snapshot: Snapshot[dict[str, Any]]) -> Iterator[World]:
    """The world of ``build_world``, built once per process and backend; each test gets its
    own copy of the database and a running app on it."""
    settings, known = snapshot("world", build_world)
    with TestClient(create_server(settings)) as client:
        yield World(client, settings, **copy.deepcopy(known))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def shared_world(
    request: pytest.FixtureRequest, snapshots: Snapshots, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The world of ``world``, one copy and one app for all of a module's tests on a backend:
    for tests whose requests are refused before they reach any data (no key), which cannot
    change it. A copy and an app a test cost 0.29 s (the 239 no-key isolation cases: a
    minute of the suite's work)."""
    copies: list[str] = []
    settings, known = snapshot_copy(
        str(request.param), snapshots, request, tmp_path_factory.mktemp("world"), "world",
        build_world, copies,
    )  # fmt: skip
    try:
        with TestClient(create_server(settings)) as client:
            yield World(client, settings, **copy.deepcopy(known))
    finally:
        drop_copies(request, copies)
