"""Campaigns and the shared calendar on SQLite and PostgreSQL: conflicts of every kind across
two partners' campaigns (each with its near miss), what each side sees, and the iCal feed."""

from __future__ import annotations

from datetime import date

import pytest
from icalendar import Calendar

from crosspromo.domain import OrgKind
from crosspromo.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.discover.profiles import ProfileInput, save_profile
from crosspromo.services.plan import calendar, campaigns, feeds
from crosspromo.services.plan.campaigns import CampaignInput
from crosspromo.store.database import Database
from tests.conftest import agreed

PROFILES = {  # two coffee roasters (competitors) and a brewery, all partners of a gear brand
    "acme": ("Outdoor gear for hikers and campers", "outdoor-gear", ("tents", "backpacks")),
    "beans": ("Coffee roasted for early starts at camp", "coffee",
              ("whole bean coffee", "espresso roast")),
    "brew": ("Fresh roasted coffee for the trail", "coffee",
             ("whole bean coffee", "espresso roast beans")),
    "hops": ("Craft beer brewed in the mountains", "beer", ("pale ale", "stout")),
}  # fmt: skip


@pytest.fixture
def plan(db: Database) -> dict[str, int]:
    ids = {}
    for slug, (about, category, offerings) in PROFILES.items():
        kind = OrgKind.BRAND if slug == "acme" else OrgKind.PARTNER
        ids[slug] = create_organization(db, slug, slug.title(), kind, category).id
        save_profile(db, ids[slug], ProfileInput(about, (category,), offerings))
    for partner in ("beans", "brew", "hops"):
        partnership = agreed(db, ids["acme"], partner)
        made = campaigns.create_campaign(db, ids["acme"], CampaignInput(
            f"Spring with {partner}", "email_swap", date(2026, 3, 1), date(2026, 3, 31),
            [partnership],
        ))  # fmt: skip
        ids[f"campaign:{partner}"] = made.id
    calendar.save_rules(db, ids["acme"], timezone="Europe/Berlin")
    return ids


def add(db: Database, org: int, campaign: int, at: str, **extra: str) -> calendar.Saved:
    values = {"kind": "send", "channel": "newsletter", "audience": "loyal", "title": "mail"}
    values.update(extra)
    given = calendar.ItemInput(
        campaign,
        at,
        values["kind"],
        values["channel"],
        values["audience"],
        values["title"],
        extra.get("timezone"),
    )
    return calendar.add_item(db, org, given)


def test_a_campaign_has_its_parties_checklist_and_lifecycle(db: Database, plan: dict) -> None:
    acme, beans = plan["acme"], plan["beans"]
    view = campaigns.get_campaign(db, acme, plan["campaign:beans"])
    assert (view.status, view.strategy, view.objective) == ("draft", "email_swap", "leads")
    assert [(p.org, p.share_bp) for p in view.parties] == [("acme", 5000), ("beans", 5000)]
    assert view.channels == ["newsletter"]  # the strategy's
    # the e-mail swap's four steps, each for both sides
    assert len(view.checklist) == 8
    assert view.checklist[0].due_on == date(2026, 2, 15)  # 14 days before the start
    theirs = campaigns.get_campaign(db, beans, view.id)  # the partner sees it too ...
    assert theirs.next_statuses == []  # ... but does not move it
    with pytest.raises(PermissionDeniedError):
        campaigns.set_status(db, beans, view.id, "scheduled")
    with pytest.raises(NotFoundError):  # another partner's campaign is not there for it
        campaigns.get_campaign(db, beans, plan["campaign:brew"])
    assert [c.id for c in campaigns.list_campaigns(db, beans)] == [view.id]
    assert campaigns.set_status(db, acme, view.id, "scheduled").status == "scheduled"
    with pytest.raises(ConflictError, match="cannot become done"):
        campaigns.set_status(db, acme, view.id, "done")
    done = campaigns.mark_step(db, beans, view.id, theirs.checklist[1].id, "ann@beans.example")
    assert done.checklist[1].done_by == "ann@beans.example"


