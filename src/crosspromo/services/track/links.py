"""Destination allow-lists and tracking links."""

from __future__ import annotations

from dataclasses import dataclass

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
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    ClickRepository,
    ConversionRepository,
    DomainRepository,
    LinkRepository,
    OrganizationRepository,
    PartnershipRepository,
)

_CODE_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class IssuedLink:
    link: Link
    short_url: str
    partner_slug: str


def add_domain(db: Database, org_id: int, domain: str) -> tuple[str, bool]:
    """Allow redirects to ``domain`` and its subdomains; returns (domain, newly added)."""
    value = normalize_domain(domain)
    with db.transaction() as session:
        return value, DomainRepository(session).add(org_id, value)


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
    """A link for ``partner_slug`` to share. The partner must be in a partnership with the
    organization that is not ended; the destination host must be allow-listed."""
    check_slug(partner_slug, "partner")
    if len(campaign) > 200:
        raise InvalidInputError("campaign must be at most 200 characters", field="campaign")
    code = check_custom_slug(slug) if slug else None
    with db.transaction() as session:
        partner = OrganizationRepository(session).find_slug(partner_slug)
        if (
            partner is None
            or PartnershipRepository(session).open_between(org_id, partner.id) is None
        ):
            raise NotFoundError(
                f"no open partnership with {partner_slug!r}; links are issued to partners",
                field="partner",
            )
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
    return IssuedLink(link, short_url(db, link.code), partner.slug)


def get_link(db: Database, org_id: int, code: str) -> IssuedLink:
    with db.transaction() as session:
        link = LinkRepository(session).get_for_org(org_id, code)
        partner = OrganizationRepository(session).get(link.partner_org_id)
    return IssuedLink(link, short_url(db, link.code), partner.slug)


def list_links(db: Database, org_id: int) -> list[IssuedLink]:
    with db.transaction() as session:
        items = LinkRepository(session).for_org(org_id)
        partners = OrganizationRepository(session).many(i.partner_org_id for i in items)
    return [IssuedLink(i, short_url(db, i.code), partners[i.partner_org_id].slug) for i in items]


@dataclass(frozen=True, slots=True)
class LinkStats:
    clicks: int
    unique_clicks: int
    bot_clicks: int
    leads: int
    sales: int
    revenue_by_currency: dict[str, int]

    @property
    def revenue(self) -> tuple[int, str | None]:
        """Net revenue (sales less refunds) when in one currency; (0, None) otherwise."""
        if len(self.revenue_by_currency) == 1:
            currency, amount = next(iter(self.revenue_by_currency.items()))
            return amount, currency
        return 0, None


def link_stats(db: Database, org_id: int, code: str) -> LinkStats:
    """Clicks (bots apart; unique = one per visitor per hour) and conversions of a link."""
    with db.transaction() as session:
        link = LinkRepository(session).get_for_org(org_id, code)
        return _stats(session, link.id)


def _stats(session: Session, link_id: int) -> LinkStats:
    clicks, unique, bots = ClickRepository(session).link_counts(link_id)
    leads, sales, revenue = ConversionRepository(session).link_totals(link_id)
    return LinkStats(clicks, unique, bots, leads, sales, revenue)


@dataclass(frozen=True, slots=True)
class PartnerLink:
    """A link as the partner who shares it sees it: whose it is, and how it does."""

    link: Link
    short_url: str
    brand_slug: str
    stats: LinkStats


def partner_links(db: Database, partner_org_id: int) -> list[PartnerLink]:
    """The links issued to a partner organization, with their numbers (nobody else's)."""
    with db.transaction() as session:
        items = LinkRepository(session).for_partner(partner_org_id)
        brands = OrganizationRepository(session).many(i.org_id for i in items)
        return [
            PartnerLink(
                item, short_url(db, item.code), brands[item.org_id].slug, _stats(session, item.id)
            )
            for item in items
        ]
