"""Joint offers (a bundle or an offer at a special price, each party's share of its revenue,
when it holds, the code a customer redeems it with) and co-branded landing pages served at
``/l/{slug}``: both brands, the offer and the campaign's tracked links. A view of a landing
page is kept (a keyed hash of the visitor, as clicks keep) and becomes a touch of the journey
of a customer whose click that same day came from the same visitor."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.domain.links import is_bot, visitor_hash
from crosspromo.domain.money import MAX_MINOR, check_currency
from crosspromo.domain.text import one_line, paragraphs
from crosspromo.errors import InvalidInputError, NotFoundError
from crosspromo.services.plan.assets import Guidelines, guidelines_of
from crosspromo.services.plan.campaigns import party_shares
from crosspromo.store.database import Database
from crosspromo.store.repositories import SaltRepository
from crosspromo.store.repositories.plan import CampaignRepository
from crosspromo.store.repositories.plan_assets import LandingRepository, OfferRepository

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
LANDING_PATH = "/l/{slug}"


@dataclass(frozen=True, slots=True)
class OfferInput:
    title: str
    items: Sequence[str]
    price_minor: int
    start: date
    end: date
    code: str
    currency: str = "EUR"
    description: str = ""
    regular_minor: int | None = None  # the items bought apart
    shares: Mapping[str, int] | None = None  # organization slug -> basis points; default equal


@dataclass(frozen=True, slots=True)
class Offer:
    id: int
    campaign_id: int
    org: str  # the side that made it
    title: str
    description: str
    items: list[str]
    price_minor: int
    regular_minor: int | None
    currency: str
    shares: dict[str, int]
    starts_on: date
    ends_on: date
    code: str
    created_at: datetime

    def holds_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def _offer(row: Mapping[str, Any], org: str) -> Offer:
    return Offer(
        row["id"], row["campaign_id"], org, row["title"], row["description"], list(row["items"]),
        row["price_minor"], row["regular_minor"], row["currency"], dict(row["shares"]),
        row["starts_on"], row["ends_on"], row["code"], row["created_at"],
    )  # fmt: skip


def _money(value: int | None, field: str) -> None:
    if value is not None and (isinstance(value, bool) or not 0 <= value <= MAX_MINOR):
        raise InvalidInputError(f"{field} is a whole number of minor units >= 0", field=field)


def create_offer(db: Database, org_id: int, campaign_id: int, given: OfferInput) -> Offer:
    """A joint offer in the campaign; its revenue shared among the campaign's parties."""
    title = one_line(given.title, "title", 200)
    items = [one_line(i, "items", 200) for i in given.items if i.strip()]
    if not 1 <= len(items) <= 20:
        raise InvalidInputError("an offer has 1-20 items", field="items")
    _money(given.price_minor, "price_minor")
    _money(given.regular_minor, "regular_minor")
    if given.regular_minor is not None and given.regular_minor <= given.price_minor:
        raise InvalidInputError("the regular price is above the offer's", field="regular_minor")
    if given.end < given.start:
        raise InvalidInputError("the offer ends before it starts", field="end")
    if not _CODE.match(given.code):
        raise InvalidInputError(
            "code is 3-64 letters, digits, - or _, starting with a letter or digit", field="code"
        )
    description = paragraphs(given.description, "description", 2000)
    with db.transaction() as session:
        repo = CampaignRepository(session)
        repo.get(org_id, campaign_id, lock=True)
        parties = repo.parties([campaign_id])[campaign_id]
        shares = party_shares(given.shares, [p["slug"] for p in parties])
        offers = OfferRepository(session)
        offer_id = offers.add({
            "campaign_id": campaign_id, "org_id": org_id, "title": title,
            "description": description, "items": items,
            "price_minor": given.price_minor, "regular_minor": given.regular_minor,
            "currency": check_currency(given.currency), "shares": shares,
            "starts_on": given.start, "ends_on": given.end, "code": given.code,
        })  # fmt: skip
        return next(o for o in _offers(session, campaign_id) if o.id == offer_id)


def _offers(session: Session, campaign_id: int) -> list[Offer]:
    return [_offer(r, r["org"]) for r in OfferRepository(session).of_campaign(campaign_id)]


def list_offers(db: Database, org_id: int, campaign_id: int) -> list[Offer]:
    with db.reading() as session:
        CampaignRepository(session).get(org_id, campaign_id)
        return _offers(session, campaign_id)


@dataclass(frozen=True, slots=True)
class LandingInput:
    slug: str
    headline: str
    body: str = ""
    offer_id: int | None = None
    published: bool = True


