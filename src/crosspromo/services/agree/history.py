"""A partnership's status history: every step either party took, with when, by whom and why,
kept as events of the party that took it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from crosspromo.domain import Event, Partnership, PartnershipStatus
from crosspromo.store.repositories import EventRepository, OrganizationRepository


def record_step(
    session: Session,
    org_id: int,
    partnership_id: int,
    previous: PartnershipStatus | None,
    status: PartnershipStatus,
    when: datetime,
    *,
    reason: str = "",
    actor: str | None = None,
) -> None:
    payload: dict[str, object] = {
        "partnership_id": partnership_id,
        "from": None if previous is None else str(previous),
        "to": str(status),
    }
    if reason:
        payload["reason"] = reason
    if actor:
        payload["by"] = actor
    EventRepository(session).append(
        org_id, STATUS_CHANGED, f"{_history_key(partnership_id)}{status}:{when.isoformat()}",
        when, payload,
    )  # fmt: skip


STATUS_CHANGED = "partnership.status_changed"


def _history_key(partnership_id: int) -> str:
    return f"partnership:{partnership_id}:"


@dataclass(frozen=True, slots=True)
class StatusStep:
    """One step of a partnership's lifecycle: when, to what, by which side and why."""

    at: datetime
    status: PartnershipStatus
    previous: PartnershipStatus | None
    by_org: str
    by: str | None
    reason: str


def history(session: Session, item: Partnership) -> list[StatusStep]:
    """Every step of ``item``, by either party, oldest first."""
    parties = (item.initiator_org_id, item.partner_org_id)
    names = {i: o.name for i, o in OrganizationRepository(session).many(parties).items()}
    steps = EventRepository(session).keyed(parties, STATUS_CHANGED, _history_key(item.id))
    return [_step(e, names[e.org_id]) for e in steps]


def _step(event: Event, by_org: str) -> StatusStep:
    before = event.payload.get("from")
    return StatusStep(
        event.occurred_at, PartnershipStatus(event.payload["to"]),
        PartnershipStatus(before) if before else None, by_org, event.payload.get("by"),
        event.payload.get("reason", ""),
    )  # fmt: skip
