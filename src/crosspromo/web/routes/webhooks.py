"""Signed webhooks: inbound conversions from shops and payment systems, and their secret."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from crosspromo.errors import InvalidInputError, MalformedBodyError
from crosspromo.services import conversions, webhooks
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.routes.conversions import conversion_list
from crosspromo.web.schemas import (
    PROBLEM_RESPONSES,
    ConversionBatchIn,
    ConversionIn,
    ConversionList,
)

router = APIRouter(tags=["webhooks"], responses=PROBLEM_RESPONSES)
_PAYLOAD: TypeAdapter[ConversionBatchIn | ConversionIn] = TypeAdapter(
    ConversionBatchIn | ConversionIn
)
_BODY_DOC: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"$ref": "#/components/schemas/ConversionIn"},
                    {"$ref": "#/components/schemas/ConversionBatchIn"},
                ]
            }
        }
    },
}


class InboundSecretOut(BaseModel):
    secret: str
    endpoint: str


@router.post(
    "/webhooks/inbound/{org_slug}",
    response_model=ConversionList,
    status_code=201,
    openapi_extra={"requestBody": _BODY_DOC},
)
async def inbound_conversions(
    org_slug: str, request: Request, db: DB, response: Response
) -> ConversionList:
    """Conversions pushed by a shop or payment system, signed with the organization's inbound
    secret (Standard Webhooks headers). Unsigned, stale or wrong: 401 and nothing stored; a
    redelivery with the same ``webhook-id`` stores nothing new."""
    body = await request.body()
    message = await run_in_threadpool(
        webhooks.verify_inbound, db, org_slug, body, dict(request.headers)
    )
    try:
        payload = _PAYLOAD.validate_json(body)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise MalformedBodyError("the webhook body is not valid JSON") from None
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"invalid webhook body: {where}: {first['msg']}") from None
    items = payload.conversions if isinstance(payload, ConversionBatchIn) else [payload]
    recorded = await run_in_threadpool(
        lambda: conversions.record_conversions(
            db,
            message.org_id,
            [i.to_input() for i in items],
            idempotency_key=f"webhook:{message.message_id}",
            fingerprint=conversions.request_fingerprint(body.decode("utf-8", "replace")),
        )
    )
    if recorded.replayed:
        response.headers["Idempotency-Replayed"] = "true"
    return await run_in_threadpool(conversion_list, db, recorded.conversions)


@router.post("/api/v1/webhooks/inbound-secret", response_model=InboundSecretOut, status_code=201)
def rotate_inbound_secret(request: Request, org: ApiOrg, db: DB) -> InboundSecretOut:
    """A new secret for signing inbound webhooks (shown once; the old one stops working)."""
    secret = webhooks.rotate_inbound_secret(db, org.id)
    endpoint = f"{db.settings.public_url.rstrip('/')}/webhooks/inbound/{org.slug}"
    return InboundSecretOut(secret=secret, endpoint=endpoint)
