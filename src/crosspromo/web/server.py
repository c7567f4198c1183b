"""The HTTP protocol the server speaks: uvicorn's (httptools), with a deadline for a
request's headers.

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

HEADER_TIMEOUT_ENV = "CROSSPROMO_HEADER_TIMEOUT_SECONDS"
ACCESS_LOG_ENV = "CROSSPROMO_ACCESS_LOG"  # "1": `crosspromo serve --access-log`


class HeaderDeadlineProtocol(HttpToolsProtocol):
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        seconds = float(os.environ.get(HEADER_TIMEOUT_ENV, "10"))  # set by `crosspromo serve`
        self._header_timer = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()
