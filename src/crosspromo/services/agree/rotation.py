"""Changing an organization's signing key. Each change is a ``key_rotation`` entry in every
record the organization is a party to, signed with the key it replaces, so anyone checking a
record sees which key signs what and since when. The old key stays published: what it signed
still verifies."""

from __future__ import annotations

from nacl.signing import SigningKey
from sqlalchemy.orm import Session

from crosspromo.config import Settings
from crosspromo.domain.record import fingerprint, is_public_key, next_entry, public_key_of
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.keyring import seal
from crosspromo.services.agree.keys import PublicKey, signer
from crosspromo.services.agree.records import commit, load, stamp
from crosspromo.store.database import Database
from crosspromo.store.repositories import PartnershipRepository, SigningKeyRepository


def hold_key_locally(db: Database, org_id: int, public_key: str) -> PublicKey:
    """From now on the organization signs with its own key, kept off the server: only
    ``public_key`` is stored, and the server's key before it is retired (it signs the
    hand-over in each record, and nothing after)."""
    public_key = public_key.strip().lower()
    if not is_public_key(public_key):
        raise InvalidInputError("an Ed25519 public key is 64 hex digits", field="public_key")
    with db.transaction() as session:
        return _rotate(session, db.settings, org_id, public_key, None)


def rotate_key(db: Database, org_id: int) -> PublicKey:
    """A new key kept sealed on the server in place of the one in force."""
    made = SigningKey.generate()
    with db.transaction() as session:
        sealed = seal(db.settings, bytes(made).hex())
        return _rotate(session, db.settings, org_id, public_key_of(made), sealed)


def _rotate(
    session: Session, settings: Settings, org_id: int, public_key: str, sealed: str | None
) -> PublicKey:
    old = signer(session, settings, org_id)
    if old is None:
        raise ConflictError(
            "the key in force is held by the organization, and only it can sign the hand-over "
            "to another key; the server cannot"
        )
    added = SigningKeyRepository(session).add(org_id, public_key, fingerprint(public_key), sealed)
    for item in PartnershipRepository(session).for_org(org_id):
        loaded = load(session, org_id, item.id)
        if loaded.entries:
            entry = next_entry(loaded.record_id, loaded.entries, "key_rotation", loaded.me.slug,
                               old, stamp(), {"new_key": public_key})  # fmt: skip
            commit(session, loaded, entry)
    return PublicKey.of(added)
