"""Organizations (tenants), their users and their API keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

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

    def names(self, slugs: Iterable[str]) -> dict[str, str]:
        """The names of the organizations with ``slugs`` (those that exist), by slug."""
        wanted = sorted(set(slugs))
        if not wanted:
            return {}
        o = t.organizations.c
        rows = self.session.execute(select(o.slug, o.name).where(o.slug.in_(wanted)))
        return {str(slug): str(name) for slug, name in rows}


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
        LoginSessionRepository(self.session).end_all(user_id)  # a new password ends every login

    def dashboard_org_ids(self) -> list[int]:
        """Organizations with at least one dashboard (not partner-portal) user."""
        rows = self.session.execute(
            select(t.users.c.org_id).where(t.users.c.role != str(Role.PARTNER)).distinct()
        )
        return sorted(int(r[0]) for r in rows)

    def for_org(self, org_id: int) -> list[User]:
        rows = self.session.execute(
            select(t.users).where(t.users.c.org_id == org_id).order_by(t.users.c.email)
        )
        return [_user(r) for r in rows]

    def password_hash(self, user_id: int) -> str | None:
        return self.session.execute(
            select(t.users.c.password_hash).where(t.users.c.id == user_id)
        ).scalar_one_or_none()

    def touch_login(self, user_id: int) -> None:
        self.session.execute(
            update(t.users).where(t.users.c.id == user_id).values(last_login_at=utcnow())
        )


@dataclass(frozen=True, slots=True)
class LoginSessionRow:
    id: int
    user_id: int
    csrf: str
    user_agent: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    def ends_at(self, idle: timedelta) -> datetime:
        """When this login ends unless used again: idle for ``idle``, or its absolute end."""
        return min(self.expires_at, self.last_seen_at + idle)


def _login_session() -> Select[Any]:
    """The columns of a LoginSessionRow, in its order."""
    c = t.user_sessions.c
    return select(c.id, c.user_id, c.csrf, c.user_agent, c.created_at, c.last_seen_at,
                  c.expires_at)  # fmt: skip


class LoginSessionRepository(Repository):
    """Server-side login sessions, found by the SHA-256 of the cookie's token."""

    def add(self, user_id: int, token_hash: str, csrf: str, user_agent: str,
            expires_at: datetime) -> None:  # fmt: skip
        now = utcnow()
        self.session.execute(
            insert(t.user_sessions).values(
                token_hash=token_hash,
                user_id=user_id,
                csrf=csrf,
                user_agent=user_agent[:200],
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
            )
        )

    def find(self, token_hash: str) -> LoginSessionRow | None:
        c = t.user_sessions.c
        row = self.session.execute(_login_session().where(c.token_hash == token_hash)).first()
        return None if row is None else LoginSessionRow(*row)

    def for_user(self, user_id: int, now: datetime) -> list[LoginSessionRow]:
        c = t.user_sessions.c
        rows = self.session.execute(
            _login_session()
            .where(c.user_id == user_id, c.expires_at > now)
            .order_by(c.last_seen_at.desc())
        )
        return [LoginSessionRow(*r) for r in rows]

    def seen(self, session_id: int, now: datetime) -> None:
        c = t.user_sessions.c
        self.session.execute(update(t.user_sessions).where(c.id == session_id)
                             .values(last_seen_at=now))  # fmt: skip

    def end(self, session_id: int) -> None:
        self.session.execute(delete(t.user_sessions).where(t.user_sessions.c.id == session_id))

    def end_all(self, user_id: int, *, keep: int | None = None) -> int:
        c = t.user_sessions.c
        query = delete(t.user_sessions).where(c.user_id == user_id)
        if keep is not None:
            query = query.where(c.id != keep)
        result: Any = self.session.execute(query)
        return int(result.rowcount)

    def purge(self, now: datetime, idle_since: datetime) -> None:
        c = t.user_sessions.c
        self.session.execute(
            delete(t.user_sessions).where((c.expires_at <= now) | (c.last_seen_at < idle_since))
        )


EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class LoginThrottleRepository(Repository):
    """Counting and deciding in one statement each, so concurrent tries cannot both pass."""

    def enter(self, key: str, now: datetime, *, hold_until: datetime | None) -> bool:
        """Take a try for ``key`` when its delay is over (and, with ``hold_until``, when no
        other try of it is being checked, which it then holds until then); False if not."""
        c = t.login_throttle.c
        dialect = self.session.connection().dialect.name
        insert_or = postgresql.insert if dialect == "postgresql" else sqlite.insert
        busy = hold_until if hold_until is not None else EPOCH
        allowed = c.not_before <= now
        if hold_until is not None:
            allowed = allowed & (c.busy_until <= now)
        statement = (
            insert_or(t.login_throttle)
            .values(key=key, failures=0, not_before=EPOCH, busy_until=busy)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={"busy_until": busy if hold_until is not None else c.busy_until},
                where=allowed,
            )
            .returning(c.key)
        )
        return self.session.execute(statement).first() is not None

    def wait(self, key: str, now: datetime) -> float:
        c = t.login_throttle.c
        row = self.session.execute(select(c.not_before, c.busy_until).where(c.key == key)).first()
        if row is None:
            return 0.0
        latest: datetime = max(row.not_before, row.busy_until)
        return max(0.0, (latest - now).total_seconds())

    def failed(self, key: str) -> int:
        """One more failure for ``key``, its hold released; the failures now."""
        c = t.login_throttle.c
        return int(
            self.session.execute(
                update(t.login_throttle).where(c.key == key)
                .values(failures=c.failures + 1, busy_until=EPOCH)
                .returning(c.failures)
            ).scalar_one()
        )  # fmt: skip

    def delay(self, key: str, not_before: datetime) -> None:
        c = t.login_throttle.c
        self.session.execute(
            update(t.login_throttle).where(c.key == key).values(not_before=not_before)
        )

    def release(self, key: str) -> None:
        c = t.login_throttle.c
        self.session.execute(update(t.login_throttle).where(c.key == key).values(busy_until=EPOCH))

    def forget(self, key: str) -> None:
        self.session.execute(delete(t.login_throttle).where(t.login_throttle.c.key == key))


class ApiKeyRepository(Repository):
    def add(self, org_id: int, name: str, prefix: str, digest: str) -> ApiKey:
        now = utcnow()
        key_id = self._insert(
            t.api_keys,
            {"org_id": org_id, "name": name, "prefix": prefix, "digest": digest, "created_at": now},
            "API key prefix collision; try again",
        )
        return ApiKey(key_id, org_id, name, prefix, now)

    def active_by_prefixes(self, prefixes: Iterable[str]) -> dict[str, tuple[Organization, str]]:
        """For each unrevoked key among ``prefixes``: its organization and the key's digest,
        in one query (every API request asks it)."""
        k, o = t.api_keys.c, t.organizations
        wanted = sorted(set(prefixes))
        if not wanted:
            return {}
        rows = self.session.execute(
            select(o, k.prefix, k.digest).join(t.api_keys, k.org_id == o.c.id)
            .where(k.prefix.in_(wanted), k.revoked_at.is_(None))
        )  # fmt: skip
        return {row.prefix: (_org(row), row.digest) for row in rows}

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


@dataclass(frozen=True, slots=True)
class InvitationRow:
    id: int
    org_id: int
    email: str
    role: Role
    invited_by_org_id: int
    invited_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


class InvitationRepository(Repository):
    def add(self, values: dict[str, Any]) -> int:
        return self._insert(t.invitations, values, "this invitation already exists")

    def sent_by(self, org_id: int) -> list[InvitationRow]:
        rows = self.session.execute(
            select(t.invitations)
            .where(t.invitations.c.invited_by_org_id == org_id)
            .order_by(t.invitations.c.id.desc())
        )
        return [_invitation(r) for r in rows]

    def by_digest(self, digest: str) -> InvitationRow | None:
        row = self.session.execute(
            select(t.invitations).where(t.invitations.c.token_hash == digest)
        ).first()
        return None if row is None else _invitation(row)

    def close(self, invitation_id: int, column: str) -> bool:
        """Mark an open invitation used or revoked (``column``); False when it was no longer
        open (a second use of one link loses the race here)."""
        c = t.invitations.c
        done = self.session.execute(
            update(t.invitations)
            .where(c.id == invitation_id, c.used_at.is_(None), c.revoked_at.is_(None))
            .values({column: utcnow()})
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def _invitation(row: Row[Any]) -> InvitationRow:
    return InvitationRow(
        row.id, row.org_id, row.email, Role(row.role), row.invited_by_org_id, row.invited_by,
        row.created_at, row.expires_at, row.used_at, row.revoked_at,
    )  # fmt: skip
