"""kill -9 the real server in the middle of a click storm: every click whose 302 reached a
client is stored, exactly once; the server restarts on the same database and carries on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx

from crosspromo.config import Settings
from crosspromo.domain import OrgKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.database import open_database
from crosspromo.services.track.links import add_domain, create_link
from crosspromo.store.repositories import ClickRepository
from tests.browser.conftest import free_port
from tests.conftest import TEST_SECRET, agreed

CLIENTS = 8
STORM_CLICKS = 200  # acknowledged clicks before the kill, however loaded the machine
STORM_DEADLINE = 60.0


def _start(settings: Settings, port: int, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """``crosspromo serve`` on ``port`` over the test's database, ready when it returns;
    ``extra`` are more CROSSPROMO_* settings."""
    env = {
        **os.environ,
        "CROSSPROMO_DATABASE_URL": settings.database_url,
        "CROSSPROMO_SECRET_KEY": TEST_SECRET,
        **extra,
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "crosspromo", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"server did not start:\n{log.read_text()}")


def _storm(url: str, stop: threading.Event, received: list[str], lock: threading.Lock) -> None:
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            try:
                response = client.get(url, headers={"user-agent": "Mozilla/5.0 storm"})
            except httpx.HTTPError:
                return  # the server is gone
            if response.status_code == 302:
                click = parse_qs(urlsplit(response.headers["location"]).query)["cp_click"][0]
                with lock:
                    received.append(click)


def test_kill_9_loses_no_acknowledged_click(settings: Settings, tmp_path: Path) -> None:
    db = open_database(settings)
    brand = create_organization(db, "brand", "Brand", OrgKind.BRAND)
    create_organization(db, "partner", "Partner", OrgKind.PARTNER)
    agreed(db, brand.id, "partner", name="storm")
    add_domain(db, brand.id, "brand.example")
    code = create_link(db, brand.id, "partner", "https://brand.example/").code

    port = free_port()
    log = tmp_path / "server.log"
    server = _start(settings, port, log)
    received: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    url = f"http://127.0.0.1:{port}/r/{code}"
    threads = [
        threading.Thread(target=_storm, args=(url, stop, received, lock)) for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + STORM_DEADLINE
    while len(received) < STORM_CLICKS and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(server.pid, signal.SIGKILL)  # mid-load, no chance to flush anything
    server.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)

    assert len(received) >= STORM_CLICKS, "the storm was too small to mean anything"
    with db.transaction() as session:
        stored = ClickRepository(session).count_by_click_ids(received)
    missing = [c for c in received if c not in stored]
    assert missing == [], f"{len(missing)} acknowledged clicks lost of {len(received)}"
    assert set(stored.values()) == {1}

    restarted = _start(settings, port, log)
    try:
        again = httpx.get(url, follow_redirects=False)
        assert again.status_code == 302
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=30)
    db.dispose()
