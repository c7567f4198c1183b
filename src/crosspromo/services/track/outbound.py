"""Outbound webhooks: organizations subscribe URLs to events; events are written to an outbox
in the same transaction as the change they announce, and a dispatcher delivers them signed,
retrying with exponential backoff. Deliveries are logged and can be replayed."""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx2 as httpx
from pydantic import Field
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from crosspromo import __version__
from crosspromo.domain.conversions import Conversion, ConversionKind
from crosspromo.domain.webhooks import (
    EVENTS,
    MAX_ATTEMPTS,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    retry_delay,
)
from crosspromo.errors import InvalidInputError
from crosspromo.keyring import seal, unseal
from crosspromo.services.track.inbound import new_secret
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    OrganizationRepository,
    WebhookDeliveryRepository,
    WebhookEndpointRepository,
)

log = logging.getLogger("crosspromo.webhooks")
LEASE = timedelta(minutes=2)
TIMEOUT = 10.0


def check_endpoint_url(url: str, production: bool) -> str:
    """http(s) only; in production https only and never a private or loopback address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"webhook URL {url!r} must be an http(s) URL", field="url")
    if production:
        if parts.scheme != "https":
            raise InvalidInputError("webhook URLs must use https", field="url")
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            address = None
        if parts.hostname == "localhost" or (address is not None and not address.is_global):
            raise InvalidInputError("webhook URLs must not point at private addresses", field="url")
    return url


@dataclass(frozen=True, slots=True)
class EndpointView:
    """An endpoint as its organization sees it; the secret only in the answer that made it."""

    id: int
    url: str
    events: list[str]
    created_at: datetime
    secret: Annotated[str | None, Field(description="shown once, when created")] = None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, secret: str | None = None) -> EndpointView:
        return cls(endpoint.id, endpoint.url, list(endpoint.events), endpoint.created_at, secret)


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One delivery of an event to an endpoint, and how its attempts went."""

    id: int
    endpoint_id: int
    event_type: str
    message_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryView:
        return cls(
            d.id, d.endpoint_id, d.event_type, d.message_id, d.status, d.attempts,
            d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at,
        )  # fmt: skip


def add_endpoint(db: Database, org_id: int, url: str, events: Sequence[str]) -> EndpointView:
    """Subscribe ``url`` to ``events``; the answer carries the signing secret, once."""
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise InvalidInputError(
            f"events must be some of {', '.join(EVENTS)}"
            + (f"; unknown: {unknown}" if unknown else ""),
            field="events",
        )
    check_endpoint_url(url, db.settings.environment == "production")
    secret = new_secret()
    with db.transaction() as session:
        endpoint = WebhookEndpointRepository(session).add(
            org_id, url, sorted(set(events)), seal(db.settings, secret)
        )
    return EndpointView.of(endpoint, secret)


def list_endpoints(db: Database, org_id: int) -> list[EndpointView]:
    with db.transaction() as session:
        return [EndpointView.of(e) for e in WebhookEndpointRepository(session).for_org(org_id)]


def remove_endpoint(db: Database, org_id: int, endpoint_id: int) -> None:
    with db.transaction() as session:
        WebhookEndpointRepository(session).remove(org_id, endpoint_id)


def list_deliveries(db: Database, org_id: int, limit: int = 100) -> list[DeliveryView]:
    with db.transaction() as session:
        return [
            DeliveryView.of(d) for d in WebhookDeliveryRepository(session).for_org(org_id, limit)
        ]


def replay_delivery(db: Database, org_id: int, delivery_id: int) -> DeliveryView:
    """Send a delivery again (same message id, so receivers can tell it is the same event)."""
    with db.transaction() as session:
        deliveries = WebhookDeliveryRepository(session)
        deliveries.get(delivery_id, org_id)
        deliveries.settle(
            delivery_id,
            {"status": DeliveryStatus.PENDING.value, "next_attempt_at": datetime.now(UTC)},
        )
        return DeliveryView.of(deliveries.get(delivery_id, org_id))


def has_endpoints(session: Session, org_id: int) -> bool:
    """Whether the organization has any webhook endpoint to write events for."""
    return bool(WebhookEndpointRepository(session).for_org(org_id))


def enqueue_conversions(session: Session, org_id: int, conversions: Sequence[Conversion]) -> None:
    """Write conversion events to the outbox, inside the caller's transaction."""
    endpoints = WebhookEndpointRepository(session).for_org(org_id)
    if not endpoints:
        return
    partners = OrganizationRepository(session).many(
        c.partner_org_id for c in conversions if c.partner_org_id
    )
    deliveries = WebhookDeliveryRepository(session)
    for conversion in conversions:
        event = (
            "conversion.refunded"
            if conversion.kind is ConversionKind.REFUND
            else "conversion.created"
        )
        partner = partners.get(conversion.partner_org_id) if conversion.partner_org_id else None
        payload = {
            "type": event,
            "timestamp": conversion.recorded_at.isoformat(),
            "data": {
                "id": conversion.id,
                "type": str(conversion.kind),
                "partner": partner.slug if partner else None,
                "click_id": conversion.click_id,
                "order_id": conversion.order_id,
                "amount_minor": conversion.amount_minor,
                "currency": conversion.currency,
                "occurred_at": conversion.occurred_at.isoformat(),
            },
        }
        for endpoint in endpoints:
            if event in endpoint.events:
                message_id = f"msg_{secrets.token_hex(12)}"
                deliveries.enqueue(endpoint, event, message_id, payload)


class Dispatcher:
    """Delivers due outbox entries. Several dispatchers (processes, servers) may run at once:
    each delivery is leased before it is sent."""

    def __init__(self, db: Database, client: httpx.Client | None = None) -> None:
        self.db = db
        self.client = client or httpx.Client(
            timeout=TIMEOUT,
            follow_redirects=False,
            headers={"user-agent": f"crosspromo/{__version__}"},
        )

    def run_once(self, now: datetime | None = None, limit: int = 100) -> int:
        """Attempt every due delivery once; returns how many were attempted."""
        now = now or datetime.now(UTC)
        with self.db.transaction() as session:
            due = WebhookDeliveryRepository(session).due_ids(now, limit)
        attempted = 0
        for delivery_id in due:
            with self.db.transaction() as session:
                repo = WebhookDeliveryRepository(session)
                delivery = repo.claim(delivery_id, now, LEASE)
                if delivery is None:
                    continue
                secret, url, active = WebhookEndpointRepository(session).secret_and_url(
                    delivery.endpoint_id
                )
            secret, _ = unseal(self.db.settings, secret)
            outcome = self._send(delivery, secret, url) if active else (None, "endpoint removed")
            self._settle(delivery, outcome, now)
            attempted += 1
        return attempted

    def _send(
        self, delivery: WebhookDelivery, secret: str, url: str
    ) -> tuple[int | None, str | None]:
        body = json.dumps(delivery.payload, separators=(",", ":"))
        sent_at = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(secret).sign(delivery.message_id, sent_at, body),
        }
        try:
            response = self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"

    def _settle(
        self, delivery: WebhookDelivery, outcome: tuple[int | None, str | None], now: datetime
    ) -> None:
        status, error = outcome
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error}
        if error is None:
            values |= {"status": DeliveryStatus.DELIVERED.value, "delivered_at": datetime.now(UTC)}
        elif attempts >= MAX_ATTEMPTS:
            values["status"] = DeliveryStatus.FAILED.value
            log.warning("webhook %s failed for good: %s", delivery.message_id, error)
        else:
            values["next_attempt_at"] = now + retry_delay(attempts)
        with self.db.transaction() as session:
            WebhookDeliveryRepository(session).settle(delivery.id, values)


class DispatcherThread:
    """Runs a Dispatcher every ``interval`` seconds inside the server process."""

    def __init__(self, db: Database, interval: float) -> None:
        self.dispatcher = Dispatcher(db)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.dispatcher.run_once()
            except Exception:
                log.exception("webhook dispatch failed; retrying")
