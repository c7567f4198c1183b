"""Customers of an organization: the external id is hashed with a per-organization key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from crosspromo.domain import ConsentPurpose, Customer
from crosspromo.domain.choices import one_of
from crosspromo.errors import InvalidInputError
from crosspromo.security import customer_id_hash
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.store.database import Database
from crosspromo.store.repositories import CustomerRepository


@dataclass(frozen=True, slots=True)
class CustomerView:
    """A customer as its organization sees it: never the raw external id, nor its hash."""

    id: int
    consents: list[ConsentPurpose]
    segment: str | None
    created_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerView:
        return cls(customer.id, sorted(customer.consents), customer.segment, customer.created_at)


def parse_consents(values: Iterable[str]) -> frozenset[ConsentPurpose]:
    return frozenset(one_of(ConsentPurpose, v, "consent purpose", "consents") for v in values)


def record_customer(
    db: Database,
    org_id: int,
    external_id: str,
    consents: frozenset[ConsentPurpose],
    segment: str | None = None,
) -> tuple[CustomerView, bool]:
    """Create or update a customer; returns (customer, created). The raw id is not stored."""
    if not external_id.strip():
        raise InvalidInputError("external_id must not be empty", field="external_id")
    id_hash = customer_id_hash(identity_secret(db), org_id, external_id)
    with db.transaction() as session:
        customer, created = CustomerRepository(session).upsert(org_id, id_hash, consents, segment)
    return CustomerView.of(customer), created


def get_customer(db: Database, org_id: int, customer_id: int) -> CustomerView:
    with db.transaction() as session:
        return CustomerView.of(CustomerRepository(session).get(org_id, customer_id))
