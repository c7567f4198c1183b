"""``GET /r/{code}``: a lean ASGI path that looks the link up (cached), stores the click
durably, and answers 302 to the allow-listed destination with our click id appended."""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import anyio.to_thread
from starlette.types import Receive, Scope, Send

from crosspromo.domain.links import (
    Link,
    click_id_place,
    hash_visitor,
    is_bot,
    new_click_id,
    visitor_hasher,
)
from crosspromo.store.database import Database
from crosspromo.store.repositories import LinkRepository, SaltRepository
from crosspromo.tracking.clicks import ClickSink

PREFIX = "/r/"
Key = TypeVar("Key")
Value = TypeVar("Value")
_FOUND_TTL = 30.0  # seconds a link stays cached (a deactivation takes effect within this)
_MISSING_TTL = 2.0
_NOT_FOUND = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Link not found</title>"
    b"<body style='font-family:system-ui;text-align:center;margin-top:20vh'>"
    b"<h1>Link not found</h1><p>This link does not exist or is no longer active.</p>"
)


class LinkCache:
    """Links by code, kept ``_FOUND_TTL`` seconds (an unknown code ``_MISSING_TTL``). An entry
    is (monotonic expiry, link, its ``direct_parts``): the direct redirect (``web._direct``)
    reads ``entries`` itself."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.entries: dict[str, tuple[float, Link | None, DirectParts | None]] = {}

    async def get(self, code: str) -> Link | None:
        known, link = self.peek(code)
        if known:
            return link
        now = time.monotonic()
        link = await anyio.to_thread.run_sync(self._fetch, code)
        ttl = _FOUND_TTL if link is not None else _MISSING_TTL
        if len(self.entries) > 100_000:
            self.entries.clear()
        self.entries[code] = (now + ttl, link, direct_parts(link))
        return link

    def peek(self, code: str) -> tuple[bool, Link | None]:
        """Whether ``code``'s answer is kept and fresh, and the answer (None: no such link)."""
        entry = self.entries.get(code)
        if entry is not None and entry[0] > time.monotonic():
            return True, entry[1]
        return False, None

    def forget(self, code: str) -> None:
        """Drop the kept answer for ``code`` (changed here: this process sees it at once)."""
        self.entries.pop(code, None)

    def _fetch(self, code: str) -> Link | None:
        with self.db.transaction() as session:
            return LinkRepository(session).by_code(code)


DirectParts = tuple[bytes, bytes, bytes]
_UNSAFE = re.compile(r"[\r\n\x00]")  # not in a header's value


def direct_parts(link: Link | None) -> DirectParts | None:
    """What the direct redirect (``web._direct``) needs of ``link`` beyond the request: the
    head of its clicks' journal lines (``[link,org,partner,``), and its location before and
    after the click id. None where it is not to answer: no link, an inactive one, or a
    location that is not a header's value (ASGI refuses it as any other)."""
    if link is None or not link.active:
        return None
    before, after = click_id_place(link.destination)
    if _UNSAFE.search(before) or _UNSAFE.search(after):
        return None
    head = f"[{link.id:d},{link.org_id:d},{link.partner_org_id:d},"
    return head.encode(), before.encode(), after.encode()


class VisitorSalts:
    """Today's random salt for visitor hashes; yesterday's is deleted, so no raw IP can be
    recovered from a stored hash by trying addresses."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._day: date | None = None
        self._salt = b""
        self._hasher = visitor_hasher(b"")
        self.kept: tuple[int, int, int, Any] | None = None  # the day's, for ``web._direct``

    async def today(self, now: datetime) -> bytes:
        """``now``'s salt, read from the store once a day."""
        if now.date() != self._day:
            day = now.date()
            salt = (await anyio.to_thread.run_sync(self._fetch, day.isoformat())).encode()
            self._day, self._salt, self._hasher = day, salt, visitor_hasher(salt)
            # the C function copies the hasher a visitor: OpenSSL's HMAC object under the
            # module's wrapper where there is one (-0.8 us a redirect), else the wrapper
            inner = getattr(self._hasher, "_hmac", None) or self._hasher
            self.kept = (day.year, day.month, day.day, inner)
        return self._salt

    async def keyed(self, now: datetime) -> hmac.HMAC:
        """The visitor hasher of ``now``'s salt, the salt read first if need be."""
        await self.today(now)
        return self._hasher

    def _fetch(self, day: str) -> str:
        with self.db.transaction() as session:
            return SaltRepository(session).for_day(day)


