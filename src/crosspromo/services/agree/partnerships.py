"""Partnerships between two organizations and their lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.domain import Organization, Partnership, PartnershipStatus
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
    try:
        return PartnershipStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in PartnershipStatus)
        raise InvalidInputError(
            f"status {value!r} is not one of: {choices}", field="status"
        ) from None


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


def propose_partnership(db: Database, org_id: int, partner_slug: str, name: str) -> PartnershipView:
    """Open a partnership (status prospect) with another organization."""
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
        _record(session, org_id, item, None, item.created_at)
    return _views(org_id, [item], {partner.id: partner})[0]


def change_status(
    db: Database, org_id: int, partnership_id: int, target: PartnershipStatus
) -> PartnershipView:
    """Move a partnership along its lifecycle; the step is recorded as an event."""
    with db.transaction() as session:
        repo = PartnershipRepository(session)
        item = repo.get_for_org(org_id, partnership_id)
        check_transition(item.status, target)
        when = repo.set_status(item.id, target)
        _record(session, org_id, item, target, when)
        updated = repo.get_for_org(org_id, partnership_id)
        other = OrganizationRepository(session).get(updated.other_party(org_id))
    return _views(org_id, [updated], {other.id: other})[0]


def _record(
    session: Session,
    org_id: int,
    item: Partnership,
    target: PartnershipStatus | None,
    when: datetime,
) -> None:
    new_status = str(target or item.status)
    EventRepository(session).append(
        org_id,
        "partnership.status_changed",
        f"partnership:{item.id}:{new_status}:{when.isoformat()}",
        when,
        {
            "partnership_id": item.id,
            "from": None if target is None else str(item.status),
            "to": new_status,
        },
    )
