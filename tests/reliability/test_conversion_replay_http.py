"""Every conversion sent twice, at the same time, to the real server with the same
Idempotency-Key: each is stored once and both senders get the same answer."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import func, select

from crosspromo.config import Settings
from crosspromo.domain import OrgKind
from crosspromo.services.accounts.keys import create_api_key
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.admin.database import open_database
from crosspromo.store import tables as t
from tests.browser.conftest import free_port
from tests.reliability.test_click_durability import _start

N = 80


def test_concurrent_twins_over_http(settings: Settings, tmp_path: Path) -> None:
    db = open_database(settings)
    create_organization(db, "shop", "Shop", OrgKind.BRAND)
    key = create_api_key(db, "shop").key
    port = free_port()
    server = _start(settings, port, tmp_path / "server.log")
    url = f"http://127.0.0.1:{port}/api/v1/conversions"

    def send(i: int) -> tuple[int, dict[str, object]]:
        body = {"type": "sale", "occurred_at": "2026-05-01T12:00:00Z", "amount_minor": 100 + i,
                "currency": "EUR", "order_id": f"order-{i}"}  # fmt: skip
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"order-{i}"}
        response = httpx.post(url, json=body, headers=headers, timeout=30)
        return response.status_code, response.json()

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(send, [i for i in range(N) for _ in range(2)]))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    for i in range(N):
        first, second = answers[2 * i], answers[2 * i + 1]
        assert first[0] == second[0] == 201, (first, second)
        assert first[1] == second[1], f"twins of order-{i} got different answers"
    with db.transaction() as session:
        stored = session.execute(select(func.count()).select_from(t.conversions)).scalar_one()
    db.dispose()
    assert stored == N
