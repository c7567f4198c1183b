"""kill -9 the real server (and its click mover) in the middle of a click storm: every click
whose 302 reached a client is stored, exactly once; the server restarts on the same database
and carries on."""

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
from crosspromo.services.admin.database import open_database
from crosspromo.store.repositories import ClickRepository
from tests.browser.conftest import free_port
from tests.conftest import TEST_SECRET, issued_link

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
        "CROSSPROMO_CLICK_JOURNAL_DIR": str(log.parent / "clicks"),
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


def _link(settings: Settings) -> str:
    db = open_database(settings)
    code = issued_link(db)
    db.dispose()
    return code


class Storm:
    """CLIENTS threads clicking ``url`` until stopped or the server is gone; ``received``
    holds the click id of every 302 that reached them."""

    def __init__(self, url: str) -> None:
        self.received: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=_storm, args=(url, self.stop, self.received, self.lock))
            for _ in range(CLIENTS)
        ]
        for thread in self.threads:
            thread.start()

    def wait_for(self, clicks: int) -> None:
        deadline = time.monotonic() + STORM_DEADLINE
        while len(self.received) < clicks and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.received) >= clicks, "the storm was too small to mean anything"

    def end(self) -> list[str]:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
        return list(self.received)


def _all_stored_once(settings: Settings, received: list[str], seconds: float = 30) -> None:
    """Every acknowledged click is in the store, once (the mover may still be moving the
    last of them: waited for up to ``seconds``)."""
    db = open_database(settings)
    deadline = time.monotonic() + seconds
    while True:
        with db.transaction() as session:
            stored = ClickRepository(session).count_by_click_ids(received)
        missing = [c for c in received if c not in stored]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    db.dispose()
    assert missing == [], f"{len(missing)} acknowledged clicks lost of {len(received)}"
    assert set(stored.values()) == {1}


def _mover_of(server: subprocess.Popen[bytes], other_than: int | None = None) -> int:
    """The process id of the click mover ``server`` started (one other than ``other_than``, a
    mover just killed: until the kernel has ended it, it is still found)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["pgrep", "-f", f"crosspromo.tracking.mover {server.pid}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        others = [int(pid) for pid in found if int(pid) != other_than]
        if others:
            return others[0]
        time.sleep(0.1)
    raise AssertionError("no click mover beside the server")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie no one has reaped yet does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_kill_9_loses_no_acknowledged_click(settings: Settings, tmp_path: Path) -> None:
    """The server, its worker and its click mover all killed mid-load: the clicks already
    answered are in the journal; the server started again moves them, each once."""
    code = _link(settings)
    port = free_port()
    log = tmp_path / "server.log"
    server = _start(settings, port, log)
    mover = _mover_of(server)
    url = f"http://127.0.0.1:{port}/r/{code}"
    storm = Storm(url)
    storm.wait_for(STORM_CLICKS)
    os.killpg(server.pid, signal.SIGKILL)  # mid-load, no chance to flush anything
    server.wait(timeout=10)
    received = storm.end()
    assert not _alive(mover), "the mover went with the server"

    restarted = _start(settings, port, log)
    its_mover = _mover_of(restarted)
    try:
        _all_stored_once(settings, received)
        again = httpx.get(url, follow_redirects=False)
        assert again.status_code == 302
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=30)
    assert restarted.returncode == -signal.SIGTERM, "the exit SIGTERM asks for"
    assert not _alive(its_mover), "serve stops its mover before it exits, not after"
    assert list((tmp_path / "clicks").iterdir()) == [], "a clean stop leaves no journal"


def test_kill_9_of_the_mover_alone(settings: Settings, tmp_path: Path) -> None:
    """The click mover killed mid-load while the server goes on answering: the server starts
    another, which carries on from the stored positions; nothing lost, nothing twice."""
    code = _link(settings)
    port = free_port()
    log = tmp_path / "server.log"
    server = _start(settings, port, log)
    try:
        first = _mover_of(server)
        storm = Storm(f"http://127.0.0.1:{port}/r/{code}")
        storm.wait_for(STORM_CLICKS)
        os.kill(first, signal.SIGKILL)
        storm.wait_for(len(storm.received) + STORM_CLICKS)  # answered while no mover runs
        second = _mover_of(server, other_than=first)  # started again, or this fails
        assert not _alive(first)
        assert _alive(second)
        storm.wait_for(len(storm.received) + STORM_CLICKS)
        received = storm.end()
        _all_stored_once(settings, received)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
