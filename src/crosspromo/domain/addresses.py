"""Which network addresses a server-side request may go to.

Host names are read as browsers and HTTP clients read them (the WHATWG URL standard): a host
whose last label is a number is an IPv4 address in any of its spellings - ``127.1``,
``0x7f000001``, ``2130706433``, ``0177.0.0.1``, ``0`` - and is checked as that address.
Only globally routable unicast addresses are public: loopback, private, link-local, shared
(CGNAT), multicast, reserved, unspecified and documentation ranges are not, nor IPv6
addresses that embed one of those (IPv4-mapped, 6to4, Teredo, NAT64).
"""

from __future__ import annotations

import ipaddress
import re

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_HEX = re.compile(r"^0[xX][0-9a-fA-F]*$")
_DEC = re.compile(r"^[0-9]+$")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class NotAnAddress(ValueError):
    """The host looks like an IPv4 address but is not a valid one (a browser refuses it)."""


def _number(part: str) -> int:
    if _HEX.match(part):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        if not re.match(r"^[0-7]+$", part):
            raise NotAnAddress(part)
        return int(part, 8)
    if not _DEC.match(part):
        raise NotAnAddress(part)
    return int(part)


def host_address(host: str) -> Address | None:
    """The address ``host`` stands for when it is an IP literal in any spelling, else None;
    NotAnAddress when it ends in a number but is no valid IPv4 address."""
    value = host.strip().strip("[]").lower()
    if ":" in value:
        try:
            return ipaddress.IPv6Address(value.split("%")[0])
        except ValueError:
            raise NotAnAddress(host) from None
    parts = value.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    last = parts[-1] if parts else ""
    if not (_DEC.match(last) or _HEX.match(last)):
        return None
    if len(parts) > 4 or any(p == "" for p in parts):
        raise NotAnAddress(host)
    numbers = [_number(p) for p in parts]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise NotAnAddress(host)
    value_int = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value_int += n * 256 ** (3 - i)
    return ipaddress.IPv4Address(value_int)


def is_public(address: Address) -> bool:
    """Whether ``address`` is a globally routable unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = (address.ipv4_mapped or address.sixtofour
                    or (address.teredo[1] if address.teredo else None))  # fmt: skip
        if embedded is not None:
            return is_public(embedded)
        if address in _NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return bool(address.is_global) and not address.is_multicast and not address.is_reserved


def is_local_name(host: str) -> bool:
    """``localhost`` and names under it, which resolvers answer with loopback."""
    name = host.strip().rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")
