"""Signed webhooks: inbound conversions from shops and payment systems, and their secret."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from crosspromo.domain.webhooks import WebhookDelivery, WebhookEndpoint
from crosspromo.errors import InvalidInputError, MalformedBodyError
from crosspromo.services.track import conversions
from crosspromo.services.track import inbound as webhooks
from crosspromo.services.track import outbound as outbound_webhooks
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.routes.conversions import conversion_list
from crosspromo.web.schemas import (
    PROBLEM_RESPONSES,
    ConversionBatchIn,
    ConversionIn,
    ConversionList,
    CustomerId,
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
    return InboundSecretOut(secret=secret, endpoint=webhooks.inbound_endpoint(db, org.slug))


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=10, examples=[["conversion.created"]])


class EndpointOut(BaseModel):
    id: int
    url: str
    events: list[str]
    created_at: datetime
    secret: str | None = Field(default=None, description="shown once, when created")

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, secret: str | None = None) -> EndpointOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=list(endpoint.events),
            created_at=endpoint.created_at,
            secret=secret,
        )


class EndpointList(BaseModel):
    items: list[EndpointOut]


class DeliveryOut(BaseModel):
    id: int
    endpoint_id: int
    event_type: str
    message_id: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=d.id, endpoint_id=d.endpoint_id, event_type=d.event_type, message_id=d.message_id,
            status=str(d.status), attempts=d.attempts, next_attempt_at=d.next_attempt_at,
            last_status=d.last_status, last_error=d.last_error, created_at=d.created_at,
            delivered_at=d.delivered_at,
        )  # fmt: skip


class DeliveryList(BaseModel):
    items: list[DeliveryOut]


EndpointId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/api/v1/webhooks/endpoints", response_model=EndpointOut, status_code=201)
def add_endpoint(body: EndpointIn, org: ApiOrg, db: DB) -> EndpointOut:
    """Subscribe a URL to events (conversion.created, conversion.refunded); deliveries are
    signed with the returned secret (Standard Webhooks)."""
    endpoint, secret = outbound_webhooks.add_endpoint(db, org.id, body.url, body.events)
    return EndpointOut.of(endpoint, secret)


@router.get("/api/v1/webhooks/endpoints", response_model=EndpointList)
def list_endpoints(org: ApiOrg, db: DB) -> EndpointList:
    return EndpointList(
        items=[EndpointOut.of(e) for e in outbound_webhooks.list_endpoints(db, org.id)]
    )


@router.delete("/api/v1/webhooks/endpoints/{endpoint_id}", status_code=204)
def remove_endpoint(endpoint_id: EndpointId, org: ApiOrg, db: DB) -> Response:
    outbound_webhooks.remove_endpoint(db, org.id, endpoint_id)
    return Response(status_code=204)


@router.get("/api/v1/webhooks/deliveries", response_model=DeliveryList)
def list_deliveries(org: ApiOrg, db: DB) -> DeliveryList:
    """The delivery log, newest first."""
    return DeliveryList(
        items=[DeliveryOut.of(d) for d in outbound_webhooks.list_deliveries(db, org.id)]
    )


@router.post(
    "/api/v1/webhooks/deliveries/{delivery_id}/replay", response_model=DeliveryOut, status_code=202
)
def replay_delivery(delivery_id: CustomerId, org: ApiOrg, db: DB) -> DeliveryOut:
    """Queue a delivery again (same message id)."""
    return DeliveryOut.of(outbound_webhooks.replay_delivery(db, org.id, delivery_id))