def test_conflicts_of_every_kind_across_partners(db: Database, plan: dict) -> None:
    acme = plan["acme"]
    first = add(db, acme, plan["campaign:beans"], "2026-03-02T09:00")  # Berlin, acme's zone
    assert first.conflicts == []
    # brew's campaign, the same segment and channel 2 days 23 hours later: too close
    close = add(db, acme, plan["campaign:brew"], "2026-03-05T08:00")
    assert [(str(c.kind), c.items) for c in close.conflicts] == [
        ("same_audience_channel", [first.id, close.id])
    ]
    apart = add(db, acme, plan["campaign:hops"], "2026-03-08T08:00")  # exactly 3 days later
    assert apart.conflicts == []
    calendar.add_blackout(db, acme, date(2026, 3, 20), date(2026, 3, 21), "stocktaking")
    during = add(db, acme, plan["campaign:hops"], "2026-03-21T23:30", channel="blog")
    after = add(db, acme, plan["campaign:hops"], "2026-03-22T00:30", channel="social")
    assert [str(c.kind) for c in during.conflicts] == ["blackout"]
    assert after.conflicts == []  # the day after the blackout
    launch = add(db, acme, plan["campaign:beans"], "2026-03-10T10:00", kind="launch",
                 channel="shop", audience="everyone")  # fmt: skip
    rival = add(db, acme, plan["campaign:brew"], "2026-03-15T10:00", kind="launch",
                channel="site", audience="trail")  # fmt: skip
    friend = add(db, acme, plan["campaign:hops"], "2026-03-12T10:00", kind="launch",
                 channel="bar", audience="thirsty")  # fmt: skip
    assert [(str(c.kind), c.items) for c in rival.conflicts] == [
        ("competing_launch", [launch.id, rival.id])
    ]
    assert "beans and brew sell the same kind of product" in rival.conflicts[0].reason
    assert friend.conflicts == []  # a launch by a non-competitor
    # a fourth item for 'loyal' in the week of 2 March (Berlin), checked before saving
    checked = calendar.add_item(db, acme, calendar.ItemInput(
        plan["campaign:hops"], "2026-03-06T12:00", "post", "social", "loyal", "teaser",
    ), check_only=True)  # fmt: skip
    assert checked.id == 0
    assert sorted(str(c.kind) for c in checked.conflicts) == ["overload"]
    assert len(calendar.items(db, acme)) == 8  # nothing was saved
    everything = calendar.conflicts(db, acme)
    assert sorted({str(c.kind) for c in everything}) == [
        "blackout", "competing_launch", "same_audience_channel",
    ]  # fmt: skip
    # beans sees only its own campaign's items, and no conflicts with items it cannot see
    assert {i.campaign_id for i in calendar.items(db, plan["beans"])} == {plan["campaign:beans"]}
    assert calendar.conflicts(db, plan["beans"]) == []


def test_bad_items_are_refused_naming_the_field(db: Database, plan: dict) -> None:
    acme, campaign = plan["acme"], plan["campaign:beans"]
    with pytest.raises(InvalidInputError, match="kind 'tweet'"):
        add(db, acme, campaign, "2026-03-02T09:00", kind="tweet")
    with pytest.raises(InvalidInputError, match="time zone 'Mars/Olympus'"):
        add(db, acme, campaign, "2026-03-02T09:00", timezone="Mars/Olympus")
    with pytest.raises(InvalidInputError, match="not an ISO date-time"):
        add(db, acme, campaign, "next tuesday")
    with pytest.raises(NotFoundError):  # hops cannot write into beans' campaign
        add(db, plan["hops"], campaign, "2026-03-02T09:00")
    assert calendar.items(db, acme) == []


