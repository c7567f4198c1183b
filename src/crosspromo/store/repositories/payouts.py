"""Payouts (a brand's run per partner and currency: open, then paid or cancelled) and each
organization's sealed payout details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update

from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


@dataclass(frozen=True, slots=True)
class PayoutRow:
    id: int
    org_id: int
    partner_org_id: int
    currency: str
    amount_minor: int
    lines: int
    as_of: date
    status: str
    reference: str | None
    created_at: datetime
    closed_at: datetime | None


class PayoutRepository(Repository):
    def add(
        self,
        org_id: int,
        partner_org_id: int,
        currency: str,
        amount_minor: int,
        lines: int,
        as_of: date,
    ) -> int:
        values = {
            "org_id": org_id,
            "partner_org_id": partner_org_id,
            "currency": currency,
            "amount_minor": amount_minor,
            "lines": lines,
            "as_of": as_of,
            "status": "open",
            "created_at": utcnow(),
        }
        return self._insert(t.payouts, values, "a payout is being made")

    def get(self, org_id: int, payout_id: int, party: str = "org_id") -> PayoutRow:
        c = t.payouts.c
        row = self.session.execute(
            select(t.payouts).where(c.id == payout_id, c[party] == org_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no payout with id {payout_id}")
        return PayoutRow(**row._mapping)

    def list(self, org_id: int, party: str = "org_id") -> list[PayoutRow]:
        c = t.payouts.c
        rows = self.session.execute(
            select(t.payouts).where(c[party] == org_id).order_by(c.id.desc())
        )
        return [PayoutRow(**r._mapping) for r in rows]

    def set_lines(self, payout_id: int, lines: int) -> None:
        c = t.payouts.c
        self.session.execute(update(t.payouts).where(c.id == payout_id).values(lines=lines))

    def close(self, payout_id: int, status: str, reference: str | None) -> bool:
        """Close an open payout as paid or cancelled; False if it was not open."""
        c = t.payouts.c
        done = self.session.execute(
            update(t.payouts)
            .where(c.id == payout_id, c.status == "open")
            .values(status=status, reference=reference, closed_at=utcnow())
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


class PayoutDetailsRepository(Repository):
    def get(self, org_id: int) -> tuple[str, int] | None:
        """(sealed details, payout threshold) of the organization, if it gave them."""
        c = t.payout_details.c
        row = self.session.execute(
            select(c.sealed, c.threshold_minor).where(c.org_id == org_id)
        ).first()
        return None if row is None else (row[0], int(row[1]))

    def thresholds(self, org_ids: list[int]) -> dict[int, int]:
        c = t.payout_details.c
        rows = self.session.execute(
            select(c.org_id, c.threshold_minor).where(c.org_id.in_(org_ids))
        )
        return {int(r[0]): int(r[1]) for r in rows}

    def put(self, org_id: int, sealed: str, threshold_minor: int) -> None:
        values: dict[str, Any] = {
            "org_id": org_id,
            "sealed": sealed,
            "threshold_minor": threshold_minor,
            "updated_at": utcnow(),
        }
        self._upsert(t.payout_details, values)


class CostRepository(Repository):
    def add_new(self, org_id: int, rows: list[dict[str, Any]]) -> int:
        """Add the cost rows whose key is new for the organization; how many."""
        return self._insert_new(
            t.costs, [{**r, "org_id": org_id} for r in rows], ["org_id", "key"], "created_at"
        )

    def by_partner_month(self, org_id: int, currency: str) -> list[tuple[str, str, int]]:
        """(partner slug, YYYY-MM, amount) of the organization's costs with partners in
        ``currency``, and of the commissions it approved, by the month approved."""
        c, p, o = t.costs.c, t.partnerships.c, t.organizations.c
        other = case((p.initiator_org_id == org_id, p.partner_org_id), else_=p.initiator_org_id)
        stored = self.session.execute(
            select(o.slug, c.month, func.sum(c.amount_minor))
            .select_from(
                t.costs.join(t.partnerships, p.id == c.partnership_id).join(
                    t.organizations, o.id == other
                )
            )
            .where(c.org_id == org_id, c.currency == currency)
            .group_by(o.slug, c.month)
        )
        found = [(r[0], r[1], int(r[2])) for r in stored]
        lines = t.commission_lines.c
        earned = self.session.execute(
            select(o.slug, lines.approved_on, func.sum(lines.amount_minor))
            .select_from(t.commission_lines.join(t.organizations, o.id == lines.partner_org_id))
            .where(
                lines.org_id == org_id,
                lines.currency == currency,
                lines.status.in_(("approved", "paid")),
            )
            .group_by(o.slug, lines.approved_on)
        )
        found += [(r[0], str(r[1])[:7], int(r[2])) for r in earned]
        return found

    def own_by_channel_month(self, org_id: int, currency: str) -> list[tuple[str, str, int]]:
        """(channel, YYYY-MM, amount) of the organization's costs of its own channels (with no
        partner) in ``currency``."""
        c = t.costs.c
        rows = self.session.execute(
            select(c.channel, c.month, func.sum(c.amount_minor))
            .where(c.org_id == org_id, c.currency == currency, c.partnership_id.is_(None))
            .group_by(c.channel, c.month)
        )
        return [(r[0], r[1], int(r[2])) for r in rows]


class StatementRepository(Repository):
    """What a partnership's monthly statement sums."""

    def earned(self, partnership_id: int, first: date, last: date) -> list[tuple[Any, ...]]:
        """(version, rule, currency, lines, amount) of the commissions approved in the days,
        before reversals."""
        c = t.commission_lines.c
        rows = self.session.execute(
            select(c.version, c.rule, c.currency, func.count(), func.sum(c.amount_minor))
            .where(
                c.partnership_id == partnership_id,
                c.status.in_(("approved", "paid")),
                c.amount_minor > 0,
                c.approved_on >= first,
                c.approved_on <= last,
            )
            .group_by(c.version, c.rule, c.currency)
            .order_by(c.version, c.rule, c.currency)
        )
        return [(int(r[0]), int(r[1]), r[2], int(r[3]), int(r[4])) for r in rows]

    def movements(
        self, partnership_id: int, brand: int, partner: int, first: date, last: date
    ) -> list[tuple[str, str, int]]:
        """(currency, what, amount): approved before the days, earned and reversed in them,
        and paid before and in them."""
        c, p = t.commission_lines.c, t.payouts.c
        when = case(
            (c.approved_on < first, "approved_before"),
            (c.amount_minor > 0, "earned"),
            else_="reversed",
        )
        sign = case((and_(c.approved_on >= first, c.amount_minor < 0), -1), else_=1)
        lines = self.session.execute(
            select(c.currency, when, func.sum(c.amount_minor * sign))
            .where(
                c.partnership_id == partnership_id,
                c.status.in_(("approved", "paid")),
                c.approved_on <= last,
            )
            .group_by(c.currency, when)
        )
        paid_when = case((p.as_of < first, "paid_before"), else_="paid")
        paid = self.session.execute(
            select(p.currency, paid_when, func.sum(p.amount_minor))
            .where(
                p.org_id == brand, p.partner_org_id == partner, p.status == "paid", p.as_of <= last
            )
            .group_by(p.currency, paid_when)
        )
        return [(r[0], r[1], int(r[2])) for r in [*lines, *paid]]

    def months(self, org_id: int) -> list[tuple[int, str, str]]:
        """(partnership, other party's slug, YYYY-MM) of each month a partnership of the
        organization had commissions approved, newest first."""
        c, o = t.commission_lines.c, t.organizations.c
        other = case((c.org_id == org_id, c.partner_org_id), else_=c.org_id)
        rows = self.session.execute(
            select(c.partnership_id, o.slug, c.approved_on)
            .select_from(t.commission_lines.join(t.organizations, o.id == other))
            .where(or_(c.org_id == org_id, c.partner_org_id == org_id), c.approved_on.is_not(None))
            .distinct()
        )
        found = {(int(r[0]), r[1], str(r[2])[:7]) for r in rows}
        return sorted(found, key=lambda m: (m[2], m[0]), reverse=True)
