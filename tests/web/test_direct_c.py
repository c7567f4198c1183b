"""The direct redirect's C function (``web._direct``) against the Python it stands for: on
generated requests, links and times, its journal line is ``journal.encode`` of the click
``RedirectApp.click`` makes, and its response is the 302 the Python answer wrote, byte for
byte; what it must leave to Python it leaves; its click ids are unguessable and not shared with
a forked child; it keeps no memory a call."""

from __future__ import annotations

import hmac
import os
import string
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crosspromo.domain.links import (
    BASE62,
    CLICK_ID_LENGTH,
    CLICK_TIME_LENGTH,
    Link,
    new_click_id,
    visitor_hasher,
)
from crosspromo.tracking import redirect as redirect_module
from crosspromo.tracking.journal import decode, encode
from crosspromo.tracking.redirect import RedirectApp, direct_parts
from crosspromo.web import _direct

_DATE = b"date: Fri, 04 Dec 2026 08:00:00 GMT\r\n"
_TAILS = (b"cache-control: no-store\r\ncontent-length: 0\r\n", b"x-https: 1\r\n")
_DESTINATIONS = [
    "https://brand.example/",
    "https://brand.example/p?utm_source=x#top",
    "https://brand.example/caf\u00e9/%C3%A9?q=1&r=\u00fc#fr\u00e4g",
    "https://xn--bcher-kva.example/a#",
]
_NAMES = [b"user-agent", b"referer", b"host", b"accept", b"user-agents", b"referrer"]


class _Redirect(RedirectApp):
    """RedirectApp's click, without a store or a writer (neither is used to make a click)."""

    def __init__(self) -> None:
        super().__init__(db=None, writer=None)  # type: ignore[arg-type]


def _link(link_id: int, org: int, partner: int, destination: str, active: bool = True) -> Link:
    return Link(link_id, org, partner, "code1234", destination, "", datetime.now(UTC), active)


def _python(
    app: RedirectApp,
    link: Link,
    head: bool,
    headers: list[tuple[bytes, bytes]],
    address: str,
    now: datetime,
    hasher: hmac.HMAC,
    click_id: str,
    https: bool,
    keep_alive: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[bytes, bytes]:
    """What the Python path made: the click's line, and the response the Python answer wrote
    (before the C function) for the same click id."""
    with monkeypatch.context() as patched:
        patched.setattr(redirect_module, "new_click_id", lambda: click_id)
        row, location = app.click(link, "HEAD" if head else "GET", headers, address, now, hasher)
    response = b"".join(
        (
            b"HTTP/1.1 302 Found\r\n",
            _DATE,
            b"location: ",
            location,
            b"\r\n",
            _TAILS[https],
            b"" if keep_alive else b"connection: close\r\n",
            b"\r\n",
        )
    )
    return encode(row), response


def _call(
    app: RedirectApp,
    entries: dict[str, Any],
    url: bytes,
    head: bool,
    headers: list[tuple[bytes, bytes]],
    address: str,
    salt: tuple[int, int, int, Any] | None,
    at: tuple[int, int],
    https: bool = False,
    keep_alive: bool = True,
) -> tuple[bytes, bytes] | None:
    return _direct.answer(
        entries, url, head, headers, address, https, keep_alive, salt, app.bots, _DATE, _TAILS, at
    )


def _entries(code: str, link: Link | None, expiry: float | None = None) -> dict[str, Any]:
    fresh = time.monotonic() + 60 if expiry is None else expiry
    return {code: (fresh, link, direct_parts(link))}


def _salt(now: datetime, hasher: hmac.HMAC) -> tuple[int, int, int, Any]:
    return (now.year, now.month, now.day, getattr(hasher, "_hmac", None) or hasher)


_header = st.tuples(st.sampled_from(_NAMES), st.binary(max_size=700))


@settings(max_examples=300, deadline=None)
@given(
    ids=st.tuples(*[st.integers(1, 2**62)] * 3),
    destination=st.sampled_from(_DESTINATIONS),
    head=st.booleans(),
    headers=st.lists(_header, max_size=6),
    address=st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    seconds=st.integers(0, 62**CLICK_TIME_LENGTH - 1),  # what a click id's time holds
    micro=st.integers(0, 999_999),
    salt=st.binary(max_size=40),
    https=st.booleans(),
    keep_alive=st.booleans(),
    query=st.sampled_from([b"", b"?a=1", b"#x", b"?a=%20#b"]),
)
def test_the_c_click_is_the_python_click_byte_for_byte(
    ids: tuple[int, int, int],
    destination: str,
    head: bool,
    headers: list[tuple[bytes, bytes]],
    address: str,
    seconds: int,
    micro: int,
    salt: bytes,
    https: bool,
    keep_alive: bool,
    query: bytes,
) -> None:
    app = _Redirect()
    link = _link(*ids, destination)
    now = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micro)
    hasher = visitor_hasher(salt)
    made = _call(
        app,
        _entries("code1234", link),
        b"/r/code1234" + query,
        head,
        headers,
        address,
        _salt(now, hasher),
        (seconds, micro),
        https,
        keep_alive,
    )
    assert made is not None
    line, response = made
    click_id = decode(line.rstrip(b"\n"))["click_id"]
    assert len(click_id) == CLICK_ID_LENGTH
    assert click_id[:CLICK_TIME_LENGTH] == new_click_id(seconds)[:CLICK_TIME_LENGTH]
    assert set(click_id) <= set(BASE62)
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected = _python(
            app, link, head, headers, address, now, hasher, click_id, https, keep_alive, monkeypatch
        )
    assert (line, response) == expected
    # and the wrapper's own hasher gives the same (where the C object is not reachable)
    wrapped = (now.year, now.month, now.day, hasher)
    again = _call(app, _entries("code1234", link), b"/r/code1234", head, headers, address,
                  wrapped, (seconds, micro), https, keep_alive)  # fmt: skip
    assert again is not None
    assert again[0].split(b",")[5] == line.split(b",")[5], "the same visitor hash"


