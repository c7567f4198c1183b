"""kill -9 the real server while shops post conversions: every conversion whose 201 reached a
shop is stored, exactly once; after a restart the shops resend everything they sent (with the
same Idempotency-Keys, as a shop retries after a timeout) and every order ends up stored once,
the acknowledged ones answered as replays of their first answer."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import func, select

from crosspromo.config import Settings
from crosspromo.domain import OrgKind
from crosspromo.domain.conversions import CodeKind
from crosspromo.services.accounts.keys import create_api_key
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.admin.database import open_database
from crosspromo.services.track.conversions import create_code
from crosspromo.store import tables as t
from tests.browser.conftest import free_port
from tests.conftest import agreed
from tests.reliability.test_click_durability import _start

SHOPS = 8
ACKNOWLEDGED = 150  # conversions answered before the kill, however loaded the machine
DEADLINE = 60.0


def _body(order: str) -> dict[str, object]:
    return {"type": "sale", "occurred_at": "2026-05-01T12:00:00Z", "amount_minor": 2500,
            "currency": "EUR", "order_id": order, "referral_code": "PARTNER5",
            "customer_external_id": f"c-{order}"}  # fmt: skip


class Shops:
    """Threads posting sales, each remembering what it sent and what was answered 201."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.sent: list[str] = []
        self.answered: dict[str, dict[str, object]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def post(self, client: httpx.Client, order: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}", "Idempotency-Key": order}
        return client.post(self.url, json=_body(order), headers=headers)

    def run(self, shop: int) -> None:
        with httpx.Client(timeout=10) as client:
            n = 0
            while not self.stop.is_set():
                order = f"s{shop}-{n}"
                n += 1
                with self.lock:
                    self.sent.append(order)
                try:
                    response = self.post(client, order)
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 201:
                    with self.lock:
                        self.answered[order] = response.json()


def test_kill_9_loses_no_acknowledged_conversion(settings: Settings, tmp_path: Path) -> None:
    db = open_database(settings)
    brand = create_organization(db, "brand", "Brand", OrgKind.BRAND)
    create_organization(db, "partner", "Partner", OrgKind.PARTNER)
    agreed(db, brand.id, "partner")
    create_code(db, brand.id, "partner", "PARTNER5", CodeKind.REFERRAL)
    key = create_api_key(db, "brand").key
    port = free_port()
    log = tmp_path / "server.log"
    server = _start(settings, port, log)
    shops = Shops(f"http://127.0.0.1:{port}/api/v1/conversions", key)
    threads = [threading.Thread(target=shops.run, args=(i,)) for i in range(SHOPS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + DEADLINE
    while len(shops.answered) < ACKNOWLEDGED and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(server.pid, signal.SIGKILL)  # mid-load: requests in flight, a batch half-written
    server.wait(timeout=10)
    shops.stop.set()
    for thread in threads:
        thread.join(timeout=15)

    assert len(shops.answered) >= ACKNOWLEDGED, "the load was too small to mean anything"
    c = t.conversions.c
    with db.transaction() as session:
        rows = session.execute(select(c.order_id, func.count()).group_by(c.order_id)).all()
    stored = dict(rows)
    lost = [order for order in shops.answered if order not in stored]
    assert lost == [], f"{len(lost)} acknowledged conversions lost of {len(shops.answered)}"
    assert set(stored.values()) == {1}
    assert set(stored) <= set(shops.sent)

    restarted = _start(settings, port, log)
    try:
        with httpx.Client(timeout=30) as client:
            for order in shops.sent:  # every shop retries whatever it is not sure of, and more
                again = shops.post(client, order)
                assert again.status_code == 201, again.text
                if order in shops.answered:
                    assert again.headers["idempotency-replayed"] == "true"
                    assert again.json() == shops.answered[order]
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=30)
    with db.transaction() as session:
        rows = session.execute(select(c.order_id, func.count()).group_by(c.order_id)).all()
        credited = session.execute(
            select(func.count()).where(c.partner_org_id.is_not(None))
        ).scalar_one()
    db.dispose()
    assert dict(rows) == dict.fromkeys(shops.sent, 1)
    assert credited == len(shops.sent)
