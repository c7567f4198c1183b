"""Golomb-Rice coded sets (Golomb 1966; Putze, Sanders & Singler 2007): a set of n values
hashed uniformly into [0, 2^bits) is sent sorted, as differences, each split into a unary
quotient and a k-bit remainder. It costs about bits - log2(n) + 1.5 bits per value instead of
``bits``. The two parts go in two streams, so both directions are vectorized."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crosspromo.errors import InvalidInputError

U64 = npt.NDArray[np.uint64]
MAX_BITS = 64


def prefixes(points: bytes, bits: int, width: int = 32) -> U64:
    """The first ``bits`` bits of each ``width``-byte value, as unsigned integers."""
    if not 1 <= bits <= MAX_BITS:
        raise ValueError(f"bits must be 1..{MAX_BITS}")
    rows = np.frombuffer(points, dtype=np.uint8).reshape(-1, width)[:, :8]
    head = rows.copy().view(">u8").ravel().astype(np.uint64)
    return head >> np.uint64(MAX_BITS - bits) if bits < MAX_BITS else head


def rice_parameter(count: int, bits: int) -> int:
    """k near log2(ln 2 * mean gap), the best Rice parameter for uniform values."""
    if count == 0:
        return 0
    mean_gap = 2.0**bits / count
    return max(0, min(bits, math.floor(math.log2(max(mean_gap * math.log(2), 1.0)))))


@dataclass(frozen=True, slots=True)
class GolombSet:
    count: int
    bits: int
    k: int
    data: bytes

    @property
    def remainder_bytes(self) -> int:
        return (self.count * self.k + 7) // 8


def encode(values: U64, bits: int) -> GolombSet:
    """Code the multiset ``values`` (each below 2^bits)."""
    ordered = np.sort(np.asarray(values, dtype=np.uint64))
    count = len(ordered)
    k = rice_parameter(count, bits)
    gaps = np.diff(ordered, prepend=np.uint64(0))
    quotients = (gaps >> np.uint64(k)).astype(np.int64)
    remainders = gaps & np.uint64((1 << k) - 1)
    shifts = np.arange(k - 1, -1, -1, dtype=np.uint64)
    rem_bits = ((remainders[:, None] >> shifts) & np.uint64(1)).astype(np.uint8)
    unary = np.ones(int(quotients.sum()) + count, dtype=np.uint8)
    unary[np.cumsum(quotients + 1) - 1] = 0
    data = np.packbits(rem_bits.ravel()).tobytes() + np.packbits(unary).tobytes()
    return GolombSet(count, bits, k, data)


def decode(coded: GolombSet) -> U64:
    """The sorted values of ``coded``; malformed data is refused."""
    count, k = coded.count, coded.k
    if count == 0:
        return np.zeros(0, dtype=np.uint64)
    if not 0 <= k <= coded.bits <= MAX_BITS:
        raise InvalidInputError("the coded set's parameters are out of range", field="set")
    split = coded.remainder_bytes
    if len(coded.data) < split:
        raise InvalidInputError("the coded set is truncated", field="set")
    rem_bits = np.unpackbits(np.frombuffer(coded.data[:split], dtype=np.uint8))[: count * k]
    remainders = np.zeros(count, dtype=np.uint64)
    columns = rem_bits.reshape(count, k) if k else rem_bits.reshape(count, 0)
    for j in range(k):
        remainders = (remainders << np.uint64(1)) | columns[:, j].astype(np.uint64)
    unary = np.unpackbits(np.frombuffer(coded.data[split:], dtype=np.uint8))
    stops = np.flatnonzero(unary == 0)[:count]
    if len(stops) < count:
        raise InvalidInputError("the coded set is truncated", field="set")
    quotients = np.diff(stops, prepend=-1) - 1
    gaps = (quotients.astype(np.uint64) << np.uint64(k)) | remainders
    values = np.cumsum(gaps, dtype=np.uint64)
    if coded.bits < MAX_BITS and count and int(values[-1]) >= 1 << coded.bits:
        raise InvalidInputError("the coded set holds values out of range", field="set")
    return values
