"""Partnerships between two organizations and their lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.domain import Event, Organization, Partnership, PartnershipStatus
from crosspromo.domain.choices import one_of
from crosspromo.domain.models import check_slug, check_transition
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.services.accounts.organizations import OrganizationView
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    EventRepository,
    OrganizationRepository,
    PartnershipRepository,
)


@dataclass(frozen=True, slots=True)
class PartnershipView:
    """A partnership as one of its parties sees it."""

    id: int
    name: str
    status: PartnershipStatus
    role: Annotated[str, Field(description="which side the caller is on: initiator or partner")]
    partner: Annotated[OrganizationView, Field(description="the other organization")]
    created_at: datetime
    updated_at: datetime


def _views(
    org_id: int, items: list[Partnership], orgs: dict[int, Organization]
) -> list[PartnershipView]:
    return [
        PartnershipView(
            p.id,
            p.name,
            p.status,
            "initiator" if p.initiator_org_id == org_id else "partner",
            OrganizationView.of(orgs[p.other_party(org_id)]),
            p.created_at,
            p.updated_at,
        )
        for p in items
    ]


def parse_status(value: str | None) -> PartnershipStatus | None:
    if value is None or value == "":
        return None
    return one_of(PartnershipStatus, value, "status")


def open_partners(session: Session, org_id: int) -> list[str]:
    """Slugs of the organizations with an open (not ended) partnership with ``org_id``: whom
    links, codes and experiments may involve."""
    ids = PartnershipRepository(session).open_partner_ids(org_id)
    return sorted(o.slug for o in OrganizationRepository(session).many(ids).values())


def partner_choices(db: Database, org_id: int) -> list[str]:
    """``open_partners`` in a transaction of its own."""
    with db.transaction() as session:
        return open_partners(session, org_id)


def list_partnerships(
    db: Database, org_id: int, status: PartnershipStatus | None = None
) -> list[PartnershipView]:
    with db.transaction() as session:
        items = PartnershipRepository(session).for_org(org_id, status)
        orgs = OrganizationRepository(session).many(p.other_party(org_id) for p in items)
    return _views(org_id, items, orgs)


def get_partnership(db: Database, org_id: int, partnership_id: int) -> PartnershipView:
    with db.transaction() as session:
        item = PartnershipRepository(session).get_for_org(org_id, partnership_id)
        other = OrganizationRepository(session).get(item.other_party(org_id))
    return _views(org_id, [item], {other.id: other})[0]


def propose_partnership(
    db: Database, org_id: int, partner_slug: str, name: str, *, actor: str | None = None
) -> PartnershipView:
    """Open a partnership (status prospect) with another organization; ``actor``: who did it
    (a user's e-mail address), kept in its history."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInputError("partnership name must be 1-200 characters", field="name")
    check_slug(partner_slug, "partner")
    with db.transaction() as session:
        orgs = OrganizationRepository(session)
        partner = orgs.by_slug(partner_slug)
        if partner.id == org_id:
            raise InvalidInputError("an organization cannot partner with itself", field="partner")
        repo = PartnershipRepository(session)
        if repo.open_between(org_id, partner.id) is not None:
            raise ConflictError(f"a partnership with {partner_slug!r} is already open")
        item = repo.add(org_id, partner.id, name, PartnershipStatus.PROSPECT)
        _record(session, org_id, item.id, None, item.status, item.created_at, actor=actor)
    return _views(org_id, [item], {partner.id: partner})[0]


def change_status(
    db: Database, org_id: int, partnership_id: int, target: PartnershipStatus, *,
    reason: str = "", actor: str | None = None,
) -> PartnershipView:  # fmt: skip
    """Move a partnership along its lifecycle; the step is recorded as an event with its
    ``reason`` and ``actor``. (The agreements stage makes ``active`` need the other party's
    acceptance: that check belongs here, where every caller passes.)"""
    reason = reason.strip()
    if len(reason) > 500:
        raise InvalidInputError("a reason is at most 500 characters", field="reason")
    with db.transaction() as session:
        repo = PartnershipRepository(session)
        item = repo.get_for_org(org_id, partnership_id)
        check_transition(item.status, target)
        when = repo.set_status(item.id, target)
        _record(session, org_id, item.id, item.status, target, when, reason=reason, actor=actor)
        updated = repo.get_for_org(org_id, partnership_id)
        other = OrganizationRepository(session).get(updated.other_party(org_id))
    return _views(org_id, [updated], {other.id: other})[0]


def _record(
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


# The usual way to each status from the first contact.
_WAY = (PartnershipStatus.PROSPECT, PartnershipStatus.NEGOTIATING, PartnershipStatus.ACTIVE)


def record_history(
    session: Session, item: Partnership, started: datetime, changed: datetime, reason: str
) -> None:
    """The history of a partnership stored with its status already set (the sample, an
    import): from prospect at ``started`` along the usual steps to its status at ``changed``,
    the steps between spread evenly, each by the initiator with ``reason``."""
    way = list(_WAY[: _WAY.index(item.status) + 1]) if item.status in _WAY else [*_WAY, item.status]
    gap = (changed - started) / max(len(way) - 1, 1)
    for number, status in enumerate(way):
        when = changed if number == len(way) - 1 else started + gap * number
        previous = way[number - 1] if number else None
        _record(session, item.initiator_org_id, item.id, previous, status, when, reason=reason)


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
