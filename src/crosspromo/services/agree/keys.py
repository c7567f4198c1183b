"""Each organization's signing key for its partnership records: made on first use and kept
sealed on the server, or held by the organization itself (the server then stores only the
public key and cannot sign in its name). Every key it has had is published, so anyone can
check what it signed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from nacl.signing import SigningKey
from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.config import Settings
from crosspromo.domain.record import fingerprint, public_key_of
from crosspromo.keyring import seal, unseal
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, SigningKeyRepository
from crosspromo.store.repositories.agreements import SigningKeyRow


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A signing key as anyone may see it."""

    public_key: Annotated[str, Field(description="Ed25519 public key, 64 lower-case hex digits")]
    fingerprint: Annotated[str, Field(description="SHA-256 of the key, hex")]
    held_by: Annotated[str, Field(description="server, or organization (kept off the server)")]
    created_at: datetime
    retired_at: datetime | None

    @classmethod
    def of(cls, row: SigningKeyRow) -> PublicKey:
        held = "organization" if row.private_key is None else "server"
        return cls(row.public_key, row.fingerprint, held, row.created_at, row.retired_at)


@dataclass(frozen=True, slots=True)
class PublishedKeys:
    organization: str
    keys: list[PublicKey]


def current_key(db: Database, org_id: int) -> PublicKey:
    """The organization's key in force, made (and sealed on the server) on first use."""
    with db.transaction() as session:
        return PublicKey.of(key_in_force(session, db.settings, org_id))


def key_in_force(session: Session, settings: Settings, org_id: int) -> SigningKeyRow:
    """``current_key`` inside the caller's transaction."""
    repository = SigningKeyRepository(session)
    found = repository.current(org_id)
    if found is None:
        made = SigningKey.generate()
        public = public_key_of(made)
        found = repository.add(org_id, public, fingerprint(public),
                               seal(settings, bytes(made).hex()))  # fmt: skip
    return found


def signer(session: Session, settings: Settings, org_id: int) -> SigningKey | None:
    """The key the server signs with in the organization's name; None when the organization
    holds its key (its entries are then signed where it keeps it)."""
    found = key_in_force(session, settings, org_id)
    if found.private_key is None:
        return None
    secret, _ = unseal(settings, found.private_key)
    return SigningKey(bytes.fromhex(secret))


def published_keys(db: Database, slug: str) -> PublishedKeys:
    """Every key an organization has had, for anyone checking what it signed."""
    with db.reading() as session:
        org = OrganizationRepository(session).by_slug(slug)
        rows = SigningKeyRepository(session).for_org(org.id)
    return PublishedKeys(org.slug, [PublicKey.of(r) for r in rows])
