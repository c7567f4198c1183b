"""Organizations (tenants), their users and their API keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update

from crosspromo.domain import (
    ApiKey,
    Organization,
    OrgKind,
    Role,
    User,
)
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


class OrganizationRepository(Repository):
    def add(self, slug: str, name: str, kind: OrgKind, category: str = "") -> Organization:
        now = utcnow()
        org_id = self._insert(
            t.organizations,
            {
                "slug": slug,
                "name": name,
                "kind": str(kind),
                "category": category,
                "created_at": now,
            },
            f"an organization with slug {slug!r} already exists",
        )
        return Organization(org_id, slug, name, kind, category, now)

    def get(self, org_id: int) -> Organization:
        row = self.session.execute(
            select(t.organizations).where(t.organizations.c.id == org_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no organization with id {org_id}")
        return _org(row)

    def by_slug(self, slug: str) -> Organization:
        row = self.session.execute(
            select(t.organizations).where(t.organizations.c.slug == slug)
        ).first()
        if row is None:
            raise NotFoundError(f"no organization with slug {slug!r}", slug=slug)
        return _org(row)

    def find_slug(self, slug: str) -> Organization | None:
        row = self.session.execute(
            select(t.organizations).where(t.organizations.c.slug == slug)
        ).first()
        return None if row is None else _org(row)

    def list(self) -> list[Organization]:
        rows = self.session.execute(select(t.organizations).order_by(t.organizations.c.slug))
        return [_org(r) for r in rows]

    def many(self, ids: Iterable[int]) -> dict[int, Organization]:
        wanted = set(ids)
        if not wanted:
            return {}
        rows = self.session.execute(select(t.organizations).where(t.organizations.c.id.in_(wanted)))
        return {r.id: _org(r) for r in rows}


class UserRepository(Repository):
    def add(self, org_id: int, email: str, password_hash: str, role: Role) -> User:
        now = utcnow()
        user_id = self._insert(
            t.users,
            {
                "org_id": org_id,
                "email": email,
                "password_hash": password_hash,
                "role": str(role),
                "created_at": now,
            },
            f"a user with e-mail {email!r} already exists",
        )
        return User(user_id, org_id, email, role, now)

    def credentials(self, email: str) -> tuple[User, str] | None:
        """The user and stored password hash for ``email``, or None."""
        row = self.session.execute(select(t.users).where(t.users.c.email == email)).first()
        return None if row is None else (_user(row), row.password_hash)

    def get(self, user_id: int) -> User | None:
        row = self.session.execute(select(t.users).where(t.users.c.id == user_id)).first()
        return None if row is None else _user(row)

    def set_password(self, user_id: int, password_hash: str, role: Role | None = None) -> None:
        values: dict[str, Any] = {"password_hash": password_hash}
        if role is not None:
            values["role"] = str(role)
        self.session.execute(update(t.users).where(t.users.c.id == user_id).values(**values))

    def record_failure(self, email: str) -> None:
        self.session.execute(insert(t.login_failures).values(email=email, failed_at=utcnow()))

    def recent_failures(self, email: str, since: datetime) -> int:
        query = (
            select(func.count())
            .select_from(t.login_failures)
            .where(t.login_failures.c.email == email, t.login_failures.c.failed_at >= since)
        )
        return int(self.session.execute(query).scalar_one())

    def clear_failures(self, email: str) -> None:
        self.session.execute(delete(t.login_failures).where(t.login_failures.c.email == email))

    def touch_login(self, user_id: int) -> None:
        self.session.execute(
            update(t.users).where(t.users.c.id == user_id).values(last_login_at=utcnow())
        )


class ApiKeyRepository(Repository):
    def add(self, org_id: int, name: str, prefix: str, digest: str) -> ApiKey:
        now = utcnow()
        key_id = self._insert(
            t.api_keys,
            {"org_id": org_id, "name": name, "prefix": prefix, "digest": digest, "created_at": now},
            "API key prefix collision; try again",
        )
        return ApiKey(key_id, org_id, name, prefix, now)

    def active_by_prefix(self, prefix: str) -> tuple[ApiKey, str] | None:
        row = self.session.execute(
            select(t.api_keys).where(
                t.api_keys.c.prefix == prefix, t.api_keys.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            return None
        key = ApiKey(row.id, row.org_id, row.name, row.prefix, row.created_at, row.revoked_at)
        return key, row.digest

    def list(self, org_id: int) -> list[ApiKey]:
        rows = self.session.execute(
            select(t.api_keys).where(t.api_keys.c.org_id == org_id).order_by(t.api_keys.c.id)
        )
        return [ApiKey(r.id, r.org_id, r.name, r.prefix, r.created_at, r.revoked_at) for r in rows]

    def revoke(self, org_id: int, prefix: str) -> None:
        result = self.session.execute(
            update(t.api_keys)
            .where(t.api_keys.c.org_id == org_id, t.api_keys.c.prefix == prefix)
            .values(revoked_at=utcnow())
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError(f"no API key with prefix {prefix!r} in this organization")


def _org(row: Row[Any]) -> Organization:
    return Organization(row.id, row.slug, row.name, OrgKind(row.kind), row.category, row.created_at)


def _user(row: Row[Any]) -> User:
    return User(row.id, row.org_id, row.email, Role(row.role), row.created_at)
