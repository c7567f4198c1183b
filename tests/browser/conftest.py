"""A real `crosspromo demo` server and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from crosspromo.services.admin.database import open_database
from crosspromo.store.database import Database
from tests.conftest import TEST_SECRET, make_settings, require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class DemoServer:
    url: str
    password: str
    output: Path
    database_url: str  # to check in the store what an action in the browser did


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """`crosspromo demo` itself, serving a fresh database on a free port."""
    workdir = tmp_path_factory.mktemp("demo")
    port = free_port()
    log = workdir / "demo.log"
    database_url = f"sqlite:///{workdir / 'demo.db'}"
    env = {
        **os.environ,
        "CROSSPROMO_DATABASE_URL": database_url,
        "CROSSPROMO_SECRET_KEY": TEST_SECRET,
        # a result computed for the first time shows its progress at once (a page that needs
        # one is followed until shown: see `settle`)
        "CROSSPROMO_PROGRESS_AFTER_SECONDS": "0",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crosspromo",
                "demo",
                "--port",
                str(port),
                "--password",
                PASSWORD,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"crosspromo demo exited early:\n{log.read_text()}")
            try:  # up, and the results of the first views computed
                health = httpx.get(f"{url}/healthz", timeout=1)
                if health.status_code == 200 and health.json()["results"] == "ready":
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"crosspromo demo did not come up:\n{log.read_text()}")
            time.sleep(0.25)
        yield DemoServer(url, PASSWORD, log, database_url)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


SETTLED = """() => document.readyState === "complete"
    && document.querySelector("[data-testid=computing]") === null"""


def settle(page: Any, timeout: float = 120) -> None:
    """Wait while ``page`` shows a computation's progress: it reloads itself until the result
    is there (the demo server shows progress at once for a result it has not computed)."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    while True:
        try:
            page.wait_for_load_state("networkidle")
            # One reading of the document: between a reload's answer and its parsing the new
            # document is empty, so a separate count would see no progress and return early.
            if page.evaluate(SETTLED):
                return
        except PlaywrightError:  # the page reloaded while it was read: read the new one
            pass
        assert time.monotonic() < deadline, f"{page.url} still computing after {timeout} s"
        page.wait_for_timeout(250)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        require(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("the playwright package is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def store(demo_server: DemoServer) -> Iterator[Database]:
    """The demo server's own database, opened beside it to check what the browser did."""
    db = open_database(make_settings(demo_server.database_url))
    try:
        yield db
    finally:
        db.dispose()
