"""Customers of one organization, by keyed id hash, with consent flags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from crosspromo.domain import (
    ConsentPurpose,
    Customer,
)
from crosspromo.errors import ConflictError, NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


class CustomerRepository(Repository):
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
        created = False
        if self._row(org_id, id_hash) is None:
            try:
                self._insert(
                    t.customers,
                    {
                        "org_id": org_id,
                        "external_id_hash": id_hash,
                        "created_at": utcnow(),
                        **values,
                    },
                    "",
                )
                created = True
            except ConflictError:
                pass  # created by a concurrent request since we looked: update it instead
        if not created:
            self.session.execute(
                update(t.customers)
                .where(t.customers.c.org_id == org_id, t.customers.c.external_id_hash == id_hash)
                .values(**values)
            )
        row = self._row(org_id, id_hash)
        assert row is not None
        return _customer(row), created

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

    def sharing_segments(self, org_id: int, id_hashes: Sequence[str]) -> dict[str, str | None]:
        """The segment of each customer among ``id_hashes`` who consents to partner sharing
        (customers without that consent, and unknown ids, are left out)."""
        c = t.customers.c
        found: dict[str, str | None] = {}
        for start in range(0, len(id_hashes), 5_000):
            rows = self.session.execute(
                select(c.external_id_hash, c.segment).where(
                    c.org_id == org_id,
                    c.consent_partner_sharing.is_(True),
                    c.external_id_hash.in_(id_hashes[start : start + 5_000]),
                )
            )
            found.update({r[0]: r[1] for r in rows})
        return found

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


def _customer(row: Row[Any]) -> Customer:
    consents = {
        purpose for purpose in ConsentPurpose if bool(getattr(row, f"consent_{purpose.value}"))
    }
    return Customer(
        row.id, row.org_id, row.external_id_hash, frozenset(consents), row.segment, row.created_at
    )
