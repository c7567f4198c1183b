"""The redirects the server's protocol answers itself (``web.direct``), driven through the real
uvicorn protocol with a transport that keeps what is written: the same 302 as the ASGI path,
no ASGI task for it, its click journalled; everything it does not take goes on to ASGI, in
order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from uvicorn.config import Config
from uvicorn.server import ServerState

from crosspromo.config import Settings
from crosspromo.domain.links import CLICK_ID_LENGTH
from crosspromo.services.admin.database import open_database
from crosspromo.tracking.journal import decode, whole_lines
from crosspromo.web.app import create_server
from crosspromo.web.fast import FastPaths
from crosspromo.web.server import HeaderDeadlineProtocol
from tests.conftest import issued_link, run_async


@pytest.fixture
def backend() -> str:
    """What is under test is the protocol, not the store."""
    return "sqlite"


class Transport(asyncio.Transport):
    """What the protocol writes, and whether it closed the connection."""

    def __init__(self, peer: str = "203.0.113.9") -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False
        self.peer = peer

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": (self.peer, 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[FastPaths, str]]:
    db = open_database(settings)
    code = issued_link(db, "https://brand.example/p#top")
    db.dispose()
    app = create_server(settings, journal=True)
    yield app, code
    app.state.click_writer.stop()
    app.state.db.dispose()


def _responses(raw: bytes) -> list[tuple[int, dict[str, str]]]:
    """Status and headers of each response in ``raw`` (bodies skipped by their length)."""
    found = []
    while raw:
        head, _, raw = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        raw = raw[int(headers.get("content-length", "0")) :]
        found.append((int(status_line.split()[1]), headers))
    return found


async def _exchange(app: FastPaths, data: bytes, peer: str = "203.0.113.9") -> tuple[Any, Any]:
    """Feed ``data`` to a new connection; the protocol and its transport once all is done."""
    config = Config(app=app, proxy_headers=True, server_header=False, lifespan="off")
    state = ServerState()
    protocol = HeaderDeadlineProtocol(config, state, {}, asyncio.get_running_loop())
    transport = Transport(peer)
    protocol.connection_made(transport)
    protocol.data_received(data)
    direct_tasks = len(state.tasks)
    for _ in range(200):  # until every answer is written (ASGI ones run as tasks)
        await asyncio.sleep(0.01)
        if not state.tasks and (protocol.cycle is None or protocol.cycle.response_complete):
            break
    protocol.direct_tasks = direct_tasks
    return protocol, transport


def _journalled(settings: Settings) -> list[dict[str, Any]]:
    written = [path.read_bytes() for path in settings.click_journal().iterdir()]
    return [decode(line) for data in written for line in data[: whole_lines(data)].splitlines()]


def test_a_kept_link_is_answered_by_the_protocol(
    server: tuple[FastPaths, str], settings: Settings
) -> None:
    app, code = server
    with TestClient(app, base_url="http://crosspromo.test") as client:  # the ASGI path
        through_asgi = client.get(f"/r/{code}", follow_redirects=False)
    assert through_asgi.status_code == 302
    app.state.click_writer.start()
    request = f"GET /r/{code} HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n\r\n".encode()

    async def direct() -> tuple[Any, Any]:
        redirect = app.direct.redirect
        await redirect.links.get(code)  # kept, as after a first visit
        await redirect.salts.today(datetime.now(UTC))
        return await _exchange(app, request)

    protocol, transport = run_async(direct())
    assert protocol.direct_tasks == 0, "answered without an ASGI task"
    [(status, headers)] = _responses(bytes(transport.written))
    assert status == 302
    expected = {k: v for k, v in through_asgi.headers.items() if k not in {"location", "date"}}
    assert {k: v for k, v in headers.items() if k not in {"location", "date"}} == expected
    assert headers["location"].startswith("https://brand.example/p?")
    assert headers["location"].endswith("#top")
    assert not transport.closed, "kept alive"
    [click] = [c for c in _journalled(settings) if c["click_id"] in headers["location"]]
    assert click["is_bot"] is False
    assert click["visit_key"].endswith(datetime.now(UTC).strftime("%Y%m%d%H"))


def test_what_the_protocol_does_not_take_goes_to_asgi_in_order(
    server: tuple[FastPaths, str], settings: Settings
) -> None:
    app, code = server
    app.state.click_writer.start()
    pipelined = (
        f"HEAD /r/{code} HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n\r\n"
        "GET /r/no-such-link HTTP/1.1\r\nHost: x\r\n\r\n"
        f"GET /r/{code} HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n\r\n"
        f"POST /r/{code} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        f"GET /r/{code} HTTP/1.0\r\nUser-Agent: Mozilla/5.0\r\n\r\n"
    ).encode()

    async def exchange() -> tuple[Any, Any]:
        redirect = app.direct.redirect
        await redirect.links.get(code)
        await redirect.salts.today(datetime.now(UTC))
        return await _exchange(app, pipelined)

    _, transport = run_async(exchange())
    answers = _responses(bytes(transport.written))
    assert [status for status, _ in answers] == [302, 404, 302, 405, 302]
    assert answers[1][1]["content-type"].startswith("text/html")
    assert answers[3][1]["allow"] == "GET, HEAD"
    assert answers[4][1]["connection"] == "close", "HTTP/1.0: closed after"
    assert transport.closed
    clicks = {c["click_id"]: c for c in _journalled(settings)}
    ids = [h["location"].rpartition("cp_click=")[2][:CLICK_ID_LENGTH] for _, h in answers[::2]]
    bots = [clicks[click_id]["is_bot"] for click_id in ids]
    assert bots == [True, False, False], "HEAD is a bot's"


def test_a_trusted_proxy_names_the_visitor(
    server: tuple[FastPaths, str], settings: Settings
) -> None:
    """Behind a trusted proxy (uvicorn's forwarded-allow-ips) the visitor is the forwarded
    address, as on the ASGI path; from anyone else the header is ignored."""
    app, code = server
    app.state.click_writer.start()

    def visit(peer: str, forwarded: str) -> str:
        request = (
            f"GET /r/{code} HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n"
            f"X-Forwarded-For: {forwarded}\r\n\r\n"
        ).encode()

        async def exchange() -> tuple[Any, Any]:
            await app.direct.redirect.links.get(code)
            await app.direct.redirect.salts.today(datetime.now(UTC))
            return await _exchange(app, request, peer)

        _, transport = run_async(exchange())
        [(status, headers)] = _responses(bytes(transport.written))
        assert status == 302
        click_id = headers["location"].rpartition("cp_click=")[2][:CLICK_ID_LENGTH]
        return next(c["visitor_hash"] for c in _journalled(settings) if c["click_id"] == click_id)

    proxied = {visit("127.0.0.1", "198.51.100.1") for _ in range(2)}
    other = visit("127.0.0.1", "198.51.100.2")
    spoofed = visit("203.0.113.9", "198.51.100.1")
    direct = visit("203.0.113.9", "198.51.100.2")
    assert len(proxied) == 1
    assert other not in proxied
    assert spoofed == direct, "an untrusted peer's X-Forwarded-For is ignored"
    assert spoofed not in proxied


def test_journal_folder_is_the_settings(settings: Settings, tmp_path: Path) -> None:
    chosen = settings.model_copy(update={"click_journal_dir": str(tmp_path / "j")})
    assert chosen.click_journal() == (tmp_path / "j").resolve()
    assert settings.click_journal().name.endswith("-clicks")


@pytest.mark.parametrize("path", ["direct", "asgi"])
def test_keep_alive_closes_an_idle_connection_with_one_timer(
    server: tuple[FastPaths, str], path: str
) -> None:
    """An idle connection is closed ``timeout_keep_alive`` after its last answer, not after
    its first; a connection answered again and again makes one keep-alive timer, not one an
    answer (uvicorn's way, 2.3 us of each redirect)."""
    app, code = server
    app.state.click_writer.start()
    target = f"/r/{code}" if path == "direct" else "/healthz"
    request = f"GET {target} HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n\r\n".encode()

    async def visit() -> tuple[int, int, bool, bool, bool]:
        await app.direct.redirect.links.get(code)
        await app.direct.redirect.salts.today(datetime.now(UTC))
        loop = asyncio.get_running_loop()
        timers = 0
        call_later = loop.call_later

        def counted(delay: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
            nonlocal timers
            timers += "keep" in getattr(callback, "__name__", "")
            return call_later(delay, callback, *args)

        loop.call_later = counted  # type: ignore[method-assign]
        config = Config(app=app, server_header=False, lifespan="off", timeout_keep_alive=1)
        protocol = HeaderDeadlineProtocol(config, ServerState(), {}, loop)
        transport = Transport()
        protocol.connection_made(transport)

        async def answered(count: int) -> None:
            for _ in range(500):
                if len(_responses(bytes(transport.written))) >= count:
                    return
                await asyncio.sleep(0.005)
            raise AssertionError("not answered")

        for sent in range(1, 21):  # 20 requests, each after the answer before it
            protocol.data_received(request)
            await answered(sent)
        await asyncio.sleep(0.7)
        protocol.data_received(request)  # 0.7 s after the last answer: still open
        await answered(21)
        open_at_first_deadline = not transport.closed
        await asyncio.sleep(0.7)  # 1.4 s after the first timer: 0.7 after the last answer
        open_before_own_deadline = not transport.closed
        for _ in range(300):  # due 1 s after the last answer: a busy machine may run it late
            if transport.closed:
                break
            await asyncio.sleep(0.01)
        answers = len(_responses(bytes(transport.written)))
        return answers, timers, open_at_first_deadline, open_before_own_deadline, transport.closed

    answers, timers, kept, still, closed = run_async(visit())
    assert answers == 21
    assert kept, "closed before a second of idleness"
    assert still, "closed before a second of idleness since the last answer"
    assert closed, "an idle connection is closed"
    assert timers <= 3, f"{timers} keep-alive timers for 21 answers"
