"""Inbound webhooks: signed (Standard Webhooks), fresh, and replay-safe; otherwise refused
with nothing stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from crosspromo.store import tables as t
from tests.web.conftest import World

SALE = {"type": "sale", "occurred_at": "2026-02-01T10:00:00Z", "amount_minor": 700,
        "currency": "EUR", "referral_code": "BEANS10", "order_id": "W-1"}  # fmt: skip


def _secret(world: World, org: str = "acme") -> str:
    r = world.client.post("/api/v1/webhooks/inbound-secret", headers=world.auth(org))
    assert r.status_code == 201
    assert r.json()["endpoint"].endswith(f"/webhooks/inbound/{org}")
    return str(r.json()["secret"])


def _signed(secret: str, body: str, message_id: str = "msg_1", age: float = 0) -> dict[str, str]:
    when = datetime.now(UTC) - timedelta(seconds=age)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, when, body),
        "content-type": "application/json",
    }


def _stored(world: World) -> int:
    db = world.client.app.state.db  # type: ignore[attr-defined]
    with db.transaction() as s:
        return int(s.execute(select(func.count()).select_from(t.conversions)).scalar_one())


def test_signed_webhook_is_stored_once(world: World) -> None:
    secret = _secret(world)
    body = json.dumps(SALE)
    before = _stored(world)
    first = world.client.post("/webhooks/inbound/acme", content=body, headers=_signed(secret, body))
    assert first.status_code == 201, first.text
    assert first.json()["items"][0]["partner"] == "beans"
    again = world.client.post("/webhooks/inbound/acme", content=body, headers=_signed(secret, body))
    assert again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    batch = json.dumps({"conversions": [SALE | {"order_id": "W-2"}, SALE | {"order_id": "W-3"}]})
    r = world.client.post(
        "/webhooks/inbound/acme", content=batch, headers=_signed(secret, batch, "msg_2")
    )
    assert r.json()["count"] == 2
    assert _stored(world) == before + 3


def test_bad_signatures_store_nothing(world: World) -> None:
    secret = _secret(world)
    other_secret = _secret(world, "other")
    body = json.dumps(SALE)
    good = _signed(secret, body)
    cases = {
        "unsigned": {"content-type": "application/json"},
        "stale": _signed(secret, body, age=6 * 60),
        "future": _signed(secret, body, age=-6 * 60),
        "wrong secret": _signed(other_secret, body),
        "tampered body": good,
        "garbage signature": good | {"webhook-signature": "garbage"},
        "bad timestamp": good | {"webhook-timestamp": "yesterday"},
    }
    before = _stored(world)
    for name, headers in cases.items():
        sent = body.replace("700", "7000") if name == "tampered body" else body
        r = world.client.post("/webhooks/inbound/acme", content=sent, headers=headers)
        assert r.status_code == 401, name
        assert r.json()["code"] == "unauthenticated", name
    unknown = world.client.post("/webhooks/inbound/nobody", content=body, headers=good)
    assert unknown.status_code == 401
    assert _stored(world) == before


def test_rotation_retires_the_old_secret(world: World) -> None:
    old = _secret(world)
    _secret(world)
    body = json.dumps(SALE)
    r = world.client.post("/webhooks/inbound/acme", content=body, headers=_signed(old, body))
    assert r.status_code == 401


def test_signed_but_invalid_body(world: World) -> None:
    secret = _secret(world)
    for body, status in [("{not json", 400), (json.dumps({"type": "gift"}), 422)]:
        r = world.client.post(
            "/webhooks/inbound/acme", content=body, headers=_signed(secret, body, f"m{status}")
        )
        assert r.status_code == status, r.text
