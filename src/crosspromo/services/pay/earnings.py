"""Where commissions stand on a day, per partner and currency (the brand's view) or per brand
(the partner's): pending, approved and not yet paid, paid, held for review, and how much
refunds reversed. Lines count from the day of the event they follow from; a line is approved
on the day its holding period ended, paid as of its payout's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from crosspromo.domain.clock import checked_day, end_of
from crosspromo.store.database import Database
from crosspromo.store.repositories import CommissionRepository, OrganizationRepository

BUCKETS = ("pending", "approved", "paid", "held")


@dataclass(frozen=True, slots=True)
class PartnerEarnings:
    partner: str
    currency: str
    pending_minor: int
    approved_minor: int
    paid_minor: int
    held_minor: int
    reversed_minor: int


@dataclass(frozen=True, slots=True)
class CommissionSummary:
    partners: list[PartnerEarnings]


@dataclass(frozen=True, slots=True)
class BrandEarnings:
    """A partner's earnings from one brand in one currency."""

    brand: str
    currency: str
    pending_minor: int
    approved_minor: int
    paid_minor: int
    held_minor: int
    reversed_minor: int


@dataclass(frozen=True, slots=True)
class Earnings:
    as_of: date
    brands: list[BrandEarnings]


def summary(db: Database, org_id: int, as_of: date | None = None) -> CommissionSummary:
    """The brand's commissions per partner and currency as of a day (not in the future)."""
    day = checked_day(as_of)
    with db.reading() as session:
        rows = CommissionRepository(session).buckets(org_id, day, end_of(day))
        names = OrganizationRepository(session).many({r[0] for r in rows})
    return CommissionSummary(
        [PartnerEarnings(names[p].slug, c, *f) for (p, c), f in _figures(rows).items()]
    )


def earnings(db: Database, partner_org_id: int, as_of: date | None = None) -> Earnings:
    """What a partner earns from each brand, as of a day."""
    day = checked_day(as_of)
    with db.reading() as session:
        rows = CommissionRepository(session).buckets(
            partner_org_id, day, end_of(day), side="partner"
        )
        names = OrganizationRepository(session).many({r[0] for r in rows})
    return Earnings(
        day, [BrandEarnings(names[b].slug, c, *f) for (b, c), f in _figures(rows).items()]
    )


def _figures(
    rows: list[tuple[int, str, str, int, int]],
) -> dict[tuple[int, str], tuple[int, int, int, int, int]]:
    """(pending, approved, paid, held, reversed) per (other party, currency), in order."""
    sums: dict[tuple[int, str], list[int]] = {}
    for other, currency, bucket, amount, reversed_ in sorted(rows):
        figures = sums.setdefault((other, currency), [0] * 5)
        if bucket in BUCKETS:
            figures[BUCKETS.index(bucket)] += amount
        if bucket != "rejected":
            figures[4] += reversed_
    return {k: (v[0], v[1], v[2], v[3], v[4]) for k, v in sums.items()}
