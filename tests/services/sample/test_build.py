"""Building the sample into the store: exact counts, reuse, and all-or-nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from crosspromo.cli.output import jsonable
from crosspromo.domain import ConsentPurpose, PartnershipStatus
from crosspromo.domain.models import check_transition
from crosspromo.errors import ConflictError
from crosspromo.security import customer_id_hash
from crosspromo.services.accounts.organizations import get_organization, list_organizations
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.admin.database import open_database
from crosspromo.services.agree.history import history
from crosspromo.services.agree.partnerships import list_partnerships
from crosspromo.services.sample.build import SampleSummary, build_sample, sample_summary
from crosspromo.store.database import Database
from crosspromo.store.repositories import CustomerRepository, PartnershipRepository
from tests.conftest import Snapshot, sample_with_keys


@pytest.fixture
def built(snapshot: Snapshot[dict[str, str]]) -> Iterator[tuple[Database, SampleSummary]]:
    """The sample of seed 5, scale 5, built once per process and backend (a copy per test),
    for the tests that read it."""
    settings, _ = snapshot(*sample_with_keys(5, 5))
    db = open_database(settings)
    summary = sample_summary(db)
    assert summary is not None
    yield db, summary
    db.dispose()


def test_build_stores_exactly_the_truth(db: Database) -> None:
    calls: list[tuple[int, int]] = []
    summary = build_sample(db, seed=5, scale=5, progress=lambda d, t: calls.append((d, t)))
    assert not summary.reused
    assert calls[-1][0] == calls[-1][1] == summary.customers
    orgs = {o.slug: get_organization(db, o.slug) for o in list_organizations(db)}
    assert len(orgs) == 12
    with db.transaction() as s:
        customers = CustomerRepository(s)
        assert sum(customers.counts_by_org().values()) == summary.customers
        for slug, info in summary.truth["organizations"].items():
            org = orgs[slug]
            assert customers.count(org.id) == info["customers"]
            assert (
                customers.count(org.id, ConsentPurpose.PARTNER_SHARING) == info["partner_sharing"]
            )
    brand = get_organization(db, "trailhead-outfitters")
    # the six of the cast, and the second coffee roaster its plan talks to (a prospect)
    assert len(list_partnerships(db, brand.id)) == 7


def test_each_sample_partnership_has_the_history_of_its_status(
    built: tuple[Database, SampleSummary],
) -> None:
    """The partnership page shows how each sample partnership got where it is: from prospect
    when it started, by allowed steps, to its status when it last changed."""
    db, _ = built
    brand = get_organization(db, "trailhead-outfitters")
    seen = set()
    views = list_partnerships(db, brand.id)
    with db.transaction() as s:
        for view in views:
            item = PartnershipRepository(s).get_for_org(brand.id, view.id)
            steps = history(s, item)
            assert steps[0].status is PartnershipStatus.PROSPECT
            assert steps[0].previous is None
            assert steps[0].at == item.created_at
            assert (steps[-1].status, steps[-1].at) == (item.status, item.updated_at)
            for before, after in itertools.pairwise(steps):
                assert after.previous is before.status
                check_transition(before.status, after.status)  # raises on a step not allowed
                assert before.at <= after.at
            seen.add(item.status)
    assert PartnershipStatus.ACTIVE in seen
    assert len(seen) > 1


def test_noisy_ids_hash_to_the_canonical_customer(built: tuple[Database, SampleSummary]) -> None:
    db, _ = built
    org = get_organization(db, "summit-coffee")
    from crosspromo.sample import generate

    audience = generate(5, 5).audiences["summit-coffee"]
    noisy = next(x for x in audience.external_ids() if x != x.strip().lower())
    canonical = noisy.strip().lower()
    secret = identity_secret(db)
    assert customer_id_hash(secret, org.id, canonical) == customer_id_hash(secret, org.id, noisy)
    with db.transaction() as s:
        _, created = CustomerRepository(s).upsert(
            org.id, customer_id_hash(secret, org.id, canonical), frozenset(), None
        )
    assert not created


def test_second_build_reuses_and_other_seed_conflicts(db: Database) -> None:
    first = build_sample(db, seed=5, scale=5)
    again = build_sample(db, seed=5, scale=5)
    assert again.reused
    assert again.truth == first.truth
    with pytest.raises(ConflictError, match="seed 5"):
        build_sample(db, seed=6, scale=5)


def test_interrupted_build_writes_nothing(db: Database) -> None:
    def explode(done: int, total: int) -> None:
        if done > 500:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_sample(db, seed=5, scale=5, progress=explode)
    assert list_organizations(db) == []
    assert sample_summary(db) is None
    assert not build_sample(db, seed=5, scale=5).reused


def test_sample_tracking_matches_its_truth(db: Database) -> None:
    from crosspromo.services.track.links import link_stats

    summary = build_sample(db, seed=7, scale=20)
    tracking = summary.truth["tracking"]
    assert len(tracking["links"]) >= 9
    assert sum(link["clicks"] for link in tracking["links"]) > 500
    orgs = {o.slug: get_organization(db, o.slug).id for o in list_organizations(db)}
    for link in tracking["links"]:
        stats = link_stats(db, orgs[link["brand"]], link["code"])
        assert (stats.clicks, stats.bot_clicks, stats.leads, stats.sales) == (
            link["clicks"], link["bot_clicks"], link["leads"], link["sales"],
        ), link["code"]  # fmt: skip
        assert stats.revenue_by_currency.get("EUR", 0) == link["revenue_minor"]


def test_sample_journeys_are_stored_and_attributable(
    built: tuple[Database, SampleSummary],
) -> None:
    from crosspromo.sample.journeys import CHANNELS
    from crosspromo.services.measure.journeys import attribute_tracked
    from crosspromo.store.repositories import TouchpointRepository

    db, summary = built
    truth = summary.truth["journeys"]
    brand = get_organization(db, truth["brand"])
    with db.transaction() as s:
        assert TouchpointRepository(s).count(brand.id) == truth["touches"]
    tracked = attribute_tracked(db, brand.id, model="shapley")
    assert tracked.currency == "EUR"
    result = jsonable(tracked.models[0])
    channels = {c["channel"] for c in result["channels"]}
    assert {c.name for c in CHANNELS} <= channels
    partners = {p["partner"] for p in result["partners"]}
    assert set(truth["true_partner_effect"]) | {"own"} <= partners
    credited = sum(c["conversions"] for c in result["channels"])
    assert credited + tracked.untouched_conversions == pytest.approx(tracked.conversions)
    # every sale of the journeys, the tracked links, the offer and the purchase history
    links = summary.truth["tracking"]["links"]
    link_sales = sum(link["sales"] for link in links if link["brand"] == truth["brand"])
    offer_sales = summary.truth["experiment"]["conversions"]
    assert summary.truth["purchases"]["brand"] == truth["brand"]
    history = summary.truth["purchases"]["purchases"]
    claimed_twice = len(summary.truth["pay"]["claimed_twice"].get(truth["brand"], []))
    assert (
        tracked.conversions == truth["sales"] + link_sales + offer_sales + history + claimed_twice
    )


def test_sample_commissions_hold_every_sale_claimed_twice(
    built: tuple[Database, SampleSummary],
) -> None:
    from crosspromo.services.pay import holds, payouts

    db, summary = built
    planted = summary.truth["pay"]["claimed_twice"]
    assert planted, "the sample claims some sales twice"
    paid = 0
    for slug, orders in planted.items():
        brand = get_organization(db, slug).id
        held = holds.holds(db, brand)
        assert {h.check for h in held} == {"duplicate_order"}
        assert len(held) == len(orders)
        paid += sum(p.status == "paid" for p in payouts.payouts(db, brand))
    assert paid == 1
    # what the journeys brand's own channels and its partners cost stand side by side
    from crosspromo.services.measure.journeys import attribute_tracked
    from crosspromo.services.measure.kpis import partner_kpis
    from crosspromo.services.sample.payments import OWN_CHANNEL_MINOR, PARTNER_FEE_MINOR

    journeys = summary.truth["journeys"]
    report = partner_kpis(db, get_organization(db, journeys["brand"]).id)
    own = {c.channel: c for c in report.channels if c.partner is None}
    assert set(own) == set(OWN_CHANNEL_MINOR)
    for channel, monthly in OWN_CHANNEL_MINOR.items():
        assert own[channel].cost == pytest.approx(2 * monthly / 100)  # October and November
        assert own[channel].sales > 0
    partners = set(journeys["true_partner_effect"])
    fees = {c.partner: c.cost for c in report.channels if c.partner in partners}
    assert set(fees) == partners
    assert all(fee is not None and fee >= 2 * PARTNER_FEE_MINOR / 100 for fee in fees.values())
    # the sources share exactly the sales the same model credits by channel over the range
    whole = attribute_tracked(
        db, get_organization(db, journeys["brand"]).id, model="shapley",
        start=report.start, end=report.end,
    )  # fmt: skip
    credited = sum(c.conversions for c in whole.models[0].channels)
    assert sum(c.sales for c in report.channels) == pytest.approx(credited)
    costs = summary.truth["pay"]["costs_minor"][journeys["brand"]]
    assert costs == 2 * (sum(OWN_CHANNEL_MINOR.values()) + len(fees) * PARTNER_FEE_MINOR)


def test_the_sample_plan_holds_one_conflict_of_each_kind_and_assets_in_every_state(
    built: tuple[Database, SampleSummary],
) -> None:
    from crosspromo.services.plan import assets, calendar, campaigns, offers

    db, _ = built
    brand = get_organization(db, "trailhead-outfitters").id
    planned = {c.name: c for c in campaigns.list_campaigns(db, brand)}
    assert {c.strategy for c in planned.values()} == {
        "bundle", "referral_program", "content_collaboration"
    }  # fmt: skip
    kinds = [c.kind for c in calendar.conflicts(db, brand)]
    assert sorted(kinds) == ["blackout", "competing_launch", "overload", "same_audience_channel"]
    bundle = planned["Trail & Brew winter bundle"]
    shown = {a.name: (a.state, a.usable, len(a.versions)) for a in
             assets.list_assets(db, brand, bundle.id)}  # fmt: skip
    assert shown == {
        "Winter bundle banner": ("approved", 1, 1),
        "Bundle flyer": ("partly_approved", None, 1),
        "December newsletter block": ("changes_requested", None, 1),
        "Camp breakfast reel cover": ("in_review", None, 2),  # a new version after approval
    }
    coffee = get_organization(db, "summit-coffee").id
    assert [o.asset.name for o in assets.offered(db, coffee)] == ["Winter bundle banner"]
    assert {g.org for g in assets.campaign_guidelines(db, coffee, bundle.id)} == {
        "trailhead-outfitters", "summit-coffee"
    }  # fmt: skip
    (offer,) = offers.list_offers(db, brand, bundle.id)
    assert (offer.price_minor, offer.regular_minor, offer.code) == (8_900, 11_250, "TRAILBREW")
    (page,) = offers.landing_pages(db, coffee, bundle.id)
    assert (page.path, page.published, page.offer_id) == ("/l/trail-and-brew", True, offer.id)
    public = offers.show_landing(db, "trail-and-brew", address="1.2.3.4", user_agent="Mozilla/5.0")
    assert public.names == ["Trailhead Outfitters", "Summit Coffee Roasters"]
    assert public.links  # the brand's link with the coffee partner, put in the campaign
