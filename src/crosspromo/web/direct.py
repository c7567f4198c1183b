"""``GET /r/{code}`` answered by the server's protocol itself, without the ASGI machinery.

The redirect is the request every customer of every partner makes; through ASGI each one costs
a scope dict, a task, two coroutines and their messages, which measured two thirds of the
event loop's time. When the protocol has parsed a request's headers (``web.server``), a GET or
HEAD of ``/r/...`` whose link and today's visitor salt are already kept is answered here: the
click's journal line and the whole 302 (security headers, date, ``connection: close`` where
due) are made by one C function (``_direct.c``: the click ``RedirectApp.click`` makes on the
ASGI path, encoded as ``journal.encode`` does, byte for byte), the line handed to the click
writer, and the 302 written from a callback once the click is committed (the protocol driven
directly: 5.0-5.5 us a redirect in all, against 14-19 with the click made in Python).
Everything else goes on to ASGI: a link or salt not yet read (the ASGI path reads and keeps
it), an unknown link (its 404 page), another method (405), an escaped path, a connection with
an earlier request unanswered (pipelining keeps its order there). Proxy headers from a trusted
proxy are applied by uvicorn's own middleware, as they are for every other request.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from crosspromo.tracking.redirect import NO_STORE, PREFIX, RedirectApp
from crosspromo.web import _direct
from crosspromo.web.fast import FastPaths
from crosspromo.web.headers import SecurityHeadersMiddleware

log = logging.getLogger("crosspromo.tracking")
_PREFIX = PREFIX.encode()
_FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto")
_FAILED = (
    b"HTTP/1.1 500 Internal Server Error\r\n",
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 21\r\n"
    b"connection: close\r\n\r\nInternal Server Error",
)


class DirectRedirect:
    """The redirect's fast answers, for the server's protocol (``answer``)."""

    def __init__(self, redirect: RedirectApp, security: SecurityHeadersMiddleware) -> None:
        self.redirect = redirect
        self._defaults: list[tuple[bytes, bytes]] | None = None  # the server's, and as text:
        self._date = b""  # the date and any headers the server adds to every answer
        # the headers after the location, over http and https: security headers included
        http_tail, https_tail = (
            b"".join(
                b"%s: %s\r\n" % header
                for header in [
                    NO_STORE,
                    (b"content-length", b"0"),
                    *security.added("/r/", https=https),
                ]
            )
            for https in (False, True)
        )
        self._tails = (http_tail, https_tail)

    def answer(self, protocol: Any, proxy: ProxyHeadersMiddleware | None) -> bool:
        """Answer the request whose headers ``protocol`` (uvicorn's httptools protocol) has
        just parsed; False, having changed nothing, when ASGI is to answer it. ``proxy``:
        the proxy-headers step of ``bound``."""
        url: bytes = protocol.url
        if not url.startswith(_PREFIX):
            return False
        parser = protocol.parser
        method = parser.get_method()
        if (method != b"GET" and method != b"HEAD") or parser.should_upgrade():
            return False
        redirect = self.redirect
        if not redirect.writer.running:  # starting or stopping: ASGI answers
            return False
        headers: list[tuple[bytes, bytes]] = protocol.headers
        client, scheme = protocol.client, protocol.scheme
        if proxy is not None and client:
            for name, _ in headers:  # a loop, not any(): no generator made a request
                if name in _FORWARDED:
                    client, scheme = _through_proxy(proxy, client, scheme, headers)
                    break
        keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
        defaults = protocol.server_state.default_headers  # a new list each second (the date)
        if defaults is not self._defaults:
            self._date = b"".join(b"%s: %s\r\n" % h for h in defaults)
            self._defaults = defaults
        made = _direct.answer(
            redirect.links.entries,
            url,
            method == b"HEAD",
            headers,
            client[0] if client else "",
            scheme == "https",
            keep_alive,
            redirect.salts.kept,
            redirect.bots,
            self._date,
            self._tails,
        )
        if made is None:  # a link or salt not kept (or gone stale): ASGI reads it
            return False
        line, response = made
        answer = _Answer(protocol, keep_alive, response, self._date)
        redirect.writer.then_line(line, answer.committed)  # called once the click is stored
        protocol.cycle = answer  # what uvicorn asks of a request in progress, answered then
        return True


class _Answer:
    """The stand-in for uvicorn's request cycle while the click is written: the attributes
    its protocol reads and sets (a body is ignored, as the redirect ignores it), and the
    callback that writes the 302 once the click is committed."""

    __slots__ = (
        "body",
        "date",
        "disconnected",
        "keep_alive",
        "message_event",
        "more_body",
        "protocol",
        "response",
        "response_complete",
    )

    def __init__(self, protocol: Any, keep_alive: bool, response: bytes, date: bytes) -> None:
        self.protocol = protocol
        self.keep_alive = keep_alive  # the server's shutdown sets it False: closed after
        self.response = response
        self.date = date
        self.response_complete = False
        self.disconnected = False
        self.more_body = True
        self.body = bytearray()
        self.message_event = self

    def set(self) -> None:
        """``message_event.set()``: nothing waits on this request's body."""

    def committed(self, error: BaseException | None) -> None:
        self.response_complete = True
        transport = self.protocol.transport
        if self.disconnected or transport.is_closing():
            return  # the visitor went away; the click is stored all the same
        if error is not None:
            log.error("redirect answered 500: %s", error)
            transport.write(_FAILED[0] + self.date + _FAILED[1])
            transport.close()
            return
        transport.write(self.response)
        if not self.keep_alive:
            transport.close()
            return
        self.protocol.on_response_complete()  # the next pipelined request, or keep-alive


async def _unchanged(scope: Scope, receive: Receive, send: Send) -> None:
    """The end of the proxy middleware's chain here: its changes stay in the scope."""


def bound(app: Any) -> tuple[DirectRedirect | None, ProxyHeadersMiddleware | None]:
    """The direct redirect of the server ``app`` (uvicorn's loaded application), if it has
    one, and a copy of uvicorn's proxy-headers middleware in front of it (if any) that
    changes a scope and goes no further."""
    proxy = None
    while app is not None and not isinstance(app, FastPaths):
        if isinstance(app, ProxyHeadersMiddleware):
            proxy = copy.copy(app)
            proxy.app = _unchanged  # type: ignore[assignment]
        app = getattr(app, "app", None)
    return (app.direct if app is not None else None), proxy


def _through_proxy(
    proxy: ProxyHeadersMiddleware,
    client: tuple[str, int],
    scheme: str,
    headers: list[tuple[bytes, bytes]],
) -> tuple[tuple[str, int], str]:
    """The client and scheme uvicorn's proxy-headers middleware makes of this request."""
    scope: dict[str, Any] = {"type": "http", "client": client, "scheme": scheme, "headers": headers}
    step = proxy(scope, _no_receive, _no_send)  # type: ignore[arg-type]
    with contextlib.suppress(StopIteration):
        step.send(None)  # it never waits: it finishes at once
    return scope["client"], scope["scheme"]


async def _no_receive() -> Any:
    raise RuntimeError("not read")


async def _no_send(message: Any) -> None:
    raise RuntimeError("not sent")
