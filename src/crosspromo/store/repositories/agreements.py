"""Signing keys of the organizations' partnership records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


@dataclass(frozen=True, slots=True)
class SigningKeyRow:
    id: int
    org_id: int
    public_key: str
    fingerprint: str
    private_key: str | None  # sealed; None when the organization holds it
    created_at: datetime
    retired_at: datetime | None


class SigningKeyRepository(Repository):
    def current(self, org_id: int) -> SigningKeyRow | None:
        """The organization's key in force (the newest not retired)."""
        k = t.signing_keys.c
        row = self.session.execute(
            select(t.signing_keys)
            .where(k.org_id == org_id, k.retired_at.is_(None))
            .order_by(k.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _key(row)

    def for_org(self, org_id: int) -> list[SigningKeyRow]:
        """Every key the organization has had, oldest first (retired ones still verify what
        they signed)."""
        k = t.signing_keys.c
        rows = self.session.execute(select(t.signing_keys).where(k.org_id == org_id).order_by(k.id))
        return [_key(r) for r in rows]

    def add(
        self, org_id: int, public_key: str, fingerprint: str, private_key: str | None
    ) -> SigningKeyRow:
        """A new key in force; the one before is retired."""
        now = utcnow()
        k = t.signing_keys.c
        self.session.execute(
            update(t.signing_keys)
            .where(k.org_id == org_id, k.retired_at.is_(None))
            .values(retired_at=now)
        )
        values = {"org_id": org_id, "public_key": public_key, "fingerprint": fingerprint,
                  "private_key": private_key, "created_at": now}  # fmt: skip
        new_id = self._insert(t.signing_keys, values, "this public key is already registered")
        return SigningKeyRow(new_id, org_id, public_key, fingerprint, private_key, now, None)


def _key(row: Row[Any]) -> SigningKeyRow:
    return SigningKeyRow(row.id, row.org_id, row.public_key, row.fingerprint, row.private_key,
                         row.created_at, row.retired_at)  # fmt: skip
