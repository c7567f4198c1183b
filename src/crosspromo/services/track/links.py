"""Destination allow-lists and tracking links."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import segno
from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.domain.links import (
    Link,
    check_custom_slug,
    new_code,
    normalize_domain,
    tagged_destination,
)
from crosspromo.domain.models import check_slug
from crosspromo.errors import ConflictError, InvalidInputError, NotFoundError
from crosspromo.services.agree.partnerships import check_agreed, open_partners
from crosspromo.services.track.conversions import CodeView
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    ClickRepository,
    ConversionRepository,
    DomainRepository,
    LinkRepository,
    OrganizationRepository,
    PartnerCodeRepository,
)
from crosspromo.store.repositories.stats import Window

_CODE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A tracking link as its brand sees it."""

    code: str
    short_url: str
    destination: Annotated[str, Field(description="the allow-listed URL with UTM tags added")]
    partner: str
    campaign: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, db: Database, link: Link, partner_slug: str) -> IssuedLink:
        return cls(
            link.code,
            short_url(db, link.code),
            link.destination,
            partner_slug,
            link.campaign,
            link.active,
            link.created_at,
        )


@dataclass(frozen=True, slots=True)
class DomainAdded:
    domain: str
    added: Annotated[bool, Field(description="false when the domain was allowed already")]


def add_domain(db: Database, org_id: int, domain: str) -> DomainAdded:
    """Allow redirects to ``domain`` and its subdomains."""
    value = normalize_domain(domain)
    with db.transaction() as session:
        return DomainAdded(value, DomainRepository(session).add(org_id, value))


def remove_domain(db: Database, org_id: int, domain: str) -> None:
    with db.transaction() as session:
        DomainRepository(session).remove(org_id, normalize_domain(domain))


def list_domains(db: Database, org_id: int) -> list[str]:
    with db.transaction() as session:
        return sorted(DomainRepository(session).list(org_id))


def short_url(db: Database, code: str) -> str:
    return f"{db.settings.public_url.rstrip('/')}/r/{code}"


def create_link(
    db: Database,
    org_id: int,
    partner_slug: str,
    destination: str,
    campaign: str = "",
    slug: str | None = None,
    medium: str = "partner",
    content: str = "",
) -> IssuedLink:
    """A link for ``partner_slug`` to share. The partnership must be active (terms both
    sides accepted); the destination host must be allow-listed."""
    check_slug(partner_slug, "partner")
    if len(campaign) > 200:
        raise InvalidInputError("campaign must be at most 200 characters", field="campaign")
    code = check_custom_slug(slug) if slug else None
    with db.transaction() as session:
        partner = check_agreed(session, org_id, partner_slug)
        allowed = DomainRepository(session).list(org_id)
        final = tagged_destination(
            destination,
            allowed,
            source=partner.slug,
            medium=medium,
            campaign=campaign,
            content=content,
        )
        links = LinkRepository(session)
        for attempt in range(_CODE_ATTEMPTS):
            try:
                link = links.add(org_id, partner.id, code or new_code(), final, campaign)
                break
            except ConflictError:
                if code is not None or attempt == _CODE_ATTEMPTS - 1:
                    raise
    return IssuedLink.of(db, link, partner.slug)


def get_link(db: Database, org_id: int, code: str) -> IssuedLink:
    with db.transaction() as session:
        link = LinkRepository(session).get_for_org(org_id, code)
        partner = OrganizationRepository(session).get(link.partner_org_id)
    return IssuedLink.of(db, link, partner.slug)


def set_link_active(db: Database, org_id: int, code: str, active: bool) -> IssuedLink:
    """Pause a link (its short URL answers "not found" and records no click) or resume it;
    its clicks and conversions so far are kept."""
    with db.transaction() as session:
        link = LinkRepository(session).set_active(org_id, code, active)
        partner = OrganizationRepository(session).get(link.partner_org_id)
    return IssuedLink.of(db, link, partner.slug)


def list_links(db: Database, org_id: int) -> list[IssuedLink]:
    with db.transaction() as session:
        items = LinkRepository(session).for_org(org_id)
        partners = OrganizationRepository(session).many(i.partner_org_id for i in items)
    return [IssuedLink.of(db, i, partners[i.partner_org_id].slug) for i in items]


@dataclass(frozen=True, slots=True)
class LinkStats:
    """A link's numbers. Net revenue (sales less refunds) is in ``revenue_minor`` when it is
    in one currency, and per currency always."""

    clicks: Annotated[int, Field(description="human clicks (bots are stored but not counted)")]
    unique_clicks: Annotated[int, Field(description="one per visitor per hour")]
    bot_clicks: int
    leads: int
    sales: int
    revenue_minor: Annotated[int, Field(description="sales less refunds, in a single currency")]
    currency: str | None
    revenue_by_currency: dict[str, int]

    @classmethod
    def of(
        cls, clicks: tuple[int, int, int], leads: int, sales: int, revenue: dict[str, int]
    ) -> LinkStats:
        single = next(iter(revenue.items())) if len(revenue) == 1 else ("", 0)
        return cls(*clicks, leads, sales, single[1], single[0] or None, revenue)


