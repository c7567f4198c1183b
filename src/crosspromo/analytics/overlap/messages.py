"""The wire form of one protocol message: a small JSON header and a binary body, sealed with
HMAC-SHA256 under the session's key. A message is accepted only for its own session and step,
once, intact and within the size limit; anything else is refused before it is read."""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from dataclasses import dataclass
from typing import Any

from crosspromo.errors import ProtocolMessageError

MAGIC = b"XPSI\x01"
TAG = 32
_LENGTHS = struct.Struct(">IQ")
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
_MAX_HEADER = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Message:
    session: str
    step: int
    header: dict[str, Any]
    body: bytes = b""

    def seal(self, key: bytes) -> bytes:
        header = json.dumps(
            {"session": self.session, "step": self.step, **self.header},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        framed = MAGIC + _LENGTHS.pack(len(header), len(self.body)) + header + self.body
        return framed + hmac.digest(key, framed, hashlib.sha256)


def open_message(
    data: bytes, key: bytes, session: str, step: int, max_bytes: int = DEFAULT_MAX_BYTES
) -> Message:
    """The message in ``data`` if it is step ``step`` of ``session``, sealed under ``key``."""
    if len(data) > max_bytes:
        raise ProtocolMessageError(
            f"message of {len(data):,} bytes is over this session's limit of {max_bytes:,}",
            field="message",
        )
    start = len(MAGIC) + _LENGTHS.size
    if len(data) < start + TAG or not data.startswith(MAGIC):
        raise ProtocolMessageError("not a crosspromo overlap message", field="message")
    framed, tag = data[:-TAG], data[-TAG:]
    if not hmac.compare_digest(tag, hmac.digest(key, framed, hashlib.sha256)):
        raise ProtocolMessageError(
            "message seal does not verify: altered, or not sealed with this session's key",
            field="message",
        )
    header_len, body_len = _LENGTHS.unpack(framed[len(MAGIC) : start])
    if header_len > _MAX_HEADER or start + header_len + body_len != len(framed):
        raise ProtocolMessageError("message lengths do not add up", field="message")
    try:
        header = json.loads(framed[start : start + header_len])
    except ValueError:
        raise ProtocolMessageError("message header is not JSON", field="message") from None
    if not isinstance(header, dict):
        raise ProtocolMessageError("message header is not an object", field="message")
    if header.pop("session", None) != session:
        raise ProtocolMessageError("message belongs to another session", field="message")
    got = header.pop("step", None)
    if got != step:
        raise ProtocolMessageError(
            f"expected step {step} of the protocol, got step {got} (replayed or out of order)",
            field="message",
        )
    return Message(session, step, header, framed[start + header_len :])