class RedirectApp:
    """The redirect as an ASGI application. Its clicks are made by ``click``; the server's
    protocol makes the same clicks in C for the requests it answers itself (``web.direct``,
    ``web._direct``: byte for byte, tests/web/test_direct_c.py)."""

    def __init__(self, db: Database, writer: ClickSink) -> None:
        self.links = LinkCache(db)
        self.salts = VisitorSalts(db)
        self.writer = writer
        self.bots: _Kept[str, bool] = _Kept(_get_is_bot, 10_000)  # by user agent (a GET's)
        self._places = _Kept(click_id_place, 100_000)  # around the click id, by destination
        self._hours: _Kept[_Hour, str] = _Kept(_hour_key, 48)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _respond(send, 405, [(b"allow", b"GET, HEAD")])
            return
        link = await self.links.get(scope["path"][len(PREFIX) :])
        if link is None or not link.active:
            await _respond(send, 404, [(b"content-type", b"text/html; charset=utf-8")], _NOT_FOUND)
            return
        client = scope.get("client")
        now = datetime.now(UTC)
        hasher = await self.salts.keyed(now)
        row, location = self.click(
            link, method, scope["headers"], client[0] if client else "", now, hasher
        )
        await self.writer.submit(row)
        await _respond(send, 302, [(b"location", location), NO_STORE])

    def click(
        self,
        link: Link,
        method: str,
        headers: Iterable[tuple[bytes, bytes]],
        address: str,
        now: datetime,
        hasher: hmac.HMAC,
    ) -> tuple[dict[str, Any], bytes]:
        """The click to store for a visit to ``link``, and where to send the visitor."""
        agent = referer = b""
        for name, value in headers:  # the last of a repeated header, as a dict of them keeps
            if name == b"user-agent":
                agent = value
            elif name == b"referer":
                referer = value
        user_agent = agent.decode("latin-1")
        visitor = hash_visitor(hasher, address, user_agent)
        click_id = new_click_id()
        row = {
            "link_id": link.id,
            "org_id": link.org_id,
            "partner_org_id": link.partner_org_id,
            "click_id": click_id,
            "clicked_at": now,
            "visitor_hash": visitor,
            "visit_key": f"{visitor[:32]}:{self._hours[now.year, now.month, now.day, now.hour]}",
            "referer": referer.decode("latin-1")[:500] or None,
            "is_bot": method == "HEAD" or self.bots[user_agent],
        }
        before, after = self._places[link.destination]
        return row, f"{before}{click_id}{after}".encode()


_Hour = tuple[int, int, int, int]


def _get_is_bot(agent: str) -> bool:
    """``is_bot`` for a GET (a HEAD is a bot's whatever its agent)."""
    return is_bot(agent, "GET")


def _hour_key(hour: _Hour) -> str:
    """The hour a visit counts in, as ``YYYYMMDDHH`` (without strftime, which is slow)."""
    year, month, day, at = hour
    return f"{year:04d}{month:02d}{day:02d}{at:02d}"


class _Kept(dict[Key, Value]):
    """Values made once per key by ``make`` and kept (all dropped past ``limit`` keys): a
    lookup of a kept one is a plain dict lookup."""

    def __init__(self, make: Callable[[Key], Value], limit: int) -> None:
        super().__init__()
        self.make = make
        self.limit = limit

    def __missing__(self, key: Key) -> Value:
        if len(self) > self.limit:
            self.clear()
        value = self[key] = self.make(key)
        return value


NO_STORE = (b"cache-control", b"no-store")


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
