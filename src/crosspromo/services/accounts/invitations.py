"""Invitations by one-time link: an owner or manager invites a colleague (manager or analyst;
an owner may also invite an owner) or a partner's user, who then works in the partner portal.
No e-mail server is needed: the link is shown once, to be copied. The link holds 256 random
bits; only its digest is stored; it works once, within its lifetime, unless revoked."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from crosspromo.config import Settings
from crosspromo.domain import Role, User
from crosspromo.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from crosspromo.security import hash_password, token_digest
from crosspromo.services.accounts.users import EMAIL, check_password
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    InvitationRepository,
    InvitationRow,
    OrganizationRepository,
    PartnershipRepository,
    UserRepository,
    utcnow,
)

LIFETIME = timedelta(days=7)
# Whom each role may invite into its own organization (partner users: see ``invite``).
MAY_INVITE = {
    Role.OWNER: (Role.OWNER, Role.MANAGER, Role.ANALYST),
    Role.MANAGER: (Role.MANAGER, Role.ANALYST),
}


@dataclass(frozen=True, slots=True)
class InvitationView:
    id: int
    email: str
    role: Role
    organization: str  # the name of the organization the new user joins
    invited_by: str
    created_at: datetime
    expires_at: datetime
    state: str  # open, used, revoked or expired


@dataclass(frozen=True, slots=True)
class Issued:
    """A new invitation and its link: shown once."""

    invitation: InvitationView
    link: str


def invite(
    db: Database, inviter: User, email: str, role: Role, partner: str | None = None
) -> Issued:
    """Invite ``email`` as ``role`` into the inviter's organization, or (``partner``: a slug,
    role partner) as a user of that partner, which must have an open partnership with it."""
    allowed = MAY_INVITE.get(inviter.role, ())
    if not allowed:
        raise InvalidInputError(f"an {inviter.role.value} cannot invite anyone", field="role")
    if (role is Role.PARTNER) != (partner is not None):
        raise InvalidInputError(
            "a partner user is invited for a partner, and only a partner user", field="partner"
        )
    if role is not Role.PARTNER and role not in allowed:
        names = ", ".join(r.value for r in allowed)
        raise InvalidInputError(f"an {inviter.role.value} may invite: {names}", field="role")
    with db.transaction() as session:
        target = inviter.org_id
        if partner is not None:
            other = OrganizationRepository(session).find_slug(partner)
            if (
                other is None
                or PartnershipRepository(session).open_between(inviter.org_id, other.id) is None
            ):
                raise NotFoundError(f"no open partnership with {partner!r}", field="partner")
            target = other.id
        return issue(session, db.settings, inviter.org_id, inviter.email, email, role, target)


def issue(
    session: Session, settings: Settings, inviter_org_id: int, invited_by: str, email: str,
    role: Role, target: int,
) -> Issued:  # fmt: skip
    """Write an invitation of ``email`` as ``role`` of organization ``target``, inside the
    caller's transaction; its link, shown once."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise InvalidInputError(f"{email!r} is not an e-mail address", field="email")
    if UserRepository(session).credentials(email) is not None:
        raise ConflictError(f"{email} already has a login")
    token, now = secrets.token_urlsafe(32), utcnow()
    values = {
        "org_id": target, "email": email, "role": str(role), "token_hash": token_digest(token),
        "invited_by_org_id": inviter_org_id, "invited_by": invited_by,
        "created_at": now, "expires_at": now + LIFETIME,
    }  # fmt: skip
    InvitationRepository(session).add(values)
    row = InvitationRepository(session).by_digest(token_digest(token))
    assert row is not None
    view = _view(row, OrganizationRepository(session).get(target).name, now)
    return Issued(view, f"{settings.public_url.rstrip('/')}/invite/{token}")


def sent_invitations(db: Database, org_id: int) -> list[InvitationView]:
    """The invitations the organization sent, newest first."""
    now = utcnow()
    with db.transaction() as session:
        rows = InvitationRepository(session).sent_by(org_id)
        names = {i: o.name for i, o in OrganizationRepository(session).many(
            {r.org_id for r in rows}).items()}  # fmt: skip
    return [_view(r, names[r.org_id], now) for r in rows]


def revoke_invitation(db: Database, org_id: int, invitation_id: int) -> None:
    """Revoke an open invitation the organization sent; others' are not found."""
    with db.transaction() as session:
        repo = InvitationRepository(session)
        if not any(r.id == invitation_id for r in repo.sent_by(org_id)):
            raise NotFoundError(f"no invitation {invitation_id}")
        repo.close(invitation_id, "revoked_at")


def open_invitation(db: Database, token: str) -> InvitationView:
    """The invitation behind a link, if it can still be used; one error for every other case
    (unknown, used, revoked, expired), so the link reveals nothing more."""
    now = utcnow()
    with db.transaction() as session:
        row = InvitationRepository(session).by_digest(token_digest(token))
        if row is None or _state(row, now) != "open":
            raise AuthenticationError("this invitation link is not valid: ask for a new one")
        return _view(row, OrganizationRepository(session).get(row.org_id).name, now)


def accept_invitation(db: Database, token: str, password: str) -> User:
    """Make the invited user with ``password``; the link works once."""
    check_password(password)
    digest, password_hash, now = token_digest(token), hash_password(password), utcnow()
    with db.transaction() as session:
        repo = InvitationRepository(session)
        row = repo.by_digest(digest)
        if row is None or _state(row, now) != "open" or not repo.close(row.id, "used_at"):
            raise AuthenticationError("this invitation link is not valid: ask for a new one")
        return UserRepository(session).add(row.org_id, row.email, password_hash, row.role)


def _state(row: InvitationRow, now: datetime) -> str:
    if row.used_at is not None:
        return "used"
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "open"


def _view(row: InvitationRow, organization: str, now: datetime) -> InvitationView:
    return InvitationView(row.id, row.email, row.role, organization, row.invited_by,
                          row.created_at, row.expires_at, _state(row, now))  # fmt: skip
