"""The HTTP protocol the server speaks: uvicorn's (httptools), with a deadline for a
request's headers, answering the redirects of ``/r/`` itself where it can (``web.direct``).

uvicorn waits as long as a client likes for the headers of a request (its keep-alive timer
stops at the first byte), so a few hundred connections sending a byte now and then hold the
server's sockets and memory indefinitely. Here a connection whose request headers are not
complete within ``CROSSPROMO_HEADER_TIMEOUT_SECONDS`` (default 10) of the request's first
byte, or of the connection's opening, is closed.
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
        super().on_message_begin()
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
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

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
