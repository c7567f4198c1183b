"""Partnerships between two organizations and their lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.domain import Organization, Partnership, PartnershipStatus
from crosspromo.domain.choices import one_of
from crosspromo.domain.models import check_slug, check_transition
from crosspromo.errors import ConflictError, InvalidInputError, NotFoundError
from crosspromo.services.accounts.organizations import OrganizationView
from crosspromo.services.agree.agreements import move_body
from crosspromo.services.agree.history import record_step
from crosspromo.services.agree.records import append, load
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
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
    ends_on: Annotated[date | None, Field(description="an end given with notice: its day")]


def _views(
    org_id: int, items: list[Partnership], orgs: dict[int, Organization]
) -> list[PartnershipView]:
    today = datetime.now(UTC).date()
    return [
        PartnershipView(
            p.id,
            p.name,
            PartnershipStatus.ENDED if p.notice_ran_out(today) else p.status,
            "initiator" if p.initiator_org_id == org_id else "partner",
            OrganizationView.of(orgs[p.other_party(org_id)]),
            p.created_at,
            p.updated_at,
            p.ends_on,
        )
        for p in items
    ]


def parse_status(value: str | None) -> PartnershipStatus | None:
    if value is None or value == "":
        return None
    return one_of(PartnershipStatus, value, "status")


def open_partners(session: Session, org_id: int, *, active: bool = False) -> list[str]:
    """Slugs of the organizations with an open (not ended) partnership with ``org_id``: whom
    experiments may involve; ``active``: only those under terms in force (whom links and
    codes may be issued to)."""
    repo = PartnershipRepository(session)
    ids = repo.active_partner_ids(org_id) if active else repo.open_partner_ids(org_id)
    return sorted(o.slug for o in OrganizationRepository(session).many(ids).values())


def check_agreed(session: Session, org_id: int, partner_slug: str) -> Organization:
    """The partner named ``partner_slug``; NotFound (naming it) unless it and ``org_id`` have
    an active partnership: links, codes and credit only exist under terms both accepted."""
    partner = OrganizationRepository(session).find_slug(partner_slug)
    if partner is None or PartnershipRepository(session).active_between(org_id, partner.id) is None:
        raise NotFoundError(
            f"no active partnership with {partner_slug!r}: links and codes are issued under "
            "terms both sides accepted",
            field="partner",
        )
    return partner


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
        record_step(session, org_id, item.id, None, item.status, item.created_at, actor=actor)
    return _views(org_id, [item], {partner.id: partner})[0]


def change_status(
    db: Database, org_id: int, partnership_id: int, target: PartnershipStatus, *,
    reason: str = "", actor: str | None = None,
) -> PartnershipView:  # fmt: skip
    """Move a partnership along its lifecycle, with its ``reason`` and ``actor`` kept in the
    history. Once terms are proposed the record decides: pausing, resuming and ending are
    signed entries, and nothing makes a partnership active but both parties' acceptance of
    the same terms (``agreements.accept``). Every caller passes here."""
    with db.transaction() as session:
        loaded = load(session, org_id, partnership_id)
        item = loaded.partnership
        check_transition(item.status, target)
        kind = _ENTRY_FOR.get(target)
        if target is PartnershipStatus.ACTIVE and item.status is not PartnershipStatus.PAUSED:
            raise ConflictError(
                "a partnership becomes active when both parties accept the same terms: propose "
                "terms, and the other party accepts them"
            )
        if loaded.entries or target is PartnershipStatus.ACTIVE:
            if kind is None:
                raise ConflictError(f"terms are proposed: a {item.status} partnership moves on "
                                    "by its record (accept, counter, decline or end)")  # fmt: skip
            append(session, db.settings, loaded, kind, move_body(loaded, kind, reason),
                   actor=actor)  # fmt: skip
        else:
            move_body(loaded, "end", reason)  # the reason's checks
            when = PartnershipRepository(session).set_status(item.id, target)
            record_step(session, org_id, item.id, item.status, target, when,
                        reason=reason.strip(), actor=actor)  # fmt: skip
        updated = PartnershipRepository(session).get_for_org(org_id, partnership_id)
    return _views(org_id, [updated], {loaded.other.id: loaded.other})[0]


_ENTRY_FOR = {PartnershipStatus.PAUSED: "pause", PartnershipStatus.ACTIVE: "resume",
              PartnershipStatus.ENDED: "end"}  # fmt: skip
