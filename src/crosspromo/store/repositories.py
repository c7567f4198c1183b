"""Small repository classes over one Session. Services own the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crosspromo.domain import (
    ApiKey,
    ConsentPurpose,
    Customer,
    Event,
    Organization,
    OrgKind,
    Partnership,
    PartnershipStatus,
    Role,
    User,
)
from crosspromo.errors import ConflictError, NotFoundError
from crosspromo.store import tables as t


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert(self, table: Any, values: dict[str, Any], conflict: str) -> int:
        """Insert one row in a savepoint; a unique violation becomes a ConflictError."""
        try:
            with self.session.begin_nested():
                new_id = self.session.execute(
                    insert(table).values(**values).returning(table.c.id)
                ).scalar_one()
        except IntegrityError as exc:
            raise ConflictError(conflict) from exc
        return int(new_id)


class OrganizationRepository(_Repository):
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


class UserRepository(_Repository):
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

    def touch_login(self, user_id: int) -> None:
        self.session.execute(
            update(t.users).where(t.users.c.id == user_id).values(last_login_at=utcnow())
        )


class ApiKeyRepository(_Repository):
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


class PartnershipRepository(_Repository):
    def add(
        self, initiator_org_id: int, partner_org_id: int, name: str, status: PartnershipStatus
    ) -> Partnership:
        now = utcnow()
        values = {
            "initiator_org_id": initiator_org_id,
            "partner_org_id": partner_org_id,
            "name": name,
            "status": str(status),
            "created_at": now,
            "updated_at": now,
        }
        pid = self._insert(t.partnerships, values, "this partnership conflicts with another")
        return Partnership(pid, initiator_org_id, partner_org_id, name, status, now, now)

    def for_org(self, org_id: int, status: PartnershipStatus | None = None) -> list[Partnership]:
        """Partnerships ``org_id`` is a party to; nobody else's."""
        query = select(t.partnerships).where(_party(org_id))
        if status is not None:
            query = query.where(t.partnerships.c.status == str(status))
        rows = self.session.execute(query.order_by(t.partnerships.c.id))
        return [_partnership(r) for r in rows]

    def get_for_org(self, org_id: int, partnership_id: int) -> Partnership:
        """One partnership, only if ``org_id`` is a party; otherwise NotFound (never Forbidden)."""
        row = self.session.execute(
            select(t.partnerships).where(t.partnerships.c.id == partnership_id, _party(org_id))
        ).first()
        if row is None:
            raise NotFoundError(f"no partnership with id {partnership_id}")
        return _partnership(row)

    def open_between(self, org_a: int, org_b: int) -> Partnership | None:
        pair = or_(
            (t.partnerships.c.initiator_org_id == org_a)
            & (t.partnerships.c.partner_org_id == org_b),
            (t.partnerships.c.initiator_org_id == org_b)
            & (t.partnerships.c.partner_org_id == org_a),
        )
        row = self.session.execute(
            select(t.partnerships).where(pair, t.partnerships.c.status != "ended")
        ).first()
        return None if row is None else _partnership(row)

    def set_status(self, partnership_id: int, status: PartnershipStatus) -> datetime:
        now = utcnow()
        self.session.execute(
            update(t.partnerships)
            .where(t.partnerships.c.id == partnership_id)
            .values(status=str(status), updated_at=now)
        )
        return now

    def status_counts(self, org_id: int) -> dict[PartnershipStatus, int]:
        rows = self.session.execute(
            select(t.partnerships.c.status, func.count())
            .where(_party(org_id))
            .group_by(t.partnerships.c.status)
        )
        counts = dict.fromkeys(PartnershipStatus, 0)
        for status, count in rows:
            counts[PartnershipStatus(status)] = int(count)
        return counts


