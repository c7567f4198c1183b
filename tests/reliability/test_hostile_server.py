"""A real ``crosspromo serve`` under a hostile client: oversized bodies without credentials,
a large protocol message, and a tenant whose webhook endpoint hangs or is malformed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx2 as httpx
import pytest

from crosspromo.analytics.overlap.blinding import Blinder
from crosspromo.analytics.overlap.psi import Audience, Disclosure, Requester
from crosspromo.config import Settings
from crosspromo.domain import ConsentPurpose, OrgKind
from crosspromo.services.accounts.customers import record_customer
from crosspromo.services.accounts.keys import create_api_key
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.admin.database import open_database
from crosspromo.services.discover.lists import ListOptions
from crosspromo.services.discover.sessions import decode_token, offer_overlap, set_sharing
from crosspromo.services.track.outbound import add_endpoint
from tests.browser.conftest import free_port
from tests.reliability.test_click_durability import _start

MB = 1024 * 1024


@pytest.fixture
def backend() -> str:
    """What these measure is the server process, not the store: SQLite is enough (the
    dispatcher's leasing on PostgreSQL is covered in tests/services/track)."""
    return "sqlite"


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


@contextmanager
def _server(settings: Settings, tmp_path: Path, **env: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    process = _start(settings, port, tmp_path / "server.log", **env)
    try:
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _chunks(total: int, size: int = MB) -> Iterator[bytes]:
    block = b"x" * size
    for _ in range(total // size):
        yield block


def test_oversized_bodies_do_not_grow_the_server(settings: Settings, tmp_path: Path) -> None:
    """Finding 2: four 250 MB posts to a made-up session (read whole before the session was
    looked up) or chunked to the offers route without a key (buffered whole by the limit
    middleware before the 401) took the server from 467 MB to 1.6 GB."""
    with _server(settings, tmp_path) as (url, pid):
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again from here
        before = _memory_kb(pid, "VmHWM")
        made_up = "0123456789abcdef" * 2
        posts = [
            (f"/overlap/v1/sessions/{made_up}/request", {}),
            (f"/overlap/v1/sessions/{made_up}/result", {"content-length": str(250 * MB)}),
            ("/api/v1/overlap/offers", {"content-type": "text/csv"}),
            ("/api/v1/overlap/offers", {"content-length": str(250 * MB)}),
        ]

        def post(path: str, headers: dict[str, str]) -> int | str:
            try:
                with httpx.Client(timeout=60) as client:
                    r = client.post(url + path, content=_chunks(250 * MB), headers=headers)
                    return r.status_code
            except httpx.TransportError as exc:  # the server answered and closed early
                return type(exc).__name__

        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(lambda p: post(*p), posts))
        grown_mb = (_memory_kb(pid, "VmHWM") - before) / 1024
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200
    assert all(o in (401, 404, 413) or isinstance(o, str) for o in outcomes), outcomes
    limit_mb = settings.max_body_bytes / MB
    assert grown_mb < limit_mb + 64, f"the server's peak grew by {grown_mb:.0f} MB: {outcomes}"


def _open_session(settings: Settings, tmp_path: Path, customers: int) -> tuple[str, bytes]:
    db = open_database(settings)
    org = create_organization(db, "beta", "Beta", OrgKind.BRAND).id
    share = frozenset({ConsentPurpose.PARTNER_SHARING})
    for i in range(customers):
        record_customer(db, org, f"p{i}@example.com", share)
    set_sharing(db, org, "counts")
    listed = tmp_path / "b.csv"
    listed.write_text("email\n" + "".join(f"p{i}@example.com\n" for i in range(customers)))
    offer = offer_overlap(db, org, listed, ListOptions(), partner=None)
    db.dispose()
    return offer.session, decode_token(offer.token)


def test_health_answers_while_a_protocol_message_is_worked_on(
    settings: Settings, tmp_path: Path
) -> None:
    """Finding 3: message 1 was answered on the event loop; with 300,000 points /healthz and
    /r/ waited 22.8 s."""
    session, key = _open_session(settings, tmp_path, 50)
    points = 80_000
    audience = Audience([f"q{i}@example.com" for i in range(points)], ["all"] * points)
    with Blinder() as ours:
        message = Requester(session, key, audience, ours, Disclosure.COUNTS).request()
    with _server(settings, tmp_path) as (url, _pid):
        answer: list[httpx.Response] = []
        sender = threading.Thread(target=lambda: answer.append(httpx.post(
            f"{url}/overlap/v1/sessions/{session}/request", content=message, timeout=300,
            headers={"content-type": "application/octet-stream"},
        )))  # fmt: skip
        sender.start()
        begun = time.monotonic()
        waits = []
        with httpx.Client(timeout=30) as client:
            while sender.is_alive():
                started = time.monotonic()
                assert client.get(f"{url}/healthz").status_code == 200
                waits.append(time.monotonic() - started)
                time.sleep(0.05)
        sender.join()
        worked = time.monotonic() - begun
    assert answer[0].status_code == 200, answer[0].text
    # A blocked loop makes every probe wait for the whole message (seconds). Other test
    # processes share the 2 cores, so one probe may wait for the scheduler: the bound holds
    # for 95% of the probes, and none waits a quarter of the message's time (nor a second,
    # when the machine is not loaded enough to stretch the message).
    waits.sort()
    shown = (f"{len(waits)} probes, median {waits[len(waits) // 2]:.3f} s, max "
             f"{waits[-1]:.2f} s, the message took {worked:.1f} s")  # fmt: skip
    assert waits[int(len(waits) * 0.95) - 1] < 0.2, shown
    assert waits[-1] < max(1.0, worked / 4), shown
    assert len(waits) >= 10, f"the message was answered too fast to tell: {shown}"


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[float]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        _Receiver.received.append(time.monotonic())
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("hostile", ["hangs", "malformed"])
def test_one_tenants_endpoint_does_not_stall_another(
    settings: Settings, tmp_path: Path, hostile: str
) -> None:
    """Finding 4: a malformed URL aborted every dispatch pass and a hanging one held each
    delivery for 10 s in turn: another tenant's delivery waited minutes."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    _Receiver.received = []
    db = open_database(settings)
    bad = create_organization(db, "hostile", "Hostile", OrgKind.BRAND)
    good = create_organization(db, "healthy", "Healthy", OrgKind.BRAND)
    bad_url = (f"http://127.0.0.1:{silent.getsockname()[1]}/" if hostile == "hangs"
               else "http://0177.0.0.1:9/")  # fmt: skip
    add_endpoint(db, bad.id, bad_url, ["conversion.created"])
    add_endpoint(
        db, good.id, f"http://127.0.0.1:{receiver.server_address[1]}/", ["conversion.created"]
    )
    keys = {slug: create_api_key(db, slug).key for slug in ("hostile", "healthy")}
    db.dispose()

    def sale(slug: str, order: str) -> None:
        body = {"type": "sale", "occurred_at": "2026-05-01T12:00:00Z", "amount_minor": 100,
                "currency": "EUR", "order_id": order}  # fmt: skip
        r = httpx.post(f"{url}/api/v1/conversions", json=body, timeout=30,
                       headers={"Authorization": f"Bearer {keys[slug]}"})  # fmt: skip
        assert r.status_code == 201, r.text

    try:
        with _server(settings, tmp_path, CROSSPROMO_WEBHOOK_DISPATCH_SECONDS="0.2") as (url, _):
            for i in range(12):
                sale("hostile", f"h{i}")
            time.sleep(1.0)  # the hostile tenant's deliveries are being tried
            sent = time.monotonic()
            sale("healthy", "ok")
            while not _Receiver.received and time.monotonic() - sent < 30:
                time.sleep(0.05)
    finally:
        receiver.shutdown()
        silent.close()
    assert _Receiver.received, "the healthy tenant's delivery never went out"
    assert _Receiver.received[0] - sent < 5, f"waited {_Receiver.received[0] - sent:.1f} s"


def test_slow_headers_are_cut_off(settings: Settings, tmp_path: Path) -> None:
    """Finding 10: with no deadline for a request's headers, 900 connections sending a byte
    now and then were all held for more than 23 s."""
    with _server(settings, tmp_path, CROSSPROMO_HEADER_TIMEOUT_SECONDS="1") as (url, _):
        port = int(url.rsplit(":", 1)[1])
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        started = time.monotonic()
        closed_after = []
        for part in (b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"X-A: 1\r\n", b"X-B: 2\r\n"):
            for conn in slow:
                with suppress(OSError):
                    conn.sendall(part)
            time.sleep(0.6)
        for conn in slow:
            conn.settimeout(5)
            try:
                data = conn.recv(1024)
            except OSError:
                data = b""
            if data == b"":
                closed_after.append(time.monotonic() - started)
            conn.close()
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200, "others still served"
    assert len(closed_after) == len(slow), "every slow connection was closed"
    assert max(closed_after) < 4


def test_short_links_point_at_the_server(settings: Settings, tmp_path: Path) -> None:
    """Finding 10: short links and the inbound webhook address said http://127.0.0.1:8000
    whatever address the server was started on."""
    db = open_database(settings)
    create_organization(db, "brand", "Brand", OrgKind.BRAND)
    key = create_api_key(db, "brand").key
    db.dispose()
    with _server(settings, tmp_path) as (url, _):
        made = httpx.post(f"{url}/api/v1/webhooks/inbound-secret", timeout=10,
                          headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["endpoint"] == f"{url}/webhooks/inbound/brand"
