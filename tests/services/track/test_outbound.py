"""Outbound webhooks: outbox written with the conversion, signed delivery, backoff, replay."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import ConversionKind
from crosspromo.domain.webhooks import MAX_ATTEMPTS, DeliveryStatus
from crosspromo.errors import InvalidInputError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.track.conversions import ConversionInput, record_conversions
from crosspromo.services.track.outbound import (
    Dispatcher,
    DispatcherThread,
    add_endpoint,
    check_endpoint_url,
    list_deliveries,
    replay_delivery,
)
from crosspromo.store.database import Database


@dataclass
class Receiver:
    url: str
    fail_next: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            failing = state.fail_next > 0
            state.fail_next -= 1 if failing else 0
            self.send_response(500 if failing else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()


def _sale(order: str, kind: ConversionKind = ConversionKind.SALE) -> ConversionInput:
    return ConversionInput(kind, datetime(2026, 4, 1, tzinfo=UTC), 500, "EUR", order_id=order)


def test_delivery_is_signed_and_logged(db: Database, receiver: Receiver) -> None:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    endpoint = add_endpoint(db, org.id, receiver.url, ["conversion.created"])
    secret = endpoint.secret
    record_conversions(db, org.id, [_sale("o1")])
    record_conversions(db, org.id, [_sale("o1", ConversionKind.REFUND)])  # not subscribed
    assert Dispatcher(db).run_once() == 1
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "conversion.created"
    assert payload["data"]["order_id"] == "o1"
    [delivery] = list_deliveries(db, org.id)
    assert (delivery.status, delivery.attempts, delivery.last_status) == (
        DeliveryStatus.DELIVERED, 1, 204,
    )  # fmt: skip
    assert delivery.endpoint_id == endpoint.id
    assert Dispatcher(db).run_once() == 0, "a delivered message is not sent again"


def test_failures_back_off_then_give_up(db: Database, receiver: Receiver) -> None:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    add_endpoint(db, org.id, receiver.url, ["conversion.created"])
    record_conversions(db, org.id, [_sale("o1")])
    receiver.fail_next = 100
    dispatcher = Dispatcher(db)
    now = datetime.now(UTC)
    assert dispatcher.run_once(now) == 1
    [delivery] = list_deliveries(db, org.id)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.next_attempt_at - now == timedelta(seconds=30)
    assert dispatcher.run_once(now + timedelta(seconds=29)) == 0, "not before it is due"
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        [delivery] = list_deliveries(db, org.id)
        waits.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at
        assert dispatcher.run_once(now) == 1
    assert [w.total_seconds() for w in waits] == [30, 60, 120, 240, 480, 960, 1920]
    [delivery] = list_deliveries(db, org.id)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_error == "HTTP 500: "
    assert len(receiver.received) == MAX_ATTEMPTS
    receiver.fail_next = 0
    replayed = replay_delivery(db, org.id, delivery.id)
    assert replayed.status is DeliveryStatus.PENDING
    assert dispatcher.run_once() == 1
    assert receiver.received[-1][0]["webhook-id"] == delivery.message_id
    assert list_deliveries(db, org.id)[0].status is DeliveryStatus.DELIVERED


def test_outbox_is_written_with_the_conversion_or_not_at_all(
    db: Database, receiver: Receiver
) -> None:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    add_endpoint(db, org.id, receiver.url, ["conversion.created", "conversion.refunded"])
    with pytest.raises(InvalidInputError):
        record_conversions(db, org.id, [_sale("o1"), _sale("missing", ConversionKind.REFUND)])
    assert list_deliveries(db, org.id) == []


def test_unreachable_endpoint_is_recorded(db: Database) -> None:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    add_endpoint(db, org.id, "http://127.0.0.1:9/closed", ["conversion.created"])
    record_conversions(db, org.id, [_sale("o1")])
    Dispatcher(db).run_once()
    [delivery] = list_deliveries(db, org.id)
    assert delivery.last_status is None
    assert delivery.last_error is not None
    assert "Connect" in delivery.last_error


def test_background_dispatcher_delivers(db: Database, receiver: Receiver) -> None:
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    add_endpoint(db, org.id, receiver.url, ["conversion.created"])
    thread = DispatcherThread(db, interval=0.05)
    thread.start()
    try:
        record_conversions(db, org.id, [_sale("o1")])
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        thread.stop()
    assert json.loads(receiver.received[0][1])["data"]["order_id"] == "o1"


@pytest.mark.parametrize(
    ("url", "production", "message"),
    [
        ("ftp://x.example/", False, r"http\(s\) URL"),
        ("http://hooks.example/", True, "https"),
        ("https://127.0.0.1/", True, "private"),
        ("https://10.1.2.3/", True, "private"),
        ("https://localhost/", True, "private"),
    ],
)
def test_endpoint_urls_are_checked(url: str, production: bool, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_endpoint_url(url, production)
    assert check_endpoint_url("https://hooks.example/x", True) == "https://hooks.example/x"