class CustomerRepository(_Repository):
    def add_many(self, rows: Sequence[dict[str, Any]]) -> int:
        """Bulk insert customer rows (already hashed); all or nothing with the transaction."""
        if not rows:
            return 0
        now = utcnow()
        try:
            with self.session.begin_nested():
                self.session.execute(insert(t.customers), [{"created_at": now, **r} for r in rows])
        except IntegrityError as exc:
            raise ConflictError("a customer in this batch already exists") from exc
        return len(rows)

    def upsert(
        self, org_id: int, id_hash: str, consents: frozenset[ConsentPurpose], segment: str | None
    ) -> tuple[Customer, bool]:
        """Create the customer or update its consents and segment; returns (customer, created)."""
        values = {
            "consent_partner_sharing": ConsentPurpose.PARTNER_SHARING in consents,
            "consent_promotional_email": ConsentPurpose.PROMOTIONAL_EMAIL in consents,
            "segment": segment,
        }
        existing = self._row(org_id, id_hash)
        if existing is None:
            self._insert(
                t.customers,
                {"org_id": org_id, "external_id_hash": id_hash, "created_at": utcnow(), **values},
                "the customer was created concurrently; retry",
            )
        else:
            self.session.execute(
                update(t.customers).where(t.customers.c.id == existing.id).values(**values)
            )
        row = self._row(org_id, id_hash)
        assert row is not None
        return _customer(row), existing is None

    def get(self, org_id: int, customer_id: int) -> Customer:
        row = self.session.execute(
            select(t.customers).where(
                t.customers.c.org_id == org_id, t.customers.c.id == customer_id
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no customer with id {customer_id}")
        return _customer(row)

    def _row(self, org_id: int, id_hash: str) -> Row[Any] | None:
        return self.session.execute(
            select(t.customers).where(
                t.customers.c.org_id == org_id, t.customers.c.external_id_hash == id_hash
            )
        ).first()

    def counts_by_org(self) -> dict[int, int]:
        rows = self.session.execute(
            select(t.customers.c.org_id, func.count()).group_by(t.customers.c.org_id)
        )
        return {int(org): int(n) for org, n in rows}

    def count(self, org_id: int, consent: ConsentPurpose | None = None) -> int:
        query = select(func.count()).select_from(t.customers).where(t.customers.c.org_id == org_id)
        if consent is not None:
            query = query.where(t.customers.c[f"consent_{consent}"].is_(True))
        return int(self.session.execute(query).scalar_one())


class EventRepository(_Repository):
    def append(
        self,
        org_id: int,
        kind: str,
        idempotency_key: str,
        occurred_at: datetime,
        payload: dict[str, Any],
    ) -> tuple[Event, bool]:
        """Append an event once. A replay with the same key and payload returns the stored
        event (created False); the same key with another kind or payload is a ConflictError."""
        stored = self._by_key(org_id, idempotency_key)
        if stored is None:
            values = {
                "org_id": org_id,
                "kind": kind,
                "idempotency_key": idempotency_key,
                "occurred_at": occurred_at,
                "recorded_at": utcnow(),
                "payload": payload,
            }
            try:
                self._insert(t.events, values, "")
                created = True
            except ConflictError:  # lost a race with the same key: compare with the winner
                created = False
            stored = self._by_key(org_id, idempotency_key)
        else:
            created = False
        assert stored is not None
        if not created and (stored.kind != kind or stored.payload != payload):
            raise ConflictError(
                f"idempotency key {idempotency_key!r} was already used for a different event",
                idempotency_key=idempotency_key,
            )
        return stored, created

    def list(self, org_id: int, kind: str | None = None, limit: int = 100) -> list[Event]:
        query = select(t.events).where(t.events.c.org_id == org_id)
        if kind is not None:
            query = query.where(t.events.c.kind == kind)
        rows = self.session.execute(query.order_by(t.events.c.id.desc()).limit(limit))
        return [_event(r) for r in rows]

    def _by_key(self, org_id: int, key: str) -> Event | None:
        row = self.session.execute(
            select(t.events).where(t.events.c.org_id == org_id, t.events.c.idempotency_key == key)
        ).first()
        return None if row is None else _event(row)


class SampleRunRepository(_Repository):
    def add(self, seed: int, scale: int, truth: dict[str, Any], notes: str = "") -> int:
        return self._insert(
            t.sample_runs,
            {"seed": seed, "scale": scale, "truth": truth, "notes": notes, "created_at": utcnow()},
            f"a sample ecosystem with seed {seed} and scale {scale} already exists",
        )

    def latest(self) -> tuple[int, int, dict[str, Any]] | None:
        """(seed, scale, truth) of the sample built into this database, if any."""
        row = self.session.execute(
            select(t.sample_runs).order_by(t.sample_runs.c.id.desc()).limit(1)
        ).first()
        return None if row is None else (row.seed, row.scale, dict(row.truth))


def _party(org_id: int) -> Any:
    return or_(
        t.partnerships.c.initiator_org_id == org_id, t.partnerships.c.partner_org_id == org_id
    )


def _org(row: Row[Any]) -> Organization:
    return Organization(row.id, row.slug, row.name, OrgKind(row.kind), row.category, row.created_at)


def _user(row: Row[Any]) -> User:
    return User(row.id, row.org_id, row.email, Role(row.role), row.created_at)


def _partnership(row: Row[Any]) -> Partnership:
    return Partnership(
        row.id,
        row.initiator_org_id,
        row.partner_org_id,
        row.name,
        PartnershipStatus(row.status),
        row.created_at,
        row.updated_at,
    )


def _customer(row: Row[Any]) -> Customer:
    consents = {
        purpose for purpose in ConsentPurpose if bool(getattr(row, f"consent_{purpose.value}"))
    }
    return Customer(
        row.id, row.org_id, row.external_id_hash, frozenset(consents), row.segment, row.created_at
    )


def _event(row: Row[Any]) -> Event:
    return Event(
        row.id,
        row.org_id,
        row.kind,
        row.idempotency_key,
        row.occurred_at,
        row.recorded_at,
        dict(row.payload),
    )