def link_stats(db: Database, org_id: int, code: str) -> LinkStats:
    """Clicks (bots apart; unique = one per visitor per hour) and conversions of a link."""
    with db.transaction() as session:
        link = LinkRepository(session).get_for_org(org_id, code)
        return _stats(session, link.id)


def _stats(session: Session, link_id: int, window: Window | None = None) -> LinkStats:
    clicks = ClickRepository(session).link_counts(link_id, window)
    leads, sales, revenue = ConversionRepository(session).link_totals(link_id, window)
    return LinkStats.of(clicks, leads, sales, revenue)


@dataclass(frozen=True, slots=True)
class PartnerLink:
    """A link as the partner who shares it sees it: whose it is, and how it does."""

    link: Link
    short_url: str
    brand_slug: str
    brand_name: str
    stats: LinkStats


def partner_links(
    db: Database, partner_org_id: int, window: Window | None = None
) -> list[PartnerLink]:
    """The links issued to a partner organization, with their numbers (nobody else's), all
    time or in [start, end) of ``window``."""
    with db.transaction() as session:
        items = LinkRepository(session).for_partner(partner_org_id)
        brands = OrganizationRepository(session).many(i.org_id for i in items)
        return [
            PartnerLink(
                item,
                short_url(db, item.code),
                brands[item.org_id].slug,
                brands[item.org_id].name,
                _stats(session, item.id, window),
            )
            for item in items
        ]


def partner_qr_code(db: Database, partner_org_id: int, code: str) -> bytes:
    """The QR code (SVG) of a link issued to the partner; any other code is not found."""
    with db.transaction() as session:
        issued = [i for i in LinkRepository(session).for_partner(partner_org_id) if i.code == code]
    if not issued:
        raise NotFoundError(f"no link {code!r} issued to you")
    return _qr(short_url(db, code), "svg")


@dataclass(frozen=True, slots=True)
class PartnerCodeView:
    """A referral or coupon code a brand issued to the partner."""

    code: str
    kind: str
    brand: str
    brand_name: str
    active: bool


def partner_codes(db: Database, partner_org_id: int) -> list[PartnerCodeView]:
    """The codes issued to a partner organization (nobody else's), newest first."""
    with db.reading() as session:
        codes = PartnerCodeRepository(session).for_partner(partner_org_id)
        brands = OrganizationRepository(session).many(c.org_id for c in codes)
    return [
        PartnerCodeView(c.code, str(c.kind), brands[c.org_id].slug, brands[c.org_id].name, c.active)
        for c in codes
    ]


def partner_code_qr(db: Database, partner_org_id: int, code: str) -> bytes:
    """The QR code (SVG) of a code issued to the partner (its text); any other is not found."""
    if not any(c.code == code for c in partner_codes(db, partner_org_id)):
        raise NotFoundError(f"no code {code!r} issued to you")
    return _qr(code, "svg")


@dataclass(frozen=True, slots=True)
class LinkFigures:
    """A link with its numbers."""

    link: IssuedLink
    stats: LinkStats


def links_between(
    db: Database, owner_org_id: int, partner_org_id: int, window: Window | None = None
) -> list[LinkFigures]:
    """The links ``owner_org_id`` issued to ``partner_org_id``, newest first, with numbers
    (all time, or in [start, end) of ``window``)."""
    with db.transaction() as session:
        items = [
            i
            for i in LinkRepository(session).for_org(owner_org_id)
            if i.partner_org_id == partner_org_id
        ]
        slug = OrganizationRepository(session).get(partner_org_id).slug
        return [
            LinkFigures(IssuedLink.of(db, i, slug), _stats(session, i.id, window))
            for i in reversed(items)
        ]


def qr_code(db: Database, org_id: int, code: str, kind: str) -> bytes:
    """The QR code of a link's short URL, as ``svg`` or ``png``."""
    return _qr(get_link(db, org_id, code).short_url, kind)


def _qr(url: str, kind: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind=kind, scale=8, border=2)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class LinksPage:
    """What the dashboard's Links page shows: the brand's links, the partners it may issue
    links to (open partnerships) and the domains destinations may point at."""

    links: list[IssuedLink]
    partners: list[str]
    domains: list[str]
    codes: list[CodeView]  # referral and coupon codes, newest first


def links_page(db: Database, org_id: int) -> LinksPage:
    with db.transaction() as session:
        items = LinkRepository(session).for_org(org_id)
        codes = PartnerCodeRepository(session).for_org(org_id)
        orgs = OrganizationRepository(session)
        wanted = {i.partner_org_id for i in items} | {c.partner_org_id for c in codes}
        slugs = {o.id: o.slug for o in orgs.many(wanted).values()}
        partners = open_partners(session, org_id, active=True)
        domains = sorted(DomainRepository(session).list(org_id))
    links = [IssuedLink.of(db, i, slugs[i.partner_org_id]) for i in items]
    shown = [CodeView.of(c, slugs[c.partner_org_id]) for c in reversed(codes)]
    return LinksPage(links, partners, domains, shown)