@dataclass(frozen=True, slots=True)
class LandingPage:
    id: int
    campaign_id: int
    slug: str
    path: str
    headline: str
    body: str
    offer_id: int | None
    published: bool
    views: int  # by people (not bots)


def _page(row: Mapping[str, Any], views: Mapping[int, int]) -> LandingPage:
    return LandingPage(
        row["id"], row["campaign_id"], row["slug"], LANDING_PATH.format(slug=row["slug"]),
        row["headline"], row["body"], row["offer_id"], row["published"], views.get(row["id"], 0),
    )  # fmt: skip


def _pages(session: Session, campaign_id: int) -> list[LandingPage]:
    repo = LandingRepository(session)
    rows = repo.of_campaign(campaign_id)
    views = repo.views([r["id"] for r in rows])
    return [_page(r, views) for r in rows]


def create_landing(db: Database, org_id: int, campaign_id: int, given: LandingInput) -> LandingPage:
    """A co-branded landing page of the campaign at ``/l/{slug}``."""
    slug = given.slug.strip().lower()
    if not _SLUG.match(slug):
        raise InvalidInputError(
            "slug is 3-64 lower-case letters, digits and -, not starting or ending with -",
            field="slug",
        )
    headline = one_line(given.headline, "headline", 200)
    body = paragraphs(given.body, "body", 4000)
    with db.transaction() as session:
        CampaignRepository(session).get(org_id, campaign_id, lock=True)
        if given.offer_id is not None and given.offer_id not in {
            o.id for o in _offers(session, campaign_id)
        }:
            raise NotFoundError("no such offer in the campaign", field="offer_id")
        repo = LandingRepository(session)
        page_id = repo.add({
            "campaign_id": campaign_id, "org_id": org_id, "slug": slug, "headline": headline,
            "body": body, "offer_id": given.offer_id,
            "published": given.published,
        })  # fmt: skip
        return next(p for p in _pages(session, campaign_id) if p.id == page_id)


def landing_pages(db: Database, org_id: int, campaign_id: int) -> list[LandingPage]:
    with db.reading() as session:
        CampaignRepository(session).get(org_id, campaign_id)
        return _pages(session, campaign_id)


def publish(
    db: Database, org_id: int, campaign_id: int, page_id: int, published: bool
) -> LandingPage:
    """Put a landing page online or take it off (any party of the campaign)."""
    with db.transaction() as session:
        CampaignRepository(session).get(org_id, campaign_id, lock=True)
        LandingRepository(session).set_published(campaign_id, page_id, published)
        return next(p for p in _pages(session, campaign_id) if p.id == page_id)


@dataclass(frozen=True, slots=True)
class PageLink:
    org: str
    org_name: str
    path: str  # the tracked short link: /r/{code}


@dataclass(frozen=True, slots=True)
class PublicPage:
    """What a landing page shows the public (not its figures)."""

    slug: str
    headline: str
    body: str
    campaign: str
    brands: list[Guidelines]
    names: list[str]  # the parties' names, the maker first
    offer: Offer | None
    links: list[PageLink] = field(default_factory=list)


def show_landing(
    db: Database, slug: str, *, address: str, user_agent: str, method: str = "GET",
    now: datetime | None = None,
) -> PublicPage:  # fmt: skip
    """The published page at ``slug``, its view kept for attribution."""
    at = now or datetime.now(UTC)
    with db.transaction() as session:
        repo = LandingRepository(session)
        row = repo.by_slug(slug.lower()) if _SLUG.match(slug.lower()) else None
        if row is None or not row["published"]:
            raise NotFoundError("no such page")
        campaign = CampaignRepository(session)
        made = campaign.get(row["org_id"], row["campaign_id"])
        parties = sorted(campaign.parties([row["campaign_id"]])[row["campaign_id"]],
                         key=lambda p: p["org_id"] != row["org_id"])  # fmt: skip
        salt = SaltRepository(session).for_day(at.strftime("%Y-%m-%d")).encode()
        repo.record_view(row["id"], visitor_hash(salt, address, user_agent), at,
                         is_bot(user_agent, method))  # fmt: skip
        offer = next((o for o in _offers(session, row["campaign_id"])
                      if o.id == row["offer_id"]), None)  # fmt: skip
        links = [PageLink(k["org"], k["org_name"], f"/r/{k['code']}")
                 for k in repo.links(row["campaign_id"])]  # fmt: skip
        brands = guidelines_of(session, [p["org_id"] for p in parties])
        return PublicPage(row["slug"], row["headline"], row["body"], made["name"], brands,
                          [p["name"] for p in parties], offer, links)  # fmt: skip
