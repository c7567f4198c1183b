"""Partnerships: visible to their two parties only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, func, or_, select, update

from crosspromo.domain import (
    Partnership,
    PartnershipStatus,
)
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


class PartnershipRepository(Repository):
    def add(
        self,
        initiator_org_id: int,
        partner_org_id: int,
        name: str,
        status: PartnershipStatus,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> Partnership:
        """Insert a partnership; times default to now (imports and the sample pass their own)."""
        created = created_at or utcnow()
        updated = updated_at or created
        values = {
            "initiator_org_id": initiator_org_id,
            "partner_org_id": partner_org_id,
            "name": name,
            "status": str(status),
            "created_at": created,
            "updated_at": updated,
        }
        pid = self._insert(t.partnerships, values, "this partnership conflicts with another")
        return Partnership(pid, initiator_org_id, partner_org_id, name, status, created, updated)

    def for_org(self, org_id: int, status: PartnershipStatus | None = None) -> list[Partnership]:
        """Partnerships ``org_id`` is a party to; nobody else's."""
        query = select(t.partnerships).where(_party(org_id))
        if status is not None:
            query = query.where(t.partnerships.c.status == str(status))
        rows = self.session.execute(query.order_by(t.partnerships.c.id))
        return [_partnership(r) for r in rows]

    def open_partner_ids(self, org_id: int) -> set[int]:
        """The organizations ``org_id`` has an open (not ended) partnership with."""
        return {p.other_party(org_id) for p in self.for_org(org_id)
                if p.status is not PartnershipStatus.ENDED}  # fmt: skip

    def get_for_org(self, org_id: int, partnership_id: int) -> Partnership:
        """One partnership, only if ``org_id`` is a party; otherwise NotFound (never Forbidden)."""
        row = self.session.execute(
            select(t.partnerships).where(t.partnerships.c.id == partnership_id, _party(org_id))
        ).first()
        if row is None:
            raise NotFoundError(f"no partnership with id {partnership_id}")
        return _partnership(row)

    def active_partner_ids(self, org_id: int) -> set[int]:
        """The organizations ``org_id`` has an active partnership with (terms both accepted,
        not paused, no notice run out): whom links, codes and conversions may credit."""
        return running_partners(org_id, self.for_org(org_id, PartnershipStatus.ACTIVE))

    def active_between(self, org_a: int, org_b: int) -> Partnership | None:
        found = self.open_between(org_a, org_b)
        if found is None or found.status is not PartnershipStatus.ACTIVE or not _running(found):
            return None
        return found

    def set_ends_on(self, partnership_id: int, day: date) -> None:
        self.session.execute(
            update(t.partnerships).where(t.partnerships.c.id == partnership_id).values(ends_on=day)
        )

    def notice_run_out(self, today: date) -> list[Partnership]:
        """Partnerships not marked ended whose notice ran out by ``today``."""
        c = t.partnerships.c
        rows = self.session.execute(
            select(t.partnerships).where(c.ends_on <= today, c.status != "ended").order_by(c.id)
        )
        return [_partnership(r) for r in rows]

    def open_between(self, org_a: int, org_b: int) -> Partnership | None:
        pair = or_(
            (t.partnerships.c.initiator_org_id == org_a)
            & (t.partnerships.c.partner_org_id == org_b),
            (t.partnerships.c.initiator_org_id == org_b)
            & (t.partnerships.c.partner_org_id == org_a),
        )
        row = self.session.execute(
            select(t.partnerships).where(pair, t.partnerships.c.status != "ended")
        ).first()
        return None if row is None else _partnership(row)

    def set_status(
        self, partnership_id: int, status: PartnershipStatus, when: datetime | None = None
    ) -> datetime:
        now = when or utcnow()
        self.session.execute(
            update(t.partnerships)
            .where(t.partnerships.c.id == partnership_id)
            .values(status=str(status), updated_at=now)
        )
        return now

    def status_counts(self, org_id: int) -> dict[PartnershipStatus, int]:
        rows = self.session.execute(
            select(t.partnerships.c.status, func.count())
            .where(_party(org_id))
            .group_by(t.partnerships.c.status)
        )
        counts = dict.fromkeys(PartnershipStatus, 0)
        for status, count in rows:
            counts[PartnershipStatus(status)] = int(count)
        return counts


def running_partners(org_id: int, active: Iterable[Partnership]) -> set[int]:
    """The other parties of ``org_id``'s active partnerships whose notice has not run out."""
    return {p.other_party(org_id) for p in active if _running(p)}


def _running(item: Partnership) -> bool:
    return not item.notice_ran_out(datetime.now(UTC).date())


def _party(org_id: int) -> Any:
    return or_(
        t.partnerships.c.initiator_org_id == org_id, t.partnerships.c.partner_org_id == org_id
    )


def _partnership(row: Row[Any]) -> Partnership:
    return Partnership(
        row.id,
        row.initiator_org_id,
        row.partner_org_id,
        row.name,
        PartnershipStatus(row.status),
        row.created_at,
        row.updated_at,
        row.ends_on,
    )
