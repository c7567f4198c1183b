"""``POST /api/v1/conversions`` served ahead of the framework: its answers are the documented
route's, byte for byte where it records, and every request it does not take (no key, another
content type, a body the model refuses, a body past the limit) gets exactly what the route
itself answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crosspromo.services.accounts.keys import create_api_key, revoke_api_key
from crosspromo.services.admin.database import open_database
from crosspromo.web.app import create_app
from tests.web.conftest import World

SALE: dict[str, Any] = {
    "type": "sale",
    "occurred_at": "2026-02-01T10:00:00+01:00",
    "amount_minor": 4999,
    "currency": "EUR",
    "order_id": "A-1",
    "referral_code": "BEANS10",
}


@pytest.fixture
def route(world: World) -> Iterator[TestClient]:
    """The application alone: the declared route answers every request."""
    with TestClient(create_app(world.settings)) as client:
        yield client


def test_the_answer_is_the_routes(world: World) -> None:
    headers = world.auth("acme") | {"Idempotency-Key": "sale-1"}
    first = world.client.post("/api/v1/conversions", json=SALE, headers=headers)
    assert first.status_code == 201, first.text
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-content-type-options"] == "nosniff"
    assert "idempotency-replayed" not in first.headers
    shown = world.client.get(
        f"/api/v1/conversions/{first.json()['id']}", headers=world.auth("acme")
    )
    assert first.content == shown.content  # the same bytes as the route's serializer gives
    assert first.json()["partner"] == "beans"
    assert first.json()["occurred_at"] == "2026-02-01T09:00:00Z"

    again = world.client.post("/api/v1/conversions", json=SALE, headers=headers)
    assert (again.status_code, again.headers["idempotency-replayed"]) == (201, "true")
    assert again.content == first.content
    other = world.client.post("/api/v1/conversions", json=SALE | {"amount_minor": 1},
                              headers=headers)  # fmt: skip
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "conflict"


def _odd_requests(world: World) -> list[tuple[str, dict[str, str], bytes]]:
    """Requests the fast path hands on, or answers with an error of its own."""
    key = world.keys["acme"]
    auth = {"authorization": f"Bearer {key}"}
    as_json = {"content-type": "application/json"}
    body = json.dumps(SALE).encode()
    db = open_database(world.settings)
    revoked = create_api_key(db, "acme", "old")
    revoke_api_key(db, "acme", revoked.prefix)
    db.dispose()
    return [
        ("no key", as_json, body),
        ("basic", as_json | {"authorization": "Basic YWNtZTpwdw=="}, body),
        ("malformed key", as_json | {"authorization": "Bearer nope"}, body),
        ("revoked key", as_json | {"authorization": f"Bearer {revoked.key}"}, body),
        ("no key, bad body", as_json, b"{"),
        ("bad JSON", auth | as_json, b'{"type": "sale",'),
        ("not UTF-8", auth | as_json, b'{"type": "\xff"}'),
        ("missing fields", auth | as_json, b'{"type": "sale"}'),
        ("unknown field", auth | as_json, json.dumps(SALE | {"coupon": "X"}).encode()),
        ("control character", auth | as_json, json.dumps(SALE | {"order_id": "A\x00"}).encode()),
        ("text/plain", auth | {"content-type": "text/plain"}, body),
        ("no content type", auth, body),
        ("empty key", auth | as_json | {"idempotency-key": ""}, body),
        ("long key", auth | as_json | {"idempotency-key": "k" * 201}, body),
        ("unknown code", auth | as_json, json.dumps(SALE | {"referral_code": "NOPE"}).encode()),
        ("no currency", auth | as_json, json.dumps(SALE | {"currency": None}).encode()),
        ("too large", auth | as_json, b'{"order_id": "' + b"x" * 1_100_000 + b'"}'),
    ]


def test_what_it_does_not_take_is_answered_as_the_route_does(
    world: World, route: TestClient
) -> None:
    for name, headers, body in _odd_requests(world):
        fast = world.client.post("/api/v1/conversions", content=body, headers=headers)
        declared = route.post("/api/v1/conversions", content=body, headers=headers)
        assert fast.status_code == declared.status_code, name
        assert fast.status_code >= 400, name
        assert fast.json() == declared.json(), name
        for header in ("content-type", "www-authenticate", "x-frame-options"):
            assert fast.headers.get(header) == declared.headers.get(header), (name, header)


def test_twice_the_same_idempotency_key_header_is_the_routes_to_judge(
    world: World, route: TestClient
) -> None:
    headers = [("authorization", f"Bearer {world.keys['acme']}"),
               ("content-type", "application/json"),
               ("idempotency-key", "a"), ("idempotency-key", "b")]  # fmt: skip
    fast = world.client.post("/api/v1/conversions", json=SALE, headers=headers)
    assert fast.status_code == 201
    assert route.post("/api/v1/conversions", json=SALE, headers=headers).json() == fast.json()
