"""Tracking links: codes, destinations with UTM tags, the allow-list that prevents open
redirects, and telling bots from people."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import idna

from crosspromo.errors import InvalidInputError

BASE62 = string.digits + string.ascii_letters
_ORDERED = "".join(sorted(BASE62))  # in ASCII order: digits, capitals, small letters
CODE_LENGTH = 8  # 62**8 ≈ 2.2e14 codes: collisions are rare and retried
CLICK_ID_LENGTH = 24  # the second it was made (CLICK_TIME_LENGTH), then 18 random: 107 bits
CLICK_TIME_LENGTH = 6  # 62**6 seconds: beyond the year 3700
CUSTOM_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
UNSAFE_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")  # browsers strip or drop these
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")
CLICK_PARAM = "cp_click"

# Crawlers, monitors and link-preview fetchers (chat and social unfurlers). Matched
# case-insensitively anywhere in the User-Agent.
_BOT_MARKERS = (
    "bot", "crawl", "spider", "slurp", "preview", "fetcher", "facebookexternalhit",
    "facebookcatalog", "meta-externalagent", "whatsapp", "telegram", "slack", "discord",
    "skypeuripreview", "linkedin", "embedly", "pinterest", "vkshare", "w3c_validator",
    "quora link preview", "redditbot", "applebot", "bingpreview", "headless", "python-requests",
    "python-urllib", "go-http-client", "curl/", "wget/", "httpclient", "okhttp", "axios/",
    "node-fetch", "lighthouse", "pingdom", "uptime", "monitor", "scanner",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Link:
    id: int
    org_id: int
    partner_org_id: int
    code: str
    destination: str
    campaign: str
    created_at: datetime
    active: bool = True


class _RandomPool:
    """Bytes from the OS random source, read 4 KiB at a time: one system call serves hundreds
    of codes (a call per code is measurable on the redirect path)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._buffer = b""
        self._lock = threading.Lock()

    def take(self, count: int) -> bytes:
        with self._lock:
            if len(self._buffer) < count:
                self._buffer = secrets.token_bytes(max(self.size, count))
            chunk, self._buffer = self._buffer[:count], self._buffer[count:]
            return chunk


_POOL = _RandomPool()


_SPREAD = 62 * 4  # random bytes below this fall evenly on the 62 characters; the rest are dropped
_CHARACTERS = bytes(BASE62.encode()[b % 62] if b < _SPREAD else 0 for b in range(256))
_DROPPED = bytes(range(_SPREAD, 256))


