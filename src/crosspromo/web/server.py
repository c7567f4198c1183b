"""The HTTP protocol the server speaks: uvicorn's (httptools), with a deadline for a
request's headers, answering the redirects of ``/r/`` itself where it can (``web.direct``).

uvicorn waits as long as a client likes for the headers of a request (its keep-alive timer
stops at the first byte), so a few hundred connections sending a byte now and then hold the
server's sockets and memory indefinitely. Here a connection whose request headers are not
complete within ``CROSSPROMO_HEADER_TIMEOUT_SECONDS`` (default 10) of the request's first
byte, or of the connection's opening, is closed.

The keep-alive timeout (an idle connection closed ``timeout_keep_alive`` seconds after its
last answer) is kept with one timer a connection that looks, when it fires, at when the
connection went idle, instead of uvicorn's timer made at every answer and cancelled at the
next request: 2.3 us of a redirect's 18 us of Python (measured with the protocol driven
directly).
"""

from __future__ import annotations

import asyncio
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from crosspromo.web.direct import bound

HEADER_TIMEOUT_ENV = "CROSSPROMO_HEADER_TIMEOUT_SECONDS"
ACCESS_LOG_ENV = "CROSSPROMO_ACCESS_LOG"  # "1": `crosspromo serve --access-log`
CLICK_MOVER_ENV = "CROSSPROMO_CLICK_MOVER"  # "1": `serve` runs one; workers journal clicks


class HeaderDeadlineProtocol(HttpToolsProtocol):
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_seconds = float(os.environ.get(HEADER_TIMEOUT_ENV, "10"))  # from serve
        self._direct, self._proxy = bound(self.app)
        self._arm()

    _in_headers = False

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # armed only when a request's headers are still incomplete after what came: most
        # arrive whole, and then no timer is made and cancelled for them
        if self._in_headers and self._header_timer is None and not self.transport.is_closing():
            self._arm()

    def on_message_begin(self) -> None:
        # what uvicorn's does but its ASGI scope, made only for a request that goes to ASGI
        # (``_scoped``): a redirect answered here needs none (a dict, its nested dict and a
        # copy of the app's state: 1.3 us a redirect)
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        self._in_headers = True

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm()
        direct, cycle = self._direct, self.cycle
        if (  # a redirect, with no earlier request on this connection still unanswered
            direct is not None
            and (cycle is None or cycle.response_complete)
            and direct.answer(self, self._proxy)
        ):
            return
        self._scoped()
        super().on_headers_complete()

    def _scoped(self) -> None:
        """The request's ASGI scope, made by uvicorn's own ``on_message_begin`` (which starts
        the request afresh: what was parsed since is put back)."""
        url, headers, expect = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()
        self.url, self.expect_100_continue = url, expect
        self.headers = self.scope["headers"] = headers

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None
        super().connection_lost(exc)

    _idle_since: float | None = None  # when the last answer ended, nothing after it yet

    def _unset_keepalive_if_required(self) -> None:
        """Data came (uvicorn calls this first thing): no longer idle. The timer stays; it
        finds the connection busy when it fires."""
        self._idle_since = None

    def on_response_complete(self) -> None:
        """uvicorn's, but the keep-alive timer is one a connection (``_keep_alive_due``)."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._idle_since = None
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self._keep_alive_due
            )

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        if self._idle_since is None:
            return  # a request is in progress: armed again when it is answered
        left = self._idle_since + self.timeout_keep_alive - self.loop.time()
        if left > 0:  # answered again since the timer was made
            self.timeout_keep_alive_task = self.loop.call_later(left, self._keep_alive_due)
        else:
            self.timeout_keep_alive_handler()

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self._header_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()
