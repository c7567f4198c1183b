"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crosspromo.domain import ConsentPurpose, Customer, Organization, PartnershipStatus
from crosspromo.services.partnerships import PartnershipView


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganizationOut(BaseModel):
    slug: str
    name: str
    kind: str
    category: str

    @classmethod
    def of(cls, org: Organization) -> OrganizationOut:
        return cls(slug=org.slug, name=org.name, kind=str(org.kind), category=org.category)


class PartnershipOut(BaseModel):
    id: int
    name: str
    status: PartnershipStatus
    role: str = Field(description="which side the caller is on: initiator or partner")
    partner: OrganizationOut = Field(description="the other organization")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: PartnershipView) -> PartnershipOut:
        p = view.partnership
        return cls(
            id=p.id,
            name=p.name,
            status=p.status,
            role=view.role,
            partner=OrganizationOut.of(view.counterpart),
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


class PartnershipList(BaseModel):
    items: list[PartnershipOut]
    count: int


class PartnershipCreate(_Body):
    partner: str = Field(min_length=1, max_length=64, description="slug of the other organization")
    name: str = Field(min_length=1, max_length=200)


class StatusChange(_Body):
    status: PartnershipStatus


class CustomerIn(_Body):
    external_id: str = Field(
        min_length=1, max_length=320, description="stored only as a keyed hash"
    )
    consents: list[ConsentPurpose] = Field(default_factory=list)
    segment: str | None = Field(default=None, max_length=64)


class CustomerOut(BaseModel):
    id: int
    consents: list[ConsentPurpose]
    segment: str | None
    created_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerOut:
        return cls(
            id=customer.id,
            consents=sorted(customer.consents),
            segment=customer.segment,
            created_at=customer.created_at,
        )
