"""Secrets at rest: the key that makes customer identifiers into keyed hashes, and re-sealing
everything sealed when the secret key rotates.

Keyed hashes of customer identifiers, experiment exposures and overlap sessions' keys must
stay the same across a rotation of CROSSPROMO_SECRET_KEY (the identifiers themselves are
never stored, so nothing could be hashed again). Their key is therefore not the secret key
itself but the *identity key*: 32 random bytes made when a database first needs it, kept
sealed under the current secret key. A database that already holds hashes from before the
identity key existed keeps the secret key of that moment as its identity key, so those
hashes stay valid.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crosspromo.keyring import seal, unseal
from crosspromo.store import tables as t
from crosspromo.store.database import Database
from crosspromo.store.repositories import utcnow

IDENTITY = "identity"
_SEALED_COLUMNS = (  # (the row's key, the sealed value) of everything sealed
    (t.sealed_keys.c.name, t.sealed_keys.c.sealed),
    (t.webhook_secrets.c.org_id, t.webhook_secrets.c.secret),
    (t.webhook_endpoints.c.id, t.webhook_endpoints.c.secret),
    (t.signing_keys.c.id, t.signing_keys.c.private_key),  # null: held by its organization
)
_IDENTITY_KEY, _IDENTITY_VALUE = _SEALED_COLUMNS[0]


def identity_secret(db: Database, session: Session | None = None) -> str:
    """The key of the keyed hashes of customer identifiers (made once, kept sealed); read in
    ``session`` when the caller has a transaction open, else in one of its own."""
    cached = db.memo.get(IDENTITY)
    if isinstance(cached, str):
        return cached
    if session is None:
        with db.transaction() as own:
            return identity_secret(db, own)
    settings = db.settings
    sealed = _sealed_identity(session)
    if sealed is None:  # the first process to need it fixes it; the others read theirs
        earlier = _holds_hashes(session)
        fresh = settings.secret_key.get_secret_value() if earlier else secrets.token_urlsafe(32)
        insert = sqlite_insert if db.engine.dialect.name == "sqlite" else pg_insert
        session.execute(
            insert(t.sealed_keys)
            .values(name=IDENTITY, sealed=seal(settings, fresh), created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["name"])
        )
        sealed = _sealed_identity(session)
        assert sealed is not None
    value, stale = unseal(settings, sealed)
    if stale:
        _reseal(session, _IDENTITY_KEY, _IDENTITY_VALUE, IDENTITY, seal(settings, value))
    db.memo[IDENTITY] = value
    return value


def _sealed_identity(session: Session) -> str | None:
    found = session.execute(select(_IDENTITY_VALUE).where(_IDENTITY_KEY == IDENTITY))
    return found.scalar_one_or_none()


def _holds_hashes(session: Session) -> bool:
    """Whether keyed hashes were stored before there was an identity key."""
    hashed = (t.customers, t.exposures, t.touchpoints, t.overlap_sessions)
    if any(session.execute(select(table).limit(1)).first() for table in hashed):
        return True
    with_customer = select(t.conversions).where(t.conversions.c.customer_hash.is_not(None))
    return session.execute(with_customer.limit(1)).first() is not None


def reseal_all(db: Database) -> int:
    """Seal again under the current secret key every value sealed under an old key or stored
    before sealing existed; how many were. Safe to repeat and to run from several processes."""
    settings = db.settings
    changed = 0
    with db.transaction() as session:
        for key, column in _SEALED_COLUMNS:
            for row_key, value in session.execute(select(key, column)).all():
                if value is None:
                    continue
                plain, stale = unseal(settings, value)
                if stale:
                    _reseal(session, key, column, row_key, seal(settings, plain))
                    changed += 1
    return changed


def _reseal(
    session: Session, key: Column[Any], column: Column[Any], row_key: object, sealed: str
) -> None:
    session.execute(update(key.table).where(key == row_key).values({column.name: sealed}))
