"""Conversions and partner codes (REST API v1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from crosspromo.domain.conversions import Conversion
from crosspromo.services.accounts.organizations import organization_slugs
from crosspromo.services.track import conversions as service
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import (
    PROBLEM_RESPONSES,
    CodeIn,
    CodeList,
    CodeOut,
    ConversionBatchIn,
    ConversionIn,
    ConversionList,
    ConversionOut,
    CustomerId,
)

router = APIRouter(prefix="/api/v1", tags=["conversions"], responses=PROBLEM_RESPONSES)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="the same key and body replays the first answer; another body is a 409",
    ),
]


def _out(db: DB, items: list[Conversion]) -> list[ConversionOut]:
    slugs = organization_slugs(db, {c.partner_org_id for c in items if c.partner_org_id})
    return [
        ConversionOut(
            id=c.id,
            type=c.kind,
            partner=slugs.get(c.partner_org_id) if c.partner_org_id else None,
            click_id=c.click_id,
            order_id=c.order_id,
            amount_minor=c.amount_minor,
            currency=c.currency,
            occurred_at=c.occurred_at,
            recorded_at=c.recorded_at,
        )
        for c in items
    ]


@router.post("/conversions", response_model=ConversionOut, status_code=201)
def record_conversion(
    body: ConversionIn, org: ApiOrg, db: DB, response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ConversionOut:  # fmt: skip
    """Record one lead, sale or refund, tied to a partner by click id or code."""
    recorded = service.record_conversions(
        db, org.id, [body.to_input()], idempotency_key=idempotency_key,
        fingerprint=service.request_fingerprint(body.model_dump(mode="json")),
    )  # fmt: skip
    if recorded.replayed:
        response.headers["Idempotency-Replayed"] = "true"
    return _out(db, recorded.conversions)[0]


@router.post("/conversions/batch", response_model=ConversionList, status_code=201)
def record_batch(
    body: ConversionBatchIn, org: ApiOrg, db: DB, response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ConversionList:  # fmt: skip
    """All rows are stored or none; an error names the row and the field."""
    recorded = service.record_conversions(
        db, org.id, [c.to_input() for c in body.conversions],
        idempotency_key=idempotency_key,
        fingerprint=service.request_fingerprint(body.model_dump(mode="json")),
    )  # fmt: skip
    if recorded.replayed:
        response.headers["Idempotency-Replayed"] = "true"
    return conversion_list(db, recorded.conversions)


def conversion_list(db: DB, items: list[Conversion]) -> ConversionList:
    out = _out(db, items)
    return ConversionList(items=out, count=len(out))


@router.get("/conversions/{conversion_id}", response_model=ConversionOut)
def get_conversion(conversion_id: CustomerId, org: ApiOrg, db: DB) -> ConversionOut:
    return _out(db, [service.get_conversion(db, org.id, conversion_id)])[0]


@router.post("/codes", response_model=CodeOut, status_code=201)
def create_code(body: CodeIn, org: ApiOrg, db: DB) -> CodeOut:
    """A referral or coupon code that credits conversions to a partner."""
    code, partner = service.create_code(db, org.id, body.partner, body.code, body.kind)
    return CodeOut(
        code=code.code,
        kind=code.kind,
        partner=partner,
        active=code.active,
        created_at=code.created_at,
    )


@router.get("/codes", response_model=CodeList)
def list_codes(org: ApiOrg, db: DB) -> CodeList:
    items = [
        CodeOut(code=c.code, kind=c.kind, partner=p, active=c.active, created_at=c.created_at)
        for c, p in service.list_codes(db, org.id)
    ]
    return CodeList(items=items, count=len(items))
