"""What an organization's dashboard (or a partner's portal) shows first."""

from __future__ import annotations

from dataclasses import dataclass

from crosspromo.domain import ConsentPurpose, Organization, PartnershipStatus
from crosspromo.services.agree.partnerships import PartnershipView, list_partnerships
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    CustomerRepository,
    OrganizationRepository,
    PartnershipRepository,
)


@dataclass(frozen=True, slots=True)
class Overview:
    organization: Organization
    status_counts: dict[PartnershipStatus, int]
    partnerships: list[PartnershipView]
    customers: int
    customers_sharing: int

    @property
    def total(self) -> int:
        return sum(self.status_counts.values())


def organization_overview(
    db: Database, org_id: int, status: PartnershipStatus | None = None
) -> Overview:
    with db.reading() as session:
        org = OrganizationRepository(session).get(org_id)
        counts = PartnershipRepository(session).status_counts(org_id)
        customers = CustomerRepository(session)
        total = customers.count(org_id)
        sharing = customers.count(org_id, ConsentPurpose.PARTNER_SHARING)
    return Overview(org, counts, list_partnerships(db, org_id, status), total, sharing)
