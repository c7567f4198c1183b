"""Secrets handling: password hashes (argon2), API keys (shown once, stored as a hash),
and keyed hashes of customer identifiers (per organization, so tenants cannot be linked)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

API_KEY_PREFIX = "cp"
_PREFIX_CHARS = 10

_password_hash = PasswordHash((Argon2Hasher(),))


def hash_password(password: str) -> str:
    return _password_hash.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """True when ``password`` matches; a malformed stored hash never matches."""
    try:
        return _password_hash.verify(password, password_hash)
    except Exception:
        return False


def dummy_verify() -> None:
    """Spend the same time as a real check, so unknown users cannot be told apart by timing."""
    verify_password("x", _dummy_hash())


@functools.cache
def _dummy_hash() -> str:  # made on first use: hashing costs 0.16 s of every process's start
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly made key: ``plaintext`` is shown once; ``prefix`` and ``digest`` are stored."""

    plaintext: str
    prefix: str
    digest: str


def generate_api_key() -> NewApiKey:
    prefix = secrets.token_hex(_PREFIX_CHARS // 2)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{API_KEY_PREFIX}_{prefix}_{secret}"
    return NewApiKey(plaintext=plaintext, prefix=prefix, digest=token_digest(plaintext))


def token_digest(plaintext: str) -> str:
    """What is stored of an API key, login or invitation token: SHA-256 suffices, as they
    carry 256 random bits, unlike passwords."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def parse_api_key(plaintext: str) -> str | None:
    """The lookup prefix of a well-formed key, or None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != _PREFIX_CHARS:
        return None
    return parts[1]


def digests_match(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def customer_id_hash(secret_key: str, org_id: int, external_id: str) -> str:
    """Keyed hash of a normalized external id, with a key derived per organization."""
    return customer_id_hashes(secret_key, org_id, [external_id])[0]


def customer_id_hashes(secret_key: str, org_id: int, external_ids: Iterable[str]) -> list[str]:
    """:func:`customer_id_hash` of many ids at once, as stored (hex)."""
    return [d.hex() for d in customer_id_digests(secret_key, org_id, external_ids)]


def customer_id_digests(secret_key: str, org_id: int, external_ids: Iterable[str]) -> list[bytes]:
    """HMAC-SHA256 digests of many normalized external ids under the organization's key.

    Written out (RFC 2104: H(K^opad || H(K^ipad || m))) with the padded keys prepared once,
    which makes a million ids take a fraction of a second."""
    org_key = hmac.digest(secret_key.encode(), f"customer-id/{org_id}".encode(), "sha256")
    padded = org_key.ljust(64, b"\0")
    inner = bytes(b ^ 0x36 for b in padded)
    outer = bytes(b ^ 0x5C for b in padded)
    sha256 = hashlib.sha256
    return [
        sha256(outer + sha256(inner + normalize_external_id(e).encode()).digest()).digest()
        for e in external_ids
    ]


def normalize_external_id(external_id: str) -> str:
    """Trim; e-mail addresses are compared case-insensitively."""
    value = external_id.strip()
    return value.lower() if "@" in value else value