def test_what_the_c_function_leaves_to_python() -> None:
    app = _Redirect()
    link = _link(1, 2, 3, "https://brand.example/")
    hasher = visitor_hasher(b"salt")
    now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    at = (int(now.timestamp()), 0)
    salt = _salt(now, hasher)

    def call(entries: dict[str, Any], url: bytes = b"/r/code1234", **changes: Any) -> Any:
        given = {"salt": salt, "at": at, **changes}
        return _call(app, entries, url, False, [], "1.2.3.4", given["salt"], given["at"])

    kept = _entries("code1234", link)
    assert call(kept) is not None
    assert call(kept, b"/r/other") is None, "a link not kept"
    assert call(_entries("code1234", None)) is None, "no such link: its 404 page"
    assert call(_entries("code1234", _link(1, 2, 3, "https://b.example/", False))) is None
    assert call(_entries("code1234", link, time.monotonic() - 1)) is None, "kept too long"
    assert call(kept, b"/r/code%31234") is None, "escaped"
    assert call(kept, "/r/c\u00f6de".encode()) is None, "not ASCII"
    assert call(kept, b"/x/code1234") is None, "not a redirect"
    assert call(kept, b"/r") is None
    assert call(kept, salt=None) is None, "no salt kept yet"
    assert call(kept, salt=(2026, 12, 3, hasher)) is None, "yesterday's salt"
    assert call(kept, at=(at[0] + 86_400, 0)) is None, "a new day"
    unsafe = _link(1, 2, 3, "https://brand.example/\r\nset-cookie: a=b")
    assert direct_parts(unsafe) is None
    assert call(_entries("code1234", unsafe)) is None, "not a header's value: ASGI refuses it"