def test_the_feed_holds_the_calendar_and_is_revocable(db: Database, plan: dict) -> None:
    acme = plan["acme"]
    made = feeds.create_feed(db, acme, "https://cp.example", None)
    assert made.url is not None
    assert made.url.startswith("https://cp.example/calendar/")
    token = made.url.rsplit("/", 1)[1].removesuffix(".ics")
    assert Calendar.from_ical(feeds.feed_ics(db, token)).walk("VEVENT") == []
    one = add(db, acme, plan["campaign:beans"], "2026-03-02T09:00", title="Swap mail")
    two = add(db, acme, plan["campaign:brew"], "2026-03-09T18:30", kind="webinar",
              channel="zoom", title="Brew talk", timezone="America/New_York")  # fmt: skip
    add(db, plan["hops"], plan["campaign:hops"], "2026-03-04T10:00", title="Hops news")
    parsed = Calendar.from_ical(feeds.feed_ics(db, token))
    events = {str(e["uid"]): e for e in parsed.walk("VEVENT")}
    assert set(events) == {f"calendar-item-{i}@crosspromo" for i in (one.id, two.id, one.id + 2)}
    talk = events[f"calendar-item-{two.id}@crosspromo"]
    assert str(talk["summary"]) == "Brew talk (webinar)"
    assert talk.decoded("dtstart").isoformat() == "2026-03-09T22:30:00+00:00"  # 18:30 EDT
    mine = feeds.create_feed(db, plan["beans"], "https://cp.example", plan["campaign:beans"])
    beans_token = mine.url.rsplit("/", 1)[1].removesuffix(".ics")  # type: ignore[union-attr]
    theirs = Calendar.from_ical(feeds.feed_ics(db, beans_token)).walk("VEVENT")
    assert [str(e["uid"]) for e in theirs] == [f"calendar-item-{one.id}@crosspromo"]
    feeds.revoke_feed(db, acme, made.id)
    with pytest.raises(NotFoundError):
        feeds.feed_ics(db, token)
    with pytest.raises(NotFoundError):  # a feed is revoked by its own organization only
        feeds.revoke_feed(db, plan["beans"], made.id)
    with pytest.raises(NotFoundError):
        feeds.create_feed(db, plan["hops"], "https://cp.example", plan["campaign:beans"])


def test_links_codes_and_experiments_in_a_campaign_and_what_they_brought(
    db: Database, plan: dict
) -> None:
    from datetime import UTC, datetime

    from crosspromo.domain.conversions import CodeKind, ConversionKind
    from crosspromo.services.measure.experiments import create_experiment
    from crosspromo.services.track.conversions import (
        ConversionInput,
        create_code,
        record_conversions,
    )
    from crosspromo.services.track.links import add_domain, create_link

    acme, campaign = plan["acme"], plan["campaign:beans"]
    add_domain(db, acme, "acme.example")
    link = create_link(db, acme, "beans", "https://acme.example/spring", "spring")
    other = create_link(db, acme, "brew", "https://acme.example/brew", "brew")
    create_code(db, acme, "beans", "SPRING", CodeKind.COUPON)
    experiment = create_experiment(db, acme, "Spring offer", partner="beans")
    campaigns.attach(db, acme, campaign, "link", link.code)
    campaigns.attach(db, acme, campaign, "code", "SPRING")
    figures = campaigns.attach(db, acme, campaign, "experiment", experiment.id)
    assert (figures.links, figures.codes, figures.experiments) == (
        [link.code], ["SPRING"], [experiment.id],
    )  # fmt: skip
    with pytest.raises(InvalidInputError, match="partner takes no part"):
        campaigns.attach(db, acme, campaign, "link", other.code)  # brew's link, beans' campaign
    with pytest.raises(NotFoundError):  # beans cannot put acme's link anywhere
        campaigns.attach(db, plan["beans"], campaign, "link", link.code)
    for key in ("²", "1²", "٣"):  # digits to str.isdigit ('²' not to int(): found by the fuzzer)
        with pytest.raises(InvalidInputError, match="named by its id"):
            campaigns.attach(db, acme, campaign, "experiment", key)
    record_conversions(db, acme, [
        ConversionInput(ConversionKind.SALE, datetime(2026, 3, 5, tzinfo=UTC), 4_000, "EUR",
                        "ann", coupon_code="SPRING", order_id="s1"),
        ConversionInput(ConversionKind.SALE, datetime(2026, 3, 6, tzinfo=UTC), 9_000, "EUR",
                        "bob", order_id="s2"),  # through nothing of the campaign
    ])  # fmt: skip
    figures = campaigns.campaign_figures(db, acme, campaign)
    assert (figures.sales, figures.revenue_minor) == (1, {"EUR": 4_000})
    # no budget: nothing it cost, no return to speak of; no click: no conversion rate
    assert (figures.cost_minor, figures.cost_per_sale_minor, figures.roi) == (0, 0, None)
    assert figures.conversion_rate is None
    taken = campaigns.attach(db, acme, campaign, "code", "SPRING", detach=True)
    assert (taken.codes, taken.sales) == ([], 0)


def test_a_live_campaigns_budget_becomes_each_partys_costs(db: Database, plan: dict) -> None:
    from crosspromo.services.pay.costs import kpi_costs
    from crosspromo.store.repositories import PartnershipRepository

    acme = plan["acme"]
    with db.reading() as session:
        ours = {p.other_party(acme): p.id for p in PartnershipRepository(session).for_org(acme)}
    both = campaigns.create_campaign(db, acme, CampaignInput(
        "Coffee week", "social", date(2026, 4, 20), date(2026, 5, 10),
        [ours[plan["beans"]], ours[plan["brew"]]], budget_minor=90_001,
        shares={"acme": 5_000, "beans": 2_500, "brew": 2_500},
    ))  # fmt: skip
    assert [(p.org, p.share_bp) for p in both.parties] == [
        ("acme", 5000), ("beans", 2500), ("brew", 2500),
    ]  # fmt: skip
    assert kpi_costs(db, acme, "EUR") is None  # nothing before it goes live
    for status in ("scheduled", "live"):
        campaigns.set_status(db, acme, both.id, status)
    # acme's half (450.00, 450.005 rounded half to even) split over its two partners and over
    # April and May; each partner's quarter (225.00) over the two months
    assert kpi_costs(db, acme, "EUR") == {
        ("beans", "2026-04"): 112.5, ("beans", "2026-05"): 112.5,
        ("brew", "2026-04"): 112.5, ("brew", "2026-05"): 112.5,
    }  # fmt: skip
    assert kpi_costs(db, plan["beans"], "EUR") == {
        ("acme", "2026-04"): 112.5, ("acme", "2026-05"): 112.5,
    }  # fmt: skip
    with pytest.raises(InvalidInputError, match="add up to 9000"):
        campaigns.create_campaign(db, acme, CampaignInput(
            "Bad shares", "social", date(2026, 4, 20), date(2026, 5, 10), [ours[plan["beans"]]],
            shares={"acme": 5_000, "beans": 4_000},
        ))  # fmt: skip


def test_a_campaigns_kpis_from_its_share_of_the_budget(db: Database, plan: dict) -> None:
    from datetime import UTC, datetime

    from crosspromo.domain.conversions import CodeKind, ConversionKind
    from crosspromo.services.track.conversions import (
        ConversionInput,
        create_code,
        record_conversions,
    )
    from crosspromo.store.repositories import PartnershipRepository

    acme = plan["acme"]
    with db.reading() as session:
        ours = {p.other_party(acme): p.id for p in PartnershipRepository(session).for_org(acme)}
    made = campaigns.create_campaign(db, acme, CampaignInput(
        "Coffee days", "bundle", date(2026, 6, 1), date(2026, 6, 30), [ours[plan["beans"]]],
        budget_minor=10_001, shares={"acme": 6_000, "beans": 4_000},
    ))  # fmt: skip
    create_code(db, acme, "beans", "COFFEEDAYS", CodeKind.COUPON)
    campaigns.attach(db, acme, made.id, "code", "COFFEEDAYS")
    record_conversions(db, acme, [
        ConversionInput(ConversionKind.SALE, datetime(2026, 6, 2, tzinfo=UTC), 4_000, "EUR",
                        "ann", coupon_code="COFFEEDAYS", order_id="c1"),
        ConversionInput(ConversionKind.SALE, datetime(2026, 6, 3, tzinfo=UTC), 3_000, "EUR",
                        "bob", coupon_code="COFFEEDAYS", order_id="c2"),
        ConversionInput(ConversionKind.LEAD, datetime(2026, 6, 3, tzinfo=UTC), 0, "EUR",
                        "cid", coupon_code="COFFEEDAYS"),
        ConversionInput(ConversionKind.REFUND, datetime(2026, 6, 9, tzinfo=UTC), 1_000, "EUR",
                        order_id="c2"),
    ])  # fmt: skip
    got = campaigns.campaign_figures(db, acme, made.id)
    # acme's 60% of 100.01 is 60.006, 60.01 half-even in cents; its sales less refunds: 60.00
    assert (got.cost_minor, got.sales, got.leads, got.refunds) == (6_001, 2, 1, 1)
    assert (got.cost_per_sale_minor, got.cost_per_lead_minor) == (3_000, 6_001)
    assert got.roi == pytest.approx((6_000 - 6_001) / 6_001)
    theirs = campaigns.campaign_figures(db, plan["beans"], made.id)
    assert (theirs.cost_minor, theirs.sales, theirs.roi) == (4_000, 0, -1.0)
