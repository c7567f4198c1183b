"""The direct redirect's answer in C (``_direct.c``)."""

from collections.abc import Mapping
from typing import Any

def answer(
    entries: dict[str, tuple[float, Any, tuple[bytes, bytes, bytes] | None]],
    url: bytes,
    head: bool,
    headers: list[tuple[bytes, bytes]],
    address: str,
    https: bool,
    keep_alive: bool,
    salt: tuple[int, int, int, Any] | None,
    bots: Mapping[str, bool],
    date: bytes,
    tails: tuple[bytes, bytes],
    at: tuple[int, int] | None = None,
    /,
) -> tuple[bytes, bytes] | None: ...