def test_bad_arguments_are_refused_not_crashed_on() -> None:
    app = _Redirect()
    link = _link(1, 2, 3, "https://brand.example/")
    now = datetime(2026, 12, 4, tzinfo=UTC)
    salt = _salt(now, visitor_hasher(b"s"))
    at = (int(now.timestamp()), 0)
    kept = _entries("code1234", link)
    with pytest.raises(TypeError, match="header"):
        _call(app, kept, b"/r/code1234", False, [(b"user-agent", "text")], "a", salt, at)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="header"):
        _call(app, kept, b"/r/code1234", False, [(b"a", b"b", b"c")], "a", salt, at)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="url"):
        _call(app, kept, "/r/code1234", False, [], "a", salt, at)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="entry"):
        _call(app, {"code1234": (1.0, link)}, b"/r/code1234", False, [], "a", salt, at)
    with pytest.raises(TypeError, match="salt"):
        _call(app, kept, b"/r/code1234", False, [], "a", [2026, 12, 4, None], at)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="at"):
        _call(app, kept, b"/r/code1234", False, [], "a", salt, [at[0], 0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at"):
        _call(app, kept, b"/r/code1234", False, [], "a", salt, (at[0], 1_000_000))
    with pytest.raises(ValueError, match="does not fit"):
        _call(app, kept, b"/r/code1234", False, [], "a", salt, (62**CLICK_TIME_LENGTH, 0))
    with pytest.raises(ValueError, match="SHA-256"):
        _call(app, kept, b"/r/code1234", False, [], "a", (*salt[:3], _NotAnHmac()), at)
    with pytest.raises(TypeError, match="arguments"):
        _direct.answer(kept, b"/r/code1234")  # type: ignore[call-arg]


class _NotAnHmac:
    def copy(self) -> _NotAnHmac:
        return self

    def update(self, data: bytes) -> None:
        pass

    def hexdigest(self) -> str:
        return "short"


def _click_ids(count: int) -> list[str]:
    app = _Redirect()
    link = _link(1, 2, 3, "https://brand.example/")
    now = datetime.now(UTC)
    salt = _salt(now, visitor_hasher(b"s"))
    entries = _entries("code1234", link)
    ids = []
    for _ in range(count):
        made = _call(app, entries, b"/r/code1234", True, [], "a", salt, (int(now.timestamp()), 0))
        assert made is not None
        ids.append(decode(made[0].rstrip(b"\n"))["click_id"])
    return ids


def test_click_ids_are_unique_and_their_characters_even() -> None:
    """18 random base62 characters each, each character as likely as any other: a byte taken
    modulo 62 without dropping those from 248 up would make the first eight characters a
    quarter more likely than the rest."""
    ids = _click_ids(20_000)
    assert len(set(ids)) == len(ids)
    counts = Counter(character for click_id in ids for character in click_id[CLICK_TIME_LENGTH:])
    expected = len(ids) * (CLICK_ID_LENGTH - CLICK_TIME_LENGTH) / 62
    assert set(counts) == set(string.digits + string.ascii_letters)
    assert max(abs(n - expected) / expected for n in counts.values()) < 0.1, counts


def test_a_forked_child_does_not_hand_out_its_parents_click_ids() -> None:
    _click_ids(1)  # the random bytes read and kept
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        try:
            os.write(writing, _click_ids(1)[0].encode())
        finally:
            os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    childs = os.read(reading, 100).decode()
    os.close(reading)
    assert len(childs) == CLICK_ID_LENGTH
    assert childs[CLICK_TIME_LENGTH:] != _click_ids(1)[0][CLICK_TIME_LENGTH:]


def test_the_c_function_keeps_no_memory() -> None:
    """Every object a call makes is released (a missed reference would keep each answer)."""
    app = _Redirect()
    now = datetime.now(UTC)
    salt, at = _salt(now, visitor_hasher(b"s")), (int(now.timestamp()), 0)
    entries = _entries("code1234", _link(1, 2, 3, "https://brand.example/"))
    headers = [(b"user-agent", b"Mozilla/5.0 \xe9"), (b"referer", b"https://a.example/\n")]

    def calls(count: int) -> None:
        for _ in range(count):
            assert _call(app, entries, b"/r/code1234", False, headers, "1.2.3.4", salt, at)

    calls(100)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        calls(20_000)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 100_000, f"{after - before} bytes kept by 20,000 calls"
