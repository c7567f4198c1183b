"""Outbound webhooks: outbox written with the conversion, signed delivery, backoff, replay."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2 as httpx
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
    resolve_target,
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
    assert delivery.last_error == "HTTP 500", "a category: the response body is never shown"
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
    assert delivery.last_error == "connection refused"


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


PRIVATE_SPELLINGS = [
    "https://127.0.0.1/", "https://127.1/", "https://0x7f000001/", "https://2130706433/",
    "https://0177.0.0.1/", "https://0/", "https://169.254.43518/", "https://[::1]/",
    "https://[::ffff:127.0.0.1]/", "https://10.1.2.3/", "https://100.64.0.1/",
    "https://localhost/", "https://api.localhost./", "https://224.0.0.1/", "https://0.0.0.0/",
]  # fmt: skip


@pytest.mark.parametrize("url", PRIVATE_SPELLINGS)
def test_every_spelling_of_a_private_address_is_refused(url: str) -> None:
    """Finding 5: production refused 127.0.0.1 but accepted these."""
    with pytest.raises(InvalidInputError, match="private addresses"):
        check_endpoint_url(url, production=True)


@pytest.mark.parametrize(
    "url", ["https://hooks.example\\@127.0.0.1/", "https://u:p@hooks.example/",
            "https://hooks.example/\tx", "https://1.2.3.4.5/", "https://hooks.example:99999/"],
)  # fmt: skip
def test_ambiguous_webhook_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError):
        check_endpoint_url(url, production=False)


def _production(db: Database) -> Database:
    production = Database(db.settings.model_copy(update={"environment": "production"}))
    production.memo = db.memo
    return production


def test_names_are_resolved_when_sent_and_the_checked_address_is_used(
    db: Database, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 5: a name that resolves to loopback passed; DNS was never consulted."""
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    production = _production(db)
    add_endpoint(production, org.id, "https://rebinding.example/hooks", ["conversion.created"])
    record_conversions(db, org.id, [_sale("o1")])
    answers = {"rebinding.example": "127.0.0.1"}

    def fake_getaddrinfo(host: str, port: int, *args: object, **kw: object) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    dispatcher = Dispatcher(production)
    assert dispatcher.run_once() == 1
    [delivery] = list_deliveries(db, org.id)
    assert delivery.last_error == "address not allowed"
    assert receiver.received == []
    dispatcher.close()
    production.dispose()

    target = resolve_target("https://public.example:8443/x?y=1", production=False)
    assert target.url == "https://public.example:8443/x?y=1"
    answers["public.example"] = "93.184.215.14"
    target = resolve_target("https://public.example:8443/x?y=1", production=True)
    assert (target.url, target.host, target.sni) == (
        "https://93.184.215.14:8443/x?y=1", "public.example:8443", "public.example",
    )  # fmt: skip


def test_a_response_body_is_never_shown(db: Database) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"internal: db password is hunter2")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    add_endpoint(
        db, org.id, f"http://127.0.0.1:{server.server_address[1]}/", ["conversion.created"]
    )
    record_conversions(db, org.id, [_sale("o1")])
    Dispatcher(db).run_once()
    server.shutdown()
    [delivery] = list_deliveries(db, org.id)
    assert (delivery.last_status, delivery.last_error) == (503, "HTTP 503")


def test_a_malformed_endpoint_is_settled_and_stalls_nobody(
    db: Database, receiver: Receiver
) -> None:
    """Finding 4: httpx's InvalidURL escaped the dispatcher, so the delivery was never settled
    and sorted first again after its lease, ahead of every other tenant's."""
    hostile = create_organization(db, "hostile", "Hostile", OrgKind.BRAND)
    healthy = create_organization(db, "healthy", "Healthy", OrgKind.BRAND)
    add_endpoint(db, hostile.id, "http://0177.0.0.1:9/", ["conversion.created"])
    add_endpoint(db, healthy.id, receiver.url, ["conversion.created"])
    record_conversions(db, hostile.id, [_sale("h1")])
    record_conversions(db, healthy.id, [_sale("ok")])
    assert Dispatcher(db).run_once() == 2
    [bad] = list_deliveries(db, hostile.id)
    [good] = list_deliveries(db, healthy.id)
    assert bad.status is DeliveryStatus.PENDING
    assert bad.attempts == 1
    assert bad.last_error in {"invalid URL", "connection refused", "connection failed"}
    assert good.status is DeliveryStatus.DELIVERED


def test_a_hanging_endpoint_delays_only_itself(db: Database, receiver: Receiver) -> None:
    """Finding 4: deliveries went out one by one with a 10 s timeout; 12 to a socket that
    never answers delayed another tenant by 121 s."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # accepts connections, never answers
    hostile = create_organization(db, "hostile", "Hostile", OrgKind.BRAND)
    healthy = create_organization(db, "healthy", "Healthy", OrgKind.BRAND)
    add_endpoint(
        db, hostile.id, f"http://127.0.0.1:{silent.getsockname()[1]}/", ["conversion.created"]
    )
    add_endpoint(db, healthy.id, receiver.url, ["conversion.created"])
    record_conversions(db, hostile.id, [_sale(f"h{i}") for i in range(12)])
    thread = DispatcherThread(db, 0.1)
    thread.dispatcher.client = httpx.Client(timeout=3)
    thread.start()
    try:
        time.sleep(0.5)  # the hanging sends are under way
        started = time.monotonic()
        record_conversions(db, healthy.id, [_sale("ok")])
        while not receiver.received and time.monotonic() - started < 10:
            time.sleep(0.05)
        waited = time.monotonic() - started
    finally:
        thread.stop()
        silent.close()
    assert receiver.received, "the healthy tenant's delivery never went out"
    assert waited < 2, waited
    assert all(d.last_error in (None, "timeout") for d in list_deliveries(db, hostile.id))


def test_webhook_urls_are_not_logged(
    db: Database, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 10: the HTTP client logged every webhook URL (a tenant's tokens in its query
    included) at INFO."""
    caplog.set_level(logging.DEBUG)
    org = create_organization(db, "shop", "Shop", OrgKind.BRAND)
    add_endpoint(db, org.id, receiver.url + "?token=tenant-secret", ["conversion.created"])
    record_conversions(db, org.id, [_sale("o1")])
    assert Dispatcher(db).run_once() == 1
    assert receiver.received
    assert "tenant-secret" not in "\n".join(r.getMessage() for r in caplog.records)
