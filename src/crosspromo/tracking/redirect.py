"""``GET /r/{code}``: a lean ASGI path that looks the link up (cached), stores the click
durably, and answers 302 to the allow-listed destination with our click id appended."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import anyio.to_thread
from starlette.types import Receive, Scope, Send

from crosspromo.domain.links import Link, is_bot, new_click_id, visitor_hash, with_click_id
from crosspromo.store.database import Database
from crosspromo.store.repositories import LinkRepository, SaltRepository
from crosspromo.tracking.clicks import ClickWriter

PREFIX = "/r/"
_FOUND_TTL = 30.0  # seconds a link stays cached (a deactivation takes effect within this)
_MISSING_TTL = 2.0
_NOT_FOUND = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Link not found</title>"
    b"<body style='font-family:system-ui;text-align:center;margin-top:20vh'>"
    b"<h1>Link not found</h1><p>This link does not exist or is no longer active.</p>"
)


class LinkCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._entries: dict[str, tuple[float, Link | None]] = {}

    async def get(self, code: str) -> Link | None:
        now = time.monotonic()
        entry = self._entries.get(code)
        if entry is not None and entry[0] > now:
            return entry[1]
        link = await anyio.to_thread.run_sync(self._fetch, code)
        ttl = _FOUND_TTL if link is not None else _MISSING_TTL
        if len(self._entries) > 100_000:
            self._entries.clear()
        self._entries[code] = (now + ttl, link)
        return link

    def forget(self, code: str) -> None:
        """Drop the kept answer for ``code`` (changed here: this process sees it at once)."""
        self._entries.pop(code, None)

    def _fetch(self, code: str) -> Link | None:
        with self.db.transaction() as session:
            return LinkRepository(session).by_code(code)


class VisitorSalts:
    """Today's random salt for visitor hashes; yesterday's is deleted, so no raw IP can be
    recovered from a stored hash by trying addresses."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._day = ""
        self._salt = b""

    async def today(self, now: datetime) -> bytes:
        day = now.strftime("%Y-%m-%d")
        if day != self._day:
            salt = await anyio.to_thread.run_sync(self._fetch, day)
            self._day, self._salt = day, salt.encode()
        return self._salt

    def _fetch(self, day: str) -> str:
        with self.db.transaction() as session:
            return SaltRepository(session).for_day(day)


class RedirectApp:
    def __init__(self, db: Database, writer: ClickWriter) -> None:
        self.links = LinkCache(db)
        self.salts = VisitorSalts(db)
        self.writer = writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, [(b"allow", b"GET, HEAD")])
            return
        link = await self.links.get(scope["path"][len(PREFIX) :])
        if link is None or not link.active:
            await _respond(send, 404, [(b"content-type", b"text/html; charset=utf-8")], _NOT_FOUND)
            return
        headers = dict(scope["headers"])
        agent = headers.get(b"user-agent", b"").decode("latin-1")
        referer = headers.get(b"referer", b"").decode("latin-1")[:500] or None
        client = scope.get("client")
        address = client[0] if client else ""
        now = datetime.now(UTC)
        salt = await self.salts.today(now)
        visitor = visitor_hash(salt, address, agent)
        click_id = new_click_id()
        await self.writer.record(
            {
                "link_id": link.id,
                "org_id": link.org_id,
                "partner_org_id": link.partner_org_id,
                "click_id": click_id,
                "clicked_at": now,
                "visitor_hash": visitor,
                "visit_key": f"{visitor[:32]}:{now:%Y%m%d%H}",
                "referer": referer,
                "is_bot": is_bot(agent, method),
            }
        )
        location = with_click_id(link.destination, click_id).encode()
        await _respond(
            send,
            302,
            [
                (b"location", location),
                (b"cache-control", b"no-store"),
            ],
        )


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
