"""Proposing to an organization that is not on this server yet: the proposer names it, the
organization is made (as a partner, its slug held for it) with the proposal waiting, and whoever
the proposer invites follows a one-time link to become its owner, then accepts, counters or
declines like any party. All of it in one transaction: a refusal anywhere leaves nothing."""

from __future__ import annotations

from dataclasses import dataclass

from crosspromo.domain import OrgKind, Role
from crosspromo.domain.models import check_slug
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.services.accounts.invitations import Issued, issue
from crosspromo.services.agree.agreements import propose_in
from crosspromo.services.agree.records import AgreementStep
from crosspromo.services.agree.terms import Terms
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository


@dataclass(frozen=True, slots=True)
class InvitedProposal:
    """The proposal waiting for the new organization, and the link (shown once) that makes its
    owner."""

    step: AgreementStep
    invitation: Issued


def propose_to_newcomer(
    db: Database, org_id: int, invited_by: str, slug: str, name: str, email: str, terms: Terms
) -> InvitedProposal:
    """Propose ``terms`` to a new organization ``slug`` (``name``) and invite ``email`` to own
    it; ``invited_by`` says who sent it (a user's address, or the command line)."""
    check_slug(slug, "slug")
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInputError("the organization's name is 1-200 characters", field="name")
    with db.transaction() as session:
        orgs = OrganizationRepository(session)
        if orgs.find_slug(slug) is not None:
            raise ConflictError(f"{slug!r} is already on this server: propose to it directly")
        newcomer = orgs.add(slug, name, OrgKind.PARTNER, "")
        step = propose_in(session, db.settings, org_id, slug, terms, actor=invited_by)
        issued = issue(session, db.settings, org_id, invited_by, email, Role.OWNER, newcomer.id)
    return InvitedProposal(step, issued)