def new_code(length: int = CODE_LENGTH) -> str:
    """``length`` random base62 characters (from the OS CSPRNG, pooled), each equally likely:
    a byte is a character where it falls below 248, and is dropped otherwise (3 in 100)."""
    code = b""
    while len(code) < length:
        code += _POOL.take(length + length // 8 + 2).translate(_CHARACTERS, _DROPPED)
    return code[:length].decode("ascii")


def new_click_id(at: float | None = None) -> str:
    """A click id: the whole second ``at`` (Unix time, default now) in base62, fixed width, then
    random base62 characters. Ids made later sort after, so the store's unique index on them
    grows at its end, as it does for the clicks' times: with random ids each insert landed on
    a page of its own, and on SQLite a commit of 1,000 clicks into a 600,000-click table wrote
    23 ms of pages to the log, against 0.7 ms for time-ordered ids, its inserts 12 us a click
    against 2.8 (``benchmarks/click_ids.py``). The random part (18 characters, 107 bits) keeps
    ids unguessable; the time part tells no one more than when they clicked."""
    global _click_second
    second = int(time.time() if at is None else at)
    kept, prefix = _click_second  # one tuple: threads see a second and its own prefix
    if kept != second:
        prefix = _base62(second, CLICK_TIME_LENGTH)
        _click_second = (second, prefix)
    return prefix + new_code(CLICK_ID_LENGTH - CLICK_TIME_LENGTH)


_click_second = (-1, "")  # the last second an id was made in, and its prefix


def _base62(number: int, width: int) -> str:
    """``number`` in ``width`` base62 characters, most significant first, the characters in
    ASCII's order (digits, capitals, small letters): fixed-width strings sort as the numbers
    do, in Python, SQLite and PostgreSQL's C collation alike."""
    if not 0 <= number < 62**width:
        raise ValueError(f"{number} does not fit in {width} base62 characters")
    characters = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        characters.append(_ORDERED[digit])
    return "".join(reversed(characters))


def check_custom_slug(slug: str) -> str:
    if not CUSTOM_SLUG.match(slug):
        raise InvalidInputError(
            f"slug {slug!r} is invalid: 3-64 letters, digits, '-' or '_', starting with a "
            "letter or digit",
            field="slug",
        )
    return slug


def ascii_host(host: str) -> str | None:
    """``host`` as a browser resolves it: IDNA (UTS #46) A-labels, lower-case, no trailing
    dot; None when a browser would refuse it."""
    value = host.strip().rstrip(".")
    if not value or "%" in value:
        return None
    try:
        return idna.encode(value, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return None if not value.isascii() else value.lower()


def normalize_domain(domain: str) -> str:
    """A bare host name, lower-case, without scheme, port or trailing dot; international names
    in their A-label (xn--) form, as browsers look them up."""
    value = ascii_host(domain.strip().lower()) or ""
    if not DOMAIN.match(value):
        raise InvalidInputError(
            f"{domain!r} is not a domain name like shop.example.com", field="domain"
        )
    return value


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """True when ``host`` is an allowed domain or a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in allowed)


def unambiguous_url(url: str, what: str, field: str) -> tuple[SplitResult, str]:
    """``url`` split, and its host, when it is an http(s) URL that every client reads the
    same way: no backslashes (browsers read them as slashes), spaces or control characters
    (they strip them), and no credentials (``a.example@b.example`` goes to b). ``what`` names
    the URL in the error, ``field`` is the input it came from."""
    if "\\" in url or UNSAFE_URL_CHARS.search(url):
        raise InvalidInputError(
            f"{what} must not contain backslashes, spaces or control characters", field=field
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"{what} {url!r} must be an http(s) URL", field=field)
    if "@" in parts.netloc:
        raise InvalidInputError(f"{what} must not carry credentials", field=field)
    return parts, parts.hostname


def tagged_destination(
    url: str,
    allowed: frozenset[str],
    *,
    source: str,
    medium: str = "partner",
    campaign: str = "",
    content: str = "",
) -> str:
    """Check ``url`` against the allow-list and add UTM tags it does not already carry.

    Tags already present in the URL win (a merchant's own tagging is never clobbered), other
    query parameters and the fragment are kept in order. The host is checked as a browser
    reads it: a URL a browser would parse differently from us (backslashes, control
    characters, credentials, an encoded host) is refused outright.
    """
    parts, hostname = unambiguous_url(url.strip(), "destination", "destination")
    host = ascii_host(hostname)
    if host is None or not host_allowed(host, allowed):
        listed = ", ".join(sorted(allowed)) or "none yet"
        raise InvalidInputError(
            f"destination host {hostname!r} is not on this organization's allow-list "
            f"({listed}); add it with `crosspromo orgs domains add`",
            field="destination",
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    wanted = dict(zip(UTM_KEYS, (source, medium, campaign, content), strict=True))
    query += [(k, v) for k, v in wanted.items() if v and k not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_click_id(destination: str, click_id: str) -> str:
    """The destination with our click id appended, for the merchant to send back."""
    before, after = click_id_place(destination)
    return f"{before}{click_id}{after}"


def click_id_place(destination: str) -> tuple[str, str]:
    """What comes before and after the click id in ``with_click_id(destination, ...)`` (kept
    per link on the redirect's path)."""
    separator = "&" if urlsplit(destination).query else "?"
    base, hash_mark, fragment = destination.partition("#")
    return f"{base}{separator}{CLICK_PARAM}=", f"{hash_mark}{fragment}"


def visitor_hash(salt: bytes, address: str, user_agent: str) -> str:
    """One visitor for the day the salt belongs to: a keyed hash of the address and agent,
    never the address itself (the salt is deleted the next day)."""
    return hash_visitor(visitor_hasher(salt), address, user_agent)


def visitor_hasher(salt: bytes) -> hmac.HMAC:
    """The keyed hash of ``visitor_hash`` before any data: kept for the day, copied a visitor
    (a copy skips the key's set-up)."""
    return hmac.new(salt, digestmod=hashlib.sha256)


def hash_visitor(hasher: hmac.HMAC, address: str, user_agent: str) -> str:
    """``visitor_hash`` with the salt's ``visitor_hasher``."""
    keyed = hasher.copy()
    keyed.update(f"{address}|{user_agent}".encode())
    return keyed.hexdigest()


def is_bot(user_agent: str, method: str) -> bool:
    """Crawlers, link-preview fetchers, scripts, empty agents and every HEAD request."""
    if method == "HEAD" or not user_agent.strip():
        return True
    agent = user_agent.lower()
    return any(marker in agent for marker in _BOT_MARKERS)
