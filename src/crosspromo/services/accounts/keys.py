"""API keys scoped to one organization: the plaintext is shown once, only a hash is kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from crosspromo.domain import ApiKey, Organization
from crosspromo.errors import AuthenticationError, InvalidInputError
from crosspromo.security import digests_match, generate_api_key, parse_api_key, token_digest
from crosspromo.store.database import Database
from crosspromo.store.repositories import ApiKeyRepository, OrganizationRepository


@dataclass(frozen=True, slots=True)
class KeyView:
    """An API key as its organization sees it: the prefix, never the key or its hash."""

    prefix: str
    name: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyView:
        return cls(key.prefix, key.name, key.created_at, key.revoked_at)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: ``key`` is the plaintext, shown this once."""

    key: str
    prefix: str
    name: str


def create_api_key(db: Database, org_slug: str, name: str = "default") -> IssuedKey:
    if not name.strip() or len(name) > 100:
        raise InvalidInputError("key name must be 1-100 characters", field="name")
    new = generate_api_key()
    with db.transaction() as session:
        org = OrganizationRepository(session).by_slug(org_slug)
        stored = ApiKeyRepository(session).add(org.id, name.strip(), new.prefix, new.digest)
    return IssuedKey(new.plaintext, stored.prefix, stored.name)


@dataclass(frozen=True, slots=True)
class KeyProof:
    """What a request shows of its API key: the lookup prefix and the key's digest (the
    plaintext goes no further than the request)."""

    prefix: str
    digest: str

    @classmethod
    def of(cls, plaintext: str) -> KeyProof:
        prefix = parse_api_key(plaintext)
        if prefix is None:
            raise AuthenticationError("malformed API key")
        return cls(prefix, token_digest(plaintext))


def organizations_of(session: Session, proofs: Iterable[KeyProof]) -> dict[KeyProof, Organization]:
    """The organization of each proof of a valid, unrevoked key, in one query."""
    wanted = set(proofs)
    return matching(wanted, ApiKeyRepository(session).active_by_prefixes(p.prefix for p in wanted))


def matching(
    proofs: Iterable[KeyProof], keys: Mapping[str, tuple[Organization, str] | None]
) -> dict[KeyProof, Organization]:
    """The organization of each proof whose prefix is among the unrevoked ``keys`` (their
    organization and digest, by prefix) and whose digest is that key's."""
    found: dict[KeyProof, Organization] = {}
    for proof in proofs:
        key = keys.get(proof.prefix)
        if key is not None and digests_match(key[1], proof.digest):
            found[proof] = key[0]
    return found


def authenticate_api_key(db: Database, plaintext: str) -> Organization:
    """The organization a valid, unrevoked key belongs to."""
    proof = KeyProof.of(plaintext)
    with db.transaction() as session:
        found = organizations_of(session, [proof])
    if proof not in found:
        raise AuthenticationError("invalid or revoked API key")
    return found[proof]


def list_api_keys(db: Database, org_slug: str) -> list[KeyView]:
    with db.transaction() as session:
        org = OrganizationRepository(session).by_slug(org_slug)
        return [KeyView.of(k) for k in ApiKeyRepository(session).list(org.id)]


def revoke_api_key(db: Database, org_slug: str, prefix: str) -> None:
    with db.transaction() as session:
        org = OrganizationRepository(session).by_slug(org_slug)
        ApiKeyRepository(session).revoke(org.id, prefix)
