"""Commutative blinding over Curve25519 (X25519, RFC 7748), batched and spread over cores.

An identifier is hashed to a u-coordinate (SHA-512 with a domain tag, top bit cleared, as
X25519 reads it). Raising it to a party's secret scalar is X25519(secret, u); since scalar
multiplication commutes, X25519(b, X25519(a, H(x))) = X25519(a, X25519(b, H(x))), so two
parties can compare doubly blinded values without either seeing the other's identifiers
(the ECDH private set intersection of Huberman, Franklin & Hogg 1999, as in De Cristofaro,
Gasti & Tsudik 2012 for cardinality). A u-coordinate on the quadratic twist is as good: the
curve is twist-secure and the clamped scalars are multiples of both cofactors.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from nacl.bindings import crypto_scalarmult
from nacl.exceptions import RuntimeError as NaclRuntimeError

from crosspromo.errors import InvalidInputError

POINT = 32
DOMAIN = b"crosspromo/psi/v1\x00"
_PARALLEL_FROM = 2048  # below this threads cost more than they save
_CHUNKS_PER_WORKER = 4


def new_secret() -> bytes:
    """A fresh secret scalar (X25519 clamps it)."""
    return secrets.token_bytes(POINT)


def hash_to_u(identifier: bytes) -> bytes:
    digest = bytearray(hashlib.sha512(DOMAIN + identifier).digest()[:POINT])
    digest[31] &= 0x7F
    return bytes(digest)


def _blind(secret: bytes, identifiers: Sequence[bytes]) -> bytes:
    return b"".join(crypto_scalarmult(secret, hash_to_u(i)) for i in identifiers)


def _reblind(secret: bytes, points: bytes) -> bytes:
    out = []
    for start in range(0, len(points), POINT):
        try:
            out.append(crypto_scalarmult(secret, points[start : start + POINT]))
        except NaclRuntimeError:  # a low-order point: nobody's honest blinding gives one
            raise InvalidInputError(
                f"blinded value {start // POINT} is not a valid point", field="points"
            ) from None
    return b"".join(out)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def _spans(total: int, workers: int) -> list[tuple[int, int]]:
    step = max(1, -(-total // (workers * _CHUNKS_PER_WORKER)))
    return [(s, min(s + step, total)) for s in range(0, total, step)]


class Blinder:
    """One party's secret scalar and the threads that apply it (started on the first large
    batch, stopped by ``close`` or the ``with`` block). libsodium runs without the GIL (cffi
    lets go of it), so threads use every core without the cost and hazards of processes."""

    def __init__(self, secret: bytes | None = None, workers: int | None = None) -> None:
        self.secret = secret or new_secret()
        self.workers = workers or default_workers()
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Blinder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _parallel(self, count: int) -> ThreadPoolExecutor | None:
        if self.workers == 1 or count < _PARALLEL_FROM:
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="blind")
        return self._pool

    def blind(self, identifiers: Sequence[bytes]) -> bytes:
        """X25519(secret, H(i)) of each identifier, concatenated in order (32 bytes each)."""
        pool = self._parallel(len(identifiers))
        if pool is None:
            return _blind(self.secret, identifiers)
        spans = _spans(len(identifiers), self.workers)
        parts = [identifiers[a:b] for a, b in spans]
        return b"".join(pool.map(_blind, [self.secret] * len(spans), parts))

    def reblind(self, points: bytes) -> bytes:
        """X25519(secret, p) of each 32-byte point, in order; a low-order point is refused."""
        if len(points) % POINT:
            raise InvalidInputError(f"blinded values must be {POINT} bytes each", field="points")
        count = len(points) // POINT
        pool = self._parallel(count)
        if pool is None:
            return _reblind(self.secret, points)
        spans = _spans(count, self.workers)
        parts = [points[a * POINT : b * POINT] for a, b in spans]
        return b"".join(pool.map(_reblind, [self.secret] * len(spans), parts))
