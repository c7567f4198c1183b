"""Dashboard and portal users: create, and reset (which ends their logins)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crosspromo.domain import Role, User
from crosspromo.domain.choices import one_of
from crosspromo.errors import InvalidInputError
from crosspromo.security import hash_password
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, UserRepository

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def check_password(password: str, what: str = "password", field: str = "password") -> None:
    """A new password is long enough; ``what`` names it in the error, ``field`` is its input."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(f"{what} must be at least {MIN_PASSWORD} characters", field=field)


def parse_role(role: Role | str) -> Role:
    return one_of(Role, role, "role")


def _checked(email: str, password: str, role: Role | str) -> tuple[str, Role]:
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise InvalidInputError(f"{email!r} is not an e-mail address", field="email")
    check_password(password)
    return email, parse_role(role)


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as the command line shows it: who, of which organization, with what role."""

    email: str
    organization: str
    role: Role


def create_user(
    db: Database, org_slug: str, email: str, password: str, role: Role | str, *, reset: bool = False
) -> UserView:
    """Create a user of ``org_slug``; with ``reset`` an existing user of that organization gets
    the new password and role instead of a conflict."""
    email, checked_role = _checked(email, password, role)
    password_hash = hash_password(password)
    with db.transaction() as session:
        org = OrganizationRepository(session).by_slug(org_slug)
        users = UserRepository(session)
        existing = users.credentials(email) if reset else None
        if existing is not None and existing[0].org_id == org.id:
            users.set_password(existing[0].id, password_hash, checked_role)
        else:
            users.add(org.id, email, password_hash, checked_role)
    return UserView(email, org.slug, checked_role)


def get_user(db: Database, user_id: int) -> User | None:
    with db.transaction() as session:
        return UserRepository(session).get(user_id)


def team(db: Database, org_id: int) -> list[User]:
    """The organization's users, by e-mail address."""
    with db.transaction() as session:
        return UserRepository(session).for_org(org_id)


def dashboard_org_ids(db: Database) -> list[int]:
    """Organizations someone works on in the dashboard (whose pages are worth computing early)."""
    with db.transaction() as session:
        return UserRepository(session).dashboard_org_ids()
