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

from crosspromo.domain.record import fingerprint, is_public_key, public_key_of
from crosspromo.errors import InvalidInputError
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
    return PublicKey.of(_current(db, org_id))


def _current(db: Database, org_id: int) -> SigningKeyRow:
    with db.transaction() as session:
        repository = SigningKeyRepository(session)
        found = repository.current(org_id)
        if found is None:
            made = SigningKey.generate()
            public = public_key_of(made)
            found = repository.add(org_id, public, fingerprint(public),
                                   seal(db.settings, bytes(made).hex()))  # fmt: skip
        return found


def hold_key_locally(db: Database, org_id: int, public_key: str) -> PublicKey:
    """From now on the organization signs with its own key, kept off the server: only
    ``public_key`` is stored, and the server's copy of the key before is retired."""
    public_key = public_key.strip().lower()
    if not is_public_key(public_key):
        raise InvalidInputError("an Ed25519 public key is 64 hex digits", field="public_key")
    with db.transaction() as session:
        added = SigningKeyRepository(session).add(org_id, public_key, fingerprint(public_key),
                                                   None)  # fmt: skip
        return PublicKey.of(added)


def server_signer(db: Database, org_id: int) -> SigningKey | None:
    """The key the server signs with in the organization's name; None when the organization
    holds its key (its entries are then signed where it keeps it)."""
    found = _current(db, org_id)
    if found.private_key is None:
        return None
    secret, _ = unseal(db.settings, found.private_key)
    return SigningKey(bytes.fromhex(secret))


def published_keys(db: Database, slug: str) -> PublishedKeys:
    """Every key an organization has had, for anyone checking what it signed."""
    with db.reading() as session:
        org = OrganizationRepository(session).by_slug(slug)
        rows = SigningKeyRepository(session).for_org(org.id)
    return PublishedKeys(org.slug, [PublicKey.of(r) for r in rows])
