"""Secrets for signed webhooks."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

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
