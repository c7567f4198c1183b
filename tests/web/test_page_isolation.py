"""Tenant isolation of the dashboard and portal, as the API harness (tests/web/isolation.py) does
for /api/v1: every page route and form is listed here, so a new one cannot skip the check.

The demo brand's owner makes one record of every kind; another brand's owner (and a partner user
of an organization that is not party to the partnership) then asks for each by id, posts each
form at it, and reads each page: every request naming the brand's record is not found (404),
nothing of the brand's changes, and no page shows the brand's records."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crosspromo.config import Settings
from crosspromo.domain import PartnershipStatus, Role
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.domain.experiments import ExperimentStatus
from crosspromo.services.accounts.invitations import invite, sent_invitations
from crosspromo.services.accounts.keys import create_api_key, list_api_keys
from crosspromo.services.accounts.users import create_user
from crosspromo.services.admin.database import open_database
from crosspromo.services.agree.agreement_view import agreement_view
from crosspromo.services.agree.keys import current_key
from crosspromo.services.agree.partnerships import get_partnership, list_partnerships
from crosspromo.services.agree.terms import template
from crosspromo.services.measure.experiments import create_experiment, list_experiments
from crosspromo.services.pay import details, fraud, holds, payouts
from crosspromo.services.pay.commissions import compute
from crosspromo.services.plan import assets, calendar, campaigns, feeds, offers
from crosspromo.services.plan.campaigns import CampaignInput, create_campaign
from crosspromo.services.plan.feeds import create_feed
from crosspromo.services.track.conversions import (
    ConversionInput,
    create_code,
    list_codes,
    record_conversions,
)
from crosspromo.services.track.links import add_domain, create_link, list_links
from crosspromo.services.track.outbound import add_endpoint, list_endpoints
from crosspromo.store.blobs import BlobStore
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, UserRepository
from crosspromo.web.routes import accounts, agree, discover, measure, pay, plan, track
from tests.web.conftest import PNG
from tests.web.test_dashboard import PASSWORD, _csrf, demo_settings, login  # noqa: F401

BRAND, PARTNER, INTRUDER, OUTSIDER = (
    "trailhead-outfitters",
    "summit-coffee",
    "alpine-gear-co",
    "pixel-pets",
)
# Pages with no tenant's records: logging in and out, one's own account, an invitation link.
OWN_OR_PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/account"),
    ("POST", "/account/password"),
    ("POST", "/account/sign-out-everywhere"),
    ("GET", "/invite/{token}"),
    ("POST", "/invite/{token}"),
    ("GET", "/l/{slug}"),  # a published landing page is public
}


@dataclass
class Records:
    """What the brand made, by the ids an intruder would use."""

    partnership: int
    experiment: int
    link: str
    endpoint: int
    invitation: int
    key_prefix: str
    key_name: str
    invited: str
    endpoint_url: str
    experiment_name: str
    partnership_name: str
    code: str
    hold: int
    payout: int
    campaign: int = 0
    campaign_name: str = ""
    item: int = 0
    item_title: str = ""
    step: int = 0
    blackout: int = 0
    blackout_reason: str = ""
    feed: int = 0
    asset: int = 0
    asset_name: str = ""
    landing: int = 0


def _make(db: Database) -> Records:
    with db.transaction() as session:
        orgs = OrganizationRepository(session)
        brand_id = orgs.by_slug(BRAND).id
        owner = next(u for u in UserRepository(session).for_org(brand_id) if u.role is Role.OWNER)
    partnership = next(p for p in list_partnerships(db, brand_id) if p.partner.slug == PARTNER)
    experiment = create_experiment(
        db, brand_id, "Secret spring test", layer="isolation", partner=PARTNER
    )
    add_domain(db, brand_id, "secret-shop.example")
    link = create_link(db, brand_id, PARTNER, "https://secret-shop.example/spring", "secret")
    endpoint = add_endpoint(
        db, brand_id, "https://hooks.secret-shop.example/in", ["conversion.created"]
    )
    issued = invite(db, owner, "colleague@secret-shop.example", Role.ANALYST)
    key = create_api_key(db, BRAND, "secret backend")
    code = create_code(db, brand_id, PARTNER, "SECRETSPRING", CodeKind.COUPON)
    for day in (1, 2):  # a sale claimed twice with the code: held for review
        record_conversions(
            db,
            brand_id,
            [
                ConversionInput(
                    ConversionKind.SALE,
                    datetime(2026, 11, day, tzinfo=UTC),
                    5_000,
                    "EUR",
                    coupon_code="SECRETSPRING",
                    order_id="secret-order",
                )
            ],
        )
    compute(db, brand_id)
    hold = holds.holds(db, brand_id)[0]
    payout = next(p for p in payouts.payouts(db, brand_id) if p.status == "open")
    campaign = create_campaign(db, brand_id, CampaignInput(
        "Secret winter swap", "email_swap", date(2026, 12, 1), date(2026, 12, 31),
        [partnership.id],
    ))  # fmt: skip
    item = calendar.add_item(db, brand_id, calendar.ItemInput(
        campaign.id, "2026-12-02T09:00", "send", "newsletter", "loyal", "Secret mail",
    ))  # fmt: skip
    blackout = calendar.add_blackout(db, brand_id, date(2026, 12, 24), date(2026, 12, 26),
                                     "Secret stocktaking")  # fmt: skip
    feed = create_feed(db, brand_id, "http://testserver")
    asset = assets.upload(
        db,
        BlobStore(db.settings.assets_url()),
        brand_id,
        campaign.id,
        io.BytesIO(PNG),
        filename="secret.png",
        by="owner",
        limit=10_000,
        name="Secret banner",
    )
    with db.transaction() as session:
        partner_id = OrganizationRepository(session).by_slug(PARTNER).id
    for org in (brand_id, partner_id):
        assets.review(db, org, campaign.id, asset.id, 1, "approved", "someone")
    landing = offers.create_landing(db, brand_id, campaign.id, offers.LandingInput(
        "secret-winter", "Secret winter"))  # fmt: skip
    records = Records(
        partnership.id,
        experiment.id,
        link.code,
        endpoint.id,
        issued.invitation.id,
        key.prefix,
        "secret backend",
        "colleague@secret-shop.example",
        endpoint.url,
        experiment.name,
        partnership.name,
        code.code,
        hold.id,
        payout.id,
    )
    records.campaign, records.campaign_name = campaign.id, campaign.name
    records.item, records.item_title = item.id, "Secret mail"
    records.step = campaign.checklist[0].id
    records.blackout, records.blackout_reason = blackout.id, blackout.reason
    records.feed = feed.id
    records.asset, records.asset_name, records.landing = asset.id, asset.name, landing.id
    return records


def _state(db: Database, r: Records) -> tuple[Any, ...]:
    """Everything of the brand's an intruder's request could change."""
    with db.transaction() as session:
        brand_id = OrganizationRepository(session).by_slug(BRAND).id
    return (
        get_partnership(db, brand_id, r.partnership).status,
        len(agreement_view(db, brand_id, r.partnership).entries),
        current_key(db, brand_id).fingerprint,
        [(e.id, e.status) for e in list_experiments(db, brand_id)],
        [(i.id, i.state) for i in sent_invitations(db, brand_id)],
        [e.id for e in list_endpoints(db, brand_id)],
        [(k.prefix, k.revoked_at) for k in list_api_keys(db, BRAND)],
        [(lk.code, lk.active) for lk in list_links(db, brand_id)],
        [(c.code, c.active) for c in list_codes(db, brand_id)],
        [(h.id, h.status) for h in holds.holds(db, brand_id, status=None)],
        [(p.id, p.status, p.amount_minor) for p in payouts.payouts(db, brand_id)],
        details.shown(db, brand_id),
        fraud.current(db, brand_id),
        campaigns.list_campaigns(db, brand_id),
        campaigns.campaign_figures(db, brand_id, r.campaign),
        calendar.items(db, brand_id),
        calendar.blackouts(db, brand_id),
        calendar.rules(db, brand_id),
        [f.id for f in feeds.feeds(db, brand_id)],
        assets.list_assets(db, brand_id, r.campaign),
        assets.own_guidelines(db, brand_id),
        offers.list_offers(db, brand_id, r.campaign),
        offers.landing_pages(db, brand_id, r.campaign),
    )


@dataclass(frozen=True)
class Case:
    path: Callable[[Records], str]
    # a POST with these fields (and the form token), or what makes them from the records
    form: dict[str, str] | Callable[[Records], dict[str, str]] | None = None
    who: str = "intruder"  # or "outsider": a partner user of an organization not party to it
    # For pages that list the user's own records: what must not appear on them.
    hidden: Callable[[Records], list[str]] | None = None
    status: int = 404


def _listing(*names: str) -> Callable[[Records], list[str]]:
    return lambda r: [getattr(r, n) for n in names]


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/"): Case(lambda r: "/", hidden=_listing("partnership_name"), status=200),
    ("GET", "/partnerships/{partnership_id}"): Case(lambda r: f"/partnerships/{r.partnership}"),
    ("POST", "/partnerships/{partnership_id}/status"): Case(
        lambda r: f"/partnerships/{r.partnership}/status", {"status": "paused"}
    ),
    ("GET", "/portal/partnerships/{partnership_id}"): Case(
        lambda r: f"/portal/partnerships/{r.partnership}", who="outsider"
    ),
    ("POST", "/partnerships/invite"): Case(  # terms between us and a newcomer: not theirs
        lambda r: "/partnerships/invite",
        {
            "name": "Newco",
            "slug": "newco",
            "email": "a@newco.example",
            "terms": json.dumps(template(BRAND, "newco").document()),
        },
        status=422,
    ),
    ("POST", "/partnerships"): Case(  # proposing is the intruder's own business: none of ours
        lambda r: "/partnerships", {"partner": OUTSIDER, "name": "theirs"}, status=303
    ),
    ("GET", "/portal"): Case(
        lambda r: "/portal", who="outsider", hidden=_listing("link", "code"), status=200
    ),
    ("GET", "/experiments"): Case(
        lambda r: "/experiments", hidden=_listing("experiment_name"), status=200
    ),
    ("POST", "/experiments"): Case(  # naming our partner: they have no partnership with it
        lambda r: "/experiments", {"name": "x", "partner": PARTNER}, status=422
    ),
    ("POST", "/experiments/{experiment_id}/status"): Case(
        lambda r: f"/experiments/{r.experiment}/status", {"status": "stopped"}
    ),
    ("GET", "/links"): Case(lambda r: "/links", hidden=_listing("link", "code"), status=200),
    ("POST", "/links/codes"): Case(
        lambda r: "/links/codes", {"partner": PARTNER, "code": "INTRUDER1", "kind": "coupon"}
    ),
    ("POST", "/links"): Case(
        lambda r: "/links", {"partner": PARTNER, "destination": "https://secret-shop.example/x"}
    ),
    ("GET", "/links/{code}/qr.svg"): Case(lambda r: f"/links/{r.link}/qr.svg"),
    ("POST", "/links/{code}/active"): Case(lambda r: f"/links/{r.link}/active", {"active": "0"}),
    ("POST", "/links/codes/{code}/active"): Case(
        lambda r: f"/links/codes/{r.code}/active", {"active": "0"}
    ),
    ("GET", "/portal/links/{code}/qr.svg"): Case(
        lambda r: f"/portal/links/{r.link}/qr.svg", who="outsider"
    ),
    ("GET", "/portal/codes/{code}/qr.svg"): Case(
        lambda r: f"/portal/codes/{r.code}/qr.svg", who="outsider"
    ),
    ("GET", "/tracking"): Case(lambda r: "/tracking", hidden=_listing("link"), status=200),
    ("GET", "/tracking.csv"): Case(
        lambda r: "/tracking.csv", hidden=lambda r: [PARTNER], status=200
    ),
    ("GET", "/attribution"): Case(lambda r: "/attribution", status=200),
    ("GET", "/customers"): Case(lambda r: "/customers", status=200),
    ("GET", "/partners"): Case(lambda r: "/partners", status=200),
    ("GET", "/partners/outreach"): Case(
        lambda r: f"/partners/outreach?candidate={PARTNER}", status=200
    ),
    ("GET", "/settings/keys"): Case(
        lambda r: "/settings/keys", hidden=_listing("key_name"), status=200
    ),
    ("POST", "/settings/keys"): Case(lambda r: "/settings/keys", {"name": "theirs"}, status=200),
    ("POST", "/settings/keys/signing/rotate"): Case(  # the intruder's own key, which it holds
        # itself since the hold case before it (cases run in path order): refused, ours unchanged
        lambda r: "/settings/keys/signing/rotate",
        {},
        status=409,
    ),
    ("POST", "/settings/keys/signing/hold"): Case(
        lambda r: "/settings/keys/signing/hold", {"public_key": "ab" * 32}, status=303
    ),
    ("POST", "/settings/keys/{prefix}/revoke"): Case(
        lambda r: f"/settings/keys/{r.key_prefix}/revoke", {}
    ),
    ("GET", "/settings/domains"): Case(
        lambda r: "/settings/domains", hidden=lambda r: ["secret-shop.example"], status=200
    ),
    ("POST", "/settings/domains"): Case(
        lambda r: "/settings/domains", {"domain": "theirs.example"}, status=303
    ),
    ("POST", "/settings/domains/remove"): Case(  # ours is not on their list
        lambda r: "/settings/domains/remove", {"domain": "secret-shop.example"}
    ),
    ("GET", "/settings/sharing"): Case(lambda r: "/settings/sharing", status=200),
    ("POST", "/settings/sharing"): Case(
        lambda r: "/settings/sharing", {"level": "counts"}, status=303
    ),
    ("GET", "/settings/team"): Case(
        lambda r: "/settings/team", hidden=_listing("invited"), status=200
    ),
    ("POST", "/settings/team/invite"): Case(
        lambda r: "/settings/team/invite",
        {"email": "spy@example.com", "role": "partner", "partner": PARTNER},
    ),
    ("POST", "/settings/team/invitations/{invitation_id}/revoke"): Case(
        lambda r: f"/settings/team/invitations/{r.invitation}/revoke", {}
    ),
    ("GET", "/settings/webhooks"): Case(
        lambda r: "/settings/webhooks", hidden=_listing("endpoint_url"), status=200
    ),
    ("POST", "/settings/webhooks/endpoints"): Case(
        lambda r: "/settings/webhooks/endpoints",
        {"url": "https://theirs.example/h", "events": "conversion.created"},
        status=200,
    ),
    ("POST", "/settings/webhooks/endpoints/{endpoint_id}/remove"): Case(
        lambda r: f"/settings/webhooks/endpoints/{r.endpoint}/remove", {}
    ),
    ("POST", "/settings/webhooks/deliveries/{delivery_id}/replay"): Case(
        lambda r: "/settings/webhooks/deliveries/1/replay", {}
    ),
    ("POST", "/settings/webhooks/inbound-secret"): Case(
        lambda r: "/settings/webhooks/inbound-secret", {}, status=200
    ),
    ("GET", "/settings/profile"): Case(lambda r: "/settings/profile", status=200),
    ("POST", "/settings/profile"): Case(
        lambda r: "/settings/profile", {"description": "theirs"}, status=303
    ),
    **{
        ("POST", f"{side}/partnerships/{{partnership_id}}/agreement/{step}"): Case(
            lambda r, side=side, step=step: f"{side}/partnerships/{r.partnership}/agreement/{step}",
            form,
            who="outsider" if side else "intruder",
        )
        for side in ("", "/portal")
        for step, form in (
            ("terms", {"terms": "{}"}),
            ("move", {"kind": "pause", "reason": "x"}),
            ("answer", {"version": "1", "answer": "accept"}),
            ("statement", {"month": "2026-10"}),
        )
    },
    ("GET", "/commissions"): Case(
        lambda r: "/commissions",
        status=200,
        hidden=lambda r: [f'data-hold="{r.hold}"', f'data-payout="{r.payout}"'],
    ),
    ("POST", "/commissions/compute"): Case(lambda r: "/commissions/compute", {}, status=303),
    ("POST", "/commissions/holds/{hold_id}"): Case(
        lambda r: f"/commissions/holds/{r.hold}", {"decision": "approve", "note": "mine"}
    ),
    ("POST", "/payouts/run"): Case(lambda r: "/payouts/run", {}, status=303),
    ("POST", "/payouts/{payout_id}/paid"): Case(
        lambda r: f"/payouts/{r.payout}/paid", {"reference": "STOLEN"}
    ),
    ("POST", "/payouts/{payout_id}/cancel"): Case(lambda r: f"/payouts/{r.payout}/cancel", {}),
    ("GET", "/payouts/{payout_id}/export"): Case(lambda r: f"/payouts/{r.payout}/export"),
    ("POST", "/commissions/details"): Case(  # the intruder's own account
        lambda r: "/commissions/details",
        {"holder": "Alpine", "iban": "DE89 3704 0044 0532 0130 00"},
        status=303,
    ),
    ("POST", "/commissions/fraud-settings"): Case(  # the intruder's own thresholds
        lambda r: "/commissions/fraud-settings",
        {"checks": "too_soon", "min_seconds": "5"},
        status=303,
    ),
    ("POST", "/commissions/costs"): Case(  # the intruder's own channel
        lambda r: "/commissions/costs",
        {"channel": "search", "month": "2026-10", "kind": "other", "amount_minor": "100"},
        status=303,
    ),
    ("GET", "/campaigns"): Case(
        lambda r: "/campaigns", hidden=_listing("campaign_name"), status=200
    ),
    ("GET", "/portal/campaigns"): Case(
        lambda r: "/portal/campaigns", who="outsider", hidden=_listing("campaign_name"), status=200
    ),
    ("POST", "/campaigns"): Case(  # under the brand's partnership: not the intruder's
        lambda r: "/campaigns",
        lambda r: {
            "name": "x",
            "strategy": "social",
            "partnership": str(r.partnership),
            "start": "2026-12-01",
            "end": "2026-12-31",
        },
    ),
    ("GET", "/campaigns/{campaign_id}"): Case(lambda r: f"/campaigns/{r.campaign}"),
    ("GET", "/portal/campaigns/{campaign_id}"): Case(
        lambda r: f"/portal/campaigns/{r.campaign}", who="outsider"
    ),
    ("POST", "/campaigns/{campaign_id}/status"): Case(
        lambda r: f"/campaigns/{r.campaign}/status", {"status": "cancelled"}
    ),
    **{
        ("POST", f"{side}/campaigns/{{campaign_id}}/items"): Case(
            lambda r, side=side: f"{side}/campaigns/{r.campaign}/items",
            {
                "at": "2026-12-03T09:00",
                "kind": "post",
                "channel": "social",
                "audience": "all",
                "title": "x",
                "action": "save",
            },
            who="outsider" if side else "intruder",
        )
        for side in ("", "/portal")
    },
    **{
        ("POST", f"{side}/campaigns/{{campaign_id}}/attachments"): Case(
            lambda r, side=side: f"{side}/campaigns/{r.campaign}/attachments",
            lambda r: {"kind": "link", "key": r.link},
            who="outsider" if side else "intruder",
        )
        for side in ("", "/portal")
    },
    **{
        ("POST", f"{side}/campaigns/{{campaign_id}}/items/{{item_id}}/delete"): Case(
            lambda r, side=side: f"{side}/campaigns/{r.campaign}/items/{r.item}/delete",
            who="outsider" if side else "intruder",
        )
        for side in ("", "/portal")
    },
    **{
        ("POST", f"{side}/campaigns/{{campaign_id}}/checklist/{{item_id}}"): Case(
            lambda r, side=side: f"{side}/campaigns/{r.campaign}/checklist/{r.step}",
            {"done": "true"},
            who="outsider" if side else "intruder",
        )
        for side in ("", "/portal")
    },
    **{
        ("GET", f"{side}/calendar"): Case(
            lambda r, side=side: f"{side}/calendar?month=2026-12",
            who="outsider" if side else "intruder",
            hidden=_listing("item_title", "blackout_reason"),
            status=200,
        )
        for side in ("", "/portal")
    },
    **{
        ("POST", f"{side}/calendar/blackouts/{{blackout_id}}/delete"): Case(
            lambda r, side=side: f"{side}/calendar/blackouts/{r.blackout}/delete",
            who="outsider" if side else "intruder",
        )
        for side in ("", "/portal")
    },
    **{
        ("POST", f"{side}/calendar/feeds/{{feed_id}}/revoke"): Case(
            lambda r, side=side: f"{side}/calendar/feeds/{r.feed}/revoke",
            who="outsider" if side else "intruder",
        )
        for side in ("", "/portal")
    },
    **{  # the visitor's own blackout, rules and feed: 200 (the page), none of the brand's
        ("POST", f"{side}/calendar/{what}"): Case(
            lambda r, side=side, what=what: f"{side}/calendar/{what}",
            form,
            who="outsider" if side else "intruder",
            status=status,
        )
        for side in ("", "/portal")
        for what, form, status in (
            ("blackouts", {"start": "2026-12-01", "end": "2026-12-01", "reason": "own"}, 303),
            ("rules", {"weekly_max": "4", "timezone": "Europe/Berlin"}, 303),
            ("feeds", {}, 200),
        )
    },
    **{
        (method, f"{side}/campaigns/{{campaign_id}}/{what}"): Case(
            lambda r, side=side, what=what: (
                f"{side}/campaigns/{r.campaign}/"
                + what.format(asset_id=r.asset, version=1, page_id=r.landing)
            ),
            form,
            who="outsider" if side else "intruder",
        )
        for side in ("", "/portal")
        for method, what, form in (
            ("POST", "assets", {"name": "x"}),
            ("GET", "assets/{asset_id}", None),
            ("POST", "assets/{asset_id}/versions", {}),
            ("POST", "assets/{asset_id}/review", {"version": "1", "decision": "approved"}),
            ("GET", "assets/{asset_id}/versions/{version}", None),
            (
                "POST",
                "offers",
                {
                    "title": "x",
                    "items": "a",
                    "price": "1",
                    "start": "2026-12-01",
                    "end": "2026-12-02",
                    "code": "STEAL",
                },
            ),
            ("POST", "landing-pages", {"slug": "stolen-page", "headline": "x"}),
            ("POST", "landing-pages/{page_id}/publish", {"published": "false"}),
        )
    },
    **{  # the visitor's own guidelines; none of the brand's assets offered
        (method, f"{side}/brand"): Case(
            lambda r, side=side: f"{side}/brand",
            form,
            who="outsider" if side else "intruder",
            status=status,
            hidden=_listing("asset_name"),
        )
        for side in ("", "/portal")
        for method, form, status in (("GET", None, 200), ("POST", {"colours": "#123456"}, 303))
    },
    ("GET", "/portal/earnings"): Case(lambda r: "/portal/earnings", who="outsider", status=200),
    ("POST", "/portal/earnings/details"): Case(  # the outsider's own account
        lambda r: "/portal/earnings/details",
        {"holder": "Pixel", "iban": "DE89 3704 0044 0532 0130 00"},
        who="outsider",
        status=303,
    ),
    ("GET", "/partnerships/{partnership_id}/statements/{month}"): Case(
        lambda r: f"/partnerships/{r.partnership}/statements/2026-10"
    ),
    ("GET", "/portal/partnerships/{partnership_id}/statements/{month}"): Case(
        lambda r: f"/portal/partnerships/{r.partnership}/statements/2026-10", who="outsider"
    ),
    **{
        ("GET", f"{side}/partnerships/{{partnership_id}}/record.json"): Case(
            lambda r, side=side: f"{side}/partnerships/{r.partnership}/record.json",
            who="outsider" if side else "intruder",
        )
        for side in ("", "/portal")
    },
}


def _page_routes() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for stage in (accounts, agree, discover, measure, pay, plan, track)
        for route in stage.pages.routes
        for method in route.methods  # type: ignore[attr-defined]
    }


def test_every_page_route_has_an_isolation_case() -> None:
    assert _page_routes() - OWN_OR_PUBLIC == set(CASES)


@dataclass
class Setup:
    records: Records
    settings: Settings
    clients: dict[str, TestClient]


@pytest.fixture
def setup(demo_settings: Settings) -> Iterator[Setup]:  # noqa: F811 - the fixture imported
    db = open_database(demo_settings)
    try:
        records = _make(db)
        create_user(db, INTRUDER, "owner@alpine.test", PASSWORD, Role.OWNER)
        create_user(db, OUTSIDER, "partner@pixel.test", PASSWORD, Role.PARTNER)
    finally:
        db.dispose()
    from crosspromo.web.app import create_app

    with (
        TestClient(create_app(demo_settings)) as intruder,
        TestClient(create_app(demo_settings)) as outsider,
    ):
        login(intruder, "owner@alpine.test")
        login(outsider, "partner@pixel.test")
        yield Setup(records, demo_settings, {"intruder": intruder, "outsider": outsider})


def test_no_page_or_form_reaches_another_organization(setup: Setup) -> None:
    db = open_database(setup.settings)
    try:
        before = _state(db, setup.records)
        for (method, template), case in sorted(CASES.items()):
            client = setup.clients[case.who]
            path = case.path(setup.records)
            if method == "GET":
                answer = client.get(path, follow_redirects=False)
            else:
                token = _csrf(client.get("/account").text)
                form = case.form(setup.records) if callable(case.form) else case.form
                answer = client.post(
                    path, data=(form or {}) | {"csrf": token}, follow_redirects=False
                )
            assert answer.status_code == case.status, f"{method} {template}: {answer.text[-3000:]}"
            for secret in case.hidden(setup.records) if case.hidden else []:
                assert secret not in answer.text, f"{method} {template} shows {secret!r}"
        assert _state(db, setup.records) == before, "an intruder changed the brand's records"
    finally:
        db.dispose()


def test_the_owner_reaches_each_record(setup: Setup, demo_settings: Settings) -> None:  # noqa: F811
    """The same ids work for their owner (the 404s above are isolation, not broken routes)."""
    from crosspromo.web.app import create_app

    r = setup.records
    with TestClient(create_app(demo_settings)) as owner:
        login(owner, "demo@crosspromo.local")
        assert owner.get(f"/partnerships/{r.partnership}").status_code == 200
        assert owner.get(f"/links/{r.link}/qr.svg").status_code == 200
        token = _csrf(owner.get("/account").text)
        moved = owner.post(
            f"/experiments/{r.experiment}/status",
            data={"status": "stopped", "csrf": token},
            follow_redirects=False,
        )
        assert moved.status_code == 303
    db = open_database(demo_settings)
    try:
        with db.transaction() as session:
            brand_id = OrganizationRepository(session).by_slug(BRAND).id
        assert (
            next(e for e in list_experiments(db, brand_id) if e.id == r.experiment).status
            is ExperimentStatus.STOPPED
        )
        assert get_partnership(db, brand_id, r.partnership).status is PartnershipStatus.ACTIVE
    finally:
        db.dispose()
