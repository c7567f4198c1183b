"""Repository behaviour, run on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crosspromo.domain import ConsentPurpose, OrgKind, PartnershipStatus, Role
from crosspromo.errors import ConflictError, NotFoundError
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    ApiKeyRepository,
    CustomerRepository,
    EventRepository,
    OrganizationRepository,
    PartnershipRepository,
    UserRepository,
)

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _three_orgs(db: Database) -> tuple[int, int, int]:
    with db.transaction() as s:
        orgs = OrganizationRepository(s)
        return tuple(  # type: ignore[return-value]
            orgs.add(slug, slug.title(), OrgKind.BRAND, "x").id
            for slug in ("alpha", "beta", "gamma")
        )


def test_organization_round_trip_and_unique_slug(db: Database) -> None:
    a, _, _ = _three_orgs(db)
    with db.transaction() as s:
        org = OrganizationRepository(s).get(a)
        assert org.slug == "alpha"
        assert org.created_at.tzinfo is not None
        assert [o.slug for o in OrganizationRepository(s).list()] == ["alpha", "beta", "gamma"]
    with pytest.raises(ConflictError, match="alpha"), db.transaction() as s:
        OrganizationRepository(s).add("alpha", "Again", OrgKind.PARTNER)
    with pytest.raises(NotFoundError, match="nope"), db.transaction() as s:
        OrganizationRepository(s).by_slug("nope")


def test_failed_transaction_writes_nothing(db: Database) -> None:
    def half_then_fail() -> None:
        with db.transaction() as s:
            OrganizationRepository(s).add("half", "Half", OrgKind.BRAND)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        half_then_fail()
    with db.transaction() as s:
        assert OrganizationRepository(s).find_slug("half") is None


def test_partnerships_visible_to_parties_only(db: Database) -> None:
    a, b, c = _three_orgs(db)
    with db.transaction() as s:
        repo = PartnershipRepository(s)
        p = repo.add(a, b, "A with B", PartnershipStatus.ACTIVE)
        repo.add(b, c, "B with C", PartnershipStatus.PROSPECT)
    with db.transaction() as s:
        repo = PartnershipRepository(s)
        assert [x.name for x in repo.for_org(a)] == ["A with B"]
        assert [x.name for x in repo.for_org(b)] == ["A with B", "B with C"]
        assert [x.name for x in repo.for_org(c)] == ["B with C"]
        assert repo.get_for_org(b, p.id).name == "A with B"
        with pytest.raises(NotFoundError):
            repo.get_for_org(c, p.id)
        assert repo.status_counts(b)[PartnershipStatus.ACTIVE] == 1
        assert repo.status_counts(b)[PartnershipStatus.PROSPECT] == 1
        assert repo.open_between(b, a) is not None
        assert repo.open_between(a, c) is None


def test_partnership_needs_two_distinct_parties(db: Database) -> None:
    a, _, _ = _three_orgs(db)
    with pytest.raises(ConflictError), db.transaction() as s:
        PartnershipRepository(s).add(a, a, "self", PartnershipStatus.PROSPECT)


def test_users_and_keys(db: Database) -> None:
    a, b, _ = _three_orgs(db)
    with db.transaction() as s:
        user = UserRepository(s).add(a, "x@example.com", "hash", Role.ANALYST)
        ApiKeyRepository(s).add(a, "k", "abcdef0123", "digest")
    with db.transaction() as s:
        found = UserRepository(s).credentials("x@example.com")
        assert found is not None
        assert found[0] == user
        found = ApiKeyRepository(s).active_by_prefixes(["abcdef0123"]).get("abcdef0123")
        assert found is not None
        assert (found[0].id, found[1]) == (a, "digest")
        with pytest.raises(NotFoundError):
            ApiKeyRepository(s).revoke(b, "abcdef0123")
        ApiKeyRepository(s).revoke(a, "abcdef0123")
    with db.transaction() as s:
        assert ApiKeyRepository(s).active_by_prefixes(["abcdef0123"]) == {}
    with pytest.raises(ConflictError), db.transaction() as s:
        UserRepository(s).add(b, "x@example.com", "hash", Role.OWNER)


def test_customer_upsert_and_consent_counts(db: Database) -> None:
    a, b, _ = _three_orgs(db)
    both = frozenset(ConsentPurpose)
    with db.transaction() as s:
        repo = CustomerRepository(s)
        first, created = repo.upsert(a, "h1", both, "vip")
        assert created
        again, created = repo.upsert(a, "h1", frozenset(), None)
        assert not created
        assert again.id == first.id
        assert again.consents == frozenset()
        repo.upsert(a, "h2", frozenset({ConsentPurpose.PARTNER_SHARING}), None)
        repo.upsert(b, "h1", both, None)
    with db.transaction() as s:
        repo = CustomerRepository(s)
        assert repo.count(a) == 2
        assert repo.count(a, ConsentPurpose.PARTNER_SHARING) == 1
        assert repo.count(a, ConsentPurpose.PROMOTIONAL_EMAIL) == 0
        assert repo.counts_by_org() == {a: 2, b: 1}
        with pytest.raises(NotFoundError):
            repo.get(b, first.id)


def test_event_append_is_idempotent(db: Database) -> None:
    a, b, _ = _three_orgs(db)
    with db.transaction() as s:
        events = EventRepository(s)
        first, created = events.append(a, "thing", "key-1", WHEN, {"n": 1})
        assert created
        replay, created = events.append(a, "thing", "key-1", WHEN, {"n": 1})
        assert not created
        assert replay.id == first.id
        _, created = events.append(b, "thing", "key-1", WHEN, {"n": 1})
        assert created, "idempotency keys are per organization"
        with pytest.raises(ConflictError, match="key-1"):
            events.append(a, "thing", "key-1", WHEN, {"n": 2})
    with db.transaction() as s:
        stored = EventRepository(s).list(a)
        assert len(stored) == 1
        assert stored[0].occurred_at == WHEN
        assert stored[0].payload == {"n": 1}


@pytest.mark.parametrize("statement", ["UPDATE events SET kind = 'x'", "DELETE FROM events"])
def test_events_are_append_only_in_the_database(db: Database, statement: str) -> None:
    a, _, _ = _three_orgs(db)
    with db.transaction() as s:
        EventRepository(s).append(a, "thing", "k", WHEN, {})
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
        s.execute(text(statement))
    with db.transaction() as s:
        assert len(EventRepository(s).list(a)) == 1
