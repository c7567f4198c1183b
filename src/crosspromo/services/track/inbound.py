"""Signed webhooks (the Standard Webhooks scheme: HMAC-SHA256 over ``id.timestamp.body``,
headers ``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64>``, 5 minutes
of tolerance). Inbound ones carry conversions from shops and payment systems."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from standardwebhooks.webhooks import Webhook

from crosspromo.errors import AuthenticationError
from crosspromo.keyring import seal, unseal
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, WebhookSecretRepository

_REFUSED = "webhook signature missing, stale or wrong"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    org_id: int
    message_id: str


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def inbound_endpoint(db: Database, org_slug: str) -> str:
    """Where a shop posts an organization's signed conversions."""
    return f"{db.settings.public_url.rstrip('/')}/webhooks/inbound/{org_slug}"


@dataclass(frozen=True, slots=True)
class InboundSecret:
    """A new inbound signing secret (shown once) and where to post signed conversions."""

    secret: str
    endpoint: str


def rotate_inbound_secret(db: Database, org_id: int) -> InboundSecret:
    """A new inbound signing secret; the old one stops working."""
    secret = new_secret()
    with db.transaction() as session:
        WebhookSecretRepository(session).replace(org_id, seal(db.settings, secret))
        slug = OrganizationRepository(session).get(org_id).slug
    return InboundSecret(secret, inbound_endpoint(db, slug))


def verify_inbound(
    db: Database, org_slug: str, body: bytes, headers: dict[str, Any]
) -> InboundMessage:
    """Check an inbound webhook's signature and age; AuthenticationError (one message for
    every failure, unknown organization included) when it does not hold."""
    with db.transaction() as session:
        org = OrganizationRepository(session).find_slug(org_slug)
        sealed = None if org is None else WebhookSecretRepository(session).get(org.id)
    if org is None or sealed is None:
        raise AuthenticationError(_REFUSED)
    secret, _ = unseal(db.settings, sealed)
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    try:
        Webhook(secret).verify(body, lowered, json_parse=False)
    except Exception:
        raise AuthenticationError(_REFUSED) from None
    return InboundMessage(org.id, lowered["webhook-id"])
