"""Secrets for signed webhooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, insert, select, update

from crosspromo.domain.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


class WebhookSecretRepository(Repository):
    def replace(self, org_id: int, secret: str) -> None:
        """Set the organization's inbound secret; the previous one stops working at once."""
        self.session.execute(delete(t.webhook_secrets).where(t.webhook_secrets.c.org_id == org_id))
        self.session.execute(
            insert(t.webhook_secrets).values(org_id=org_id, secret=secret, created_at=utcnow())
        )

    def get(self, org_id: int) -> str | None:
        row = self.session.execute(
            select(t.webhook_secrets.c.secret).where(t.webhook_secrets.c.org_id == org_id)
        ).first()
        return None if row is None else str(row[0])


class WebhookEndpointRepository(Repository):
    def add(self, org_id: int, url: str, events: list[str], secret: str) -> WebhookEndpoint:
        now = utcnow()
        values = {
            "org_id": org_id,
            "url": url,
            "events": events,
            "secret": secret,
            "active": True,
            "created_at": now,
        }
        endpoint_id = self._insert(t.webhook_endpoints, values, "endpoint conflicts")
        return WebhookEndpoint(endpoint_id, org_id, url, tuple(events), True, now)

    def for_org(self, org_id: int, event: str | None = None) -> list[WebhookEndpoint]:
        c = t.webhook_endpoints.c
        rows = self.session.execute(
            select(t.webhook_endpoints).where(c.org_id == org_id, c.active.is_(True)).order_by(c.id)
        )
        endpoints = [_endpoint(r) for r in rows]
        return [e for e in endpoints if event is None or event in e.events]

    def remove(self, org_id: int, endpoint_id: int) -> None:
        c = t.webhook_endpoints.c
        result = self.session.execute(
            update(t.webhook_endpoints)
            .where(c.org_id == org_id, c.id == endpoint_id, c.active.is_(True))
            .values(active=False)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError(f"no webhook endpoint with id {endpoint_id}")

    def secret_and_url(self, endpoint_id: int) -> tuple[str, str, bool]:
        c = t.webhook_endpoints.c
        row = self.session.execute(
            select(c.secret, c.url, c.active).where(c.id == endpoint_id)
        ).one()
        return str(row[0]), str(row[1]), bool(row[2])


class WebhookDeliveryRepository(Repository):
    def enqueue(
        self, endpoint: WebhookEndpoint, event_type: str, message_id: str, payload: dict[str, Any]
    ) -> None:
        now = utcnow()
        self.session.execute(
            insert(t.webhook_deliveries).values(
                endpoint_id=endpoint.id,
                org_id=endpoint.org_id,
                event_type=event_type,
                message_id=message_id,
                payload=payload,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    def due(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(delivery id, endpoint id) of the deliveries due at ``now``, the oldest first."""
        c = t.webhook_deliveries.c
        rows = self.session.execute(
            select(c.id, c.endpoint_id)
            .where(
                c.status == DeliveryStatus.PENDING.value,
                c.next_attempt_at <= now,
                (c.leased_until.is_(None)) | (c.leased_until < now),
            )
            .order_by(c.next_attempt_at, c.id)
            .limit(limit)
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    def claim(self, delivery_id: int, now: datetime, lease: timedelta) -> WebhookDelivery | None:
        """Lease one due delivery for this worker; None when another worker has it."""
        c = t.webhook_deliveries.c
        result = self.session.execute(
            update(t.webhook_deliveries)
            .where(
                c.id == delivery_id,
                c.status == DeliveryStatus.PENDING.value,
                (c.leased_until.is_(None)) | (c.leased_until < now),
            )
            .values(leased_until=now + lease)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return self.get(delivery_id)

    def get(self, delivery_id: int, org_id: int | None = None) -> WebhookDelivery:
        c = t.webhook_deliveries.c
        query = select(t.webhook_deliveries).where(c.id == delivery_id)
        if org_id is not None:
            query = query.where(c.org_id == org_id)
        row = self.session.execute(query).first()
        if row is None:
            raise NotFoundError(f"no webhook delivery with id {delivery_id}")
        return _delivery(row)

    def settle(self, delivery_id: int, values: dict[str, Any]) -> None:
        self.session.execute(
            update(t.webhook_deliveries)
            .where(t.webhook_deliveries.c.id == delivery_id)
            .values(leased_until=None, **values)
        )

    def for_org(self, org_id: int, limit: int = 100) -> list[WebhookDelivery]:
        c = t.webhook_deliveries.c
        rows = self.session.execute(
            select(t.webhook_deliveries)
            .where(c.org_id == org_id)
            .order_by(c.id.desc())
            .limit(limit)
        )
        return [_delivery(r) for r in rows]


def _endpoint(row: Row[Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        row.id, row.org_id, row.url, tuple(row.events), bool(row.active), row.created_at
    )


def _delivery(row: Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        org_id=row.org_id,
        event_type=row.event_type,
        message_id=row.message_id,
        payload=dict(row.payload),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )
