"""Holds for review: the brand approves a held conversion's commission (it is approved when its
holding period has passed) or rejects it (it is never owed), with a note; each decision is in
the brand's audit trail. The partner sees its held conversions with their reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crosspromo.errors import InvalidInputError
from crosspromo.services.pay.commissions import approve_due
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    CommissionRepository,
    EventRepository,
    HoldRepository,
    OrganizationRepository,
)
from crosspromo.store.repositories.base import utcnow
from crosspromo.store.repositories.commissions import HoldRow

DECIDED_EVENT = "commission.hold_decided"
DECISIONS = ("approve", "reject")


@dataclass(frozen=True, slots=True)
class HoldView:
    """A conversion held by a fraud check: why, and what the brand decided."""

    id: int
    brand: str
    partner: str
    conversion_id: int
    check: str
    reason: str
    status: str
    note: str
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


def holds(
    db: Database, org_id: int, *, status: str | None = "open", side: str = "brand"
) -> list[HoldView]:
    """The brand's holds (``side="partner"``: the holds on the organization's conversions as a
    partner), open ones by default."""
    party = "org_id" if side == "brand" else "partner_org_id"
    with db.reading() as session:
        rows = HoldRepository(session).list(org_id, status=status, party=party)
        names = OrganizationRepository(session).many(
            {r.org_id for r in rows} | {r.partner_org_id for r in rows}
        )
        return [_view(r, names[r.org_id].slug, names[r.partner_org_id].slug) for r in rows]


def decide(db: Database, org_id: int, hold_id: int, decision: str, note: str, by: str) -> HoldView:
    """Approve or reject a hold of the brand's, with a note."""
    if decision not in DECISIONS:
        raise InvalidInputError(f"decision must be one of {list(DECISIONS)}", field="decision")
    if len(note) > 2000:
        raise InvalidInputError("a note is at most 2000 characters", field="note")
    with db.transaction() as session:
        lines = CommissionRepository(session)
        lines.lock(org_id)
        repo = HoldRepository(session)
        hold = repo.get(org_id, hold_id)
        status = "approved" if decision == "approve" else "rejected"
        repo.decide(hold_id, status, note, by)
        EventRepository(session).append(
            org_id,
            DECIDED_EVENT,
            f"hold:{hold_id}:decided",
            utcnow(),
            {
                "hold_id": hold_id,
                "conversion_id": hold.conversion_id,
                "check": hold.check_name,
                "decision": status,
                "note": note,
                "by": by,
            },
        )
        if status == "rejected":
            lines.set_status([hold.conversion_id], "held", "rejected")
        elif repo.open_for(hold.conversion_id) == 0:
            lines.set_status([hold.conversion_id], "held", "pending")
            last = lines.last_as_of(org_id)
            if last is not None:  # what has passed its holding period is approved at once
                approve_due(session, org_id, last, f"commissions:hold:{hold_id}")
        decided = repo.get(org_id, hold_id)
        names = OrganizationRepository(session).many((org_id, hold.partner_org_id))
        return _view(decided, names[org_id].slug, names[hold.partner_org_id].slug)


def _view(row: HoldRow, brand: str, partner: str) -> HoldView:
    return HoldView(
        row.id,
        brand,
        partner,
        row.conversion_id,
        row.check_name,
        row.reason,
        row.status,
        row.note,
        row.decided_by,
        row.decided_at,
        row.created_at,
    )
