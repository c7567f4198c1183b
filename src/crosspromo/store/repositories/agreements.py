"""Partnership records (their signed entries) and the organizations' signing keys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update

from crosspromo.domain.record import Entry, canonical
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


class RecordRepository(Repository):
    """Each partnership's record: entries are only ever added, at the next place (the database
    refuses a second entry at the same place, and any change or removal)."""

    def entries(self, partnership_id: int) -> list[Entry]:
        c = t.record_entries.c
        rows = self.session.execute(
            select(c.document).where(c.partnership_id == partnership_id).order_by(c.idx)
        )
        return [Entry(**json.loads(r[0])) for r in rows]

    def append(self, partnership_id: int, entry: Entry, signer_org_id: int) -> None:
        values = {
            "partnership_id": partnership_id,
            "idx": entry.index,
            "kind": entry.kind,
            "signer_org_id": signer_org_id,
            "hash": entry.hash,
            "document": canonical(entry.document()).decode(),
            "created_at": utcnow(),
        }
        moved = "the record moved on while this entry was made: load it and try again"
        self._insert(t.record_entries, values, moved)

    def with_records(self, partnership_ids: list[int]) -> set[int]:
        """Those of ``partnership_ids`` that have a record."""
        c = t.record_entries.c
        rows = self.session.execute(
            select(c.partnership_id).where(c.partnership_id.in_(partnership_ids), c.idx == 0)
        )
        return {int(r[0]) for r in rows}
