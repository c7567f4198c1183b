"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from crosspromo.domain import ConsentPurpose, Customer, Organization, PartnershipStatus
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.domain.money import MAX_MINOR
from crosspromo.services.agree.partnerships import PartnershipView
from crosspromo.services.track.conversions import MAX_LENGTHS, ConversionInput
from crosspromo.services.track.links import IssuedLink

# Ids as the database stores them: 32-bit for partnerships, 64-bit for customers and events.
PartnershipId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CustomerId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (served as application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="stable error code; see the README's table")
    instance: str
    errors: list[FieldProblem] | None = Field(default=None, description="each invalid field")


def problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: problem_response("the body is not valid JSON"),
    401: problem_response("missing, malformed, wrong or revoked API key"),
    404: problem_response("no such resource for this organization"),
    409: problem_response("conflicts with the current state"),
    413: problem_response("the body is over the size limit"),
    422: problem_response("a field is invalid; `errors` names each"),
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """Text may not carry NUL or other control characters (PostgreSQL refuses NUL)."""
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and any(ord(c) < 32 and c not in "\t\n" for c in text):
                raise ValueError("must not contain control characters")
        return value


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


LinkCode = Annotated[str, Path(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class DomainIn(_Body):
    domain: str = Field(min_length=1, max_length=253, examples=["shop.example.com"])


class DomainOut(BaseModel):
    domain: str
    added: bool = Field(description="false when the domain was allowed already")


class DomainList(BaseModel):
    domains: list[str]


class LinkIn(_Body):
    partner: str = Field(min_length=1, max_length=64, description="slug of the partner sharing it")
    destination: str = Field(min_length=1, max_length=2000)
    campaign: str = Field(default="", max_length=200)
    slug: str | None = Field(default=None, description="custom code instead of a random one")
    medium: str = Field(default="partner", min_length=1, max_length=100)
    content: str = Field(default="", max_length=200)


class LinkOut(BaseModel):
    code: str
    short_url: str
    destination: str = Field(description="the allow-listed URL with UTM tags added")
    partner: str
    campaign: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, issued: IssuedLink) -> LinkOut:
        link = issued.link
        return cls(
            code=link.code,
            short_url=issued.short_url,
            destination=link.destination,
            partner=issued.partner_slug,
            campaign=link.campaign,
            active=link.active,
            created_at=link.created_at,
        )


class LinkList(BaseModel):
    items: list[LinkOut]
    count: int


class ConversionIn(_Body):
    type: ConversionKind = Field(
        description="lead, sale or refund (a refund names its sale's order_id)"
    )
    occurred_at: AwareDatetime
    amount_minor: int = Field(default=0, ge=0, le=MAX_MINOR, description="integer minor units")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217")
    customer_external_id: str | None = Field(
        default=None, max_length=MAX_LENGTHS["customer_external_id"]
    )
    click_id: str | None = Field(default=None, max_length=32, description="the cp_click value")
    referral_code: str | None = Field(default=None, max_length=64)
    coupon_code: str | None = Field(default=None, max_length=64)
    order_id: str | None = Field(default=None, max_length=MAX_LENGTHS["order_id"])

    def to_input(self) -> ConversionInput:
        return ConversionInput(
            kind=self.type,
            occurred_at=self.occurred_at,
            amount_minor=self.amount_minor,
            currency=self.currency,
            customer_external_id=self.customer_external_id,
            click_id=self.click_id,
            referral_code=self.referral_code,
            coupon_code=self.coupon_code,
            order_id=self.order_id,
        )


class ConversionBatchIn(_Body):
    conversions: list[ConversionIn] = Field(min_length=1, max_length=10_000)


class ConversionOut(BaseModel):
    id: int
    type: ConversionKind
    partner: str | None = Field(description="slug of the partner credited, if any")
    click_id: str | None
    order_id: str | None
    amount_minor: int
    currency: str | None
    occurred_at: datetime
    recorded_at: datetime


class ConversionList(BaseModel):
    items: list[ConversionOut]
    count: int


class CodeIn(_Body):
    partner: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]+$")
    kind: CodeKind = CodeKind.REFERRAL


class CodeOut(BaseModel):
    code: str
    kind: CodeKind
    partner: str
    active: bool
    created_at: datetime


class CodeList(BaseModel):
    items: list[CodeOut]
    count: int


class LinkStatsOut(BaseModel):
    clicks: int = Field(description="human clicks (bots are stored but not counted)")
    unique_clicks: int = Field(description="one per visitor per hour")
    bot_clicks: int
    leads: int
    sales: int
    revenue_minor: int = Field(description="sales less refunds, when in a single currency")
    currency: str | None
    revenue_by_currency: dict[str, int]
