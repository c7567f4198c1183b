"""The approximate mode: a coordinated sample (Broder 1997's min-wise idea in its threshold
form; Cohen & Kaplan 2007) put through the exact protocol.

Both sides keep the identifiers whose keyed 64-bit hash falls below ``rate * 2^64``. The same
key picks the same identifiers on both sides, so each shared identifier is in both samples
with probability ``rate`` and the sampled intersection c is Binomial(I, rate). I is estimated
as c / rate with standard error sqrt(c (1 - rate)) / rate; the bound reported is the 99%
half-width. The samples travel blinded like any exact run, so the sketch reveals no more
than the counts. The hash is a polynomial over the bytes, finished with SplitMix64's mixer:
fast over millions of strings, and only ever used to choose the sample.
"""

from __future__ import annotations

import hashlib
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pyarrow as pa

U64 = npt.NDArray[np.uint64]
Z99 = 2.5758293035489004  # the two-sided 99% normal quantile
TARGET_SAMPLE = 80_000
_CHUNK = 262_144
_MULT = np.uint64(0x100000001B3 | (1 << 40) | 1)
_MAX_LENGTH = 4096
_THREADS = 2


def _mix(h: U64) -> U64:
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def keyed_hashes(values: pa.Array | pa.ChunkedArray, key: bytes) -> U64:
    """A 64-bit keyed hash of each string in ``values`` (UTF-8 bytes), chunks on threads
    (numpy lets go of the GIL)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    count = len(values)
    out = np.empty(count, dtype=np.uint64)
    if count == 0:
        return out
    buffers = values.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[values.offset : values.offset + count + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    if (lengths <= 0).any() or lengths.max() > _MAX_LENGTH:
        raise ValueError(f"identifiers must hold 1 to {_MAX_LENGTH} bytes")
    words = np.frombuffer(hashlib.sha256(b"sample/" + key).digest(), dtype="<u8")
    powers = np.ones(int(lengths.max()) + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(1, len(powers)):
            powers[i] = powers[i - 1] * _MULT

    def chunk(start: int) -> None:
        stop = min(start + _CHUNK, count)
        first, last = int(offsets[start]), int(offsets[stop])
        ends = np.repeat(offsets[start + 1 : stop + 1] - 1, lengths[start:stop])
        with np.errstate(over="ignore"):
            terms = data[first:last] * powers[ends - np.arange(first, last)]
            poly = np.add.reduceat(terms, offsets[start:stop] - first)
            h = _mix((poly ^ words[0]) + lengths[start:stop].astype(np.uint64) * words[1])
            out[start:stop] = _mix(h ^ words[2])

    with ThreadPoolExecutor(_THREADS) as pool:
        list(pool.map(chunk, range(0, count, _CHUNK)))
    return out


def distinct_count(hashes: U64) -> int:
    """Distinct values among 64-bit hashes (a collision among 10^7 is a 3e-6 chance)."""
    if len(hashes) == 0:
        return 0
    ordered = np.sort(hashes)
    return 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def sample_rate(size_a: int, size_b: int, target: int = TARGET_SAMPLE) -> float:
    """The rate that keeps about ``target`` identifiers from the larger side (1 if smaller)."""
    return min(1.0, target / max(size_a, size_b, 1))


def below(hashes: U64, rate: float) -> npt.NDArray[np.bool_]:
    """Which hashes fall in the sample of ``rate``."""
    if not 0.0 < rate <= 1.0:
        raise ValueError("the sample rate must lie in (0, 1]")
    if rate == 1.0:
        return np.ones(len(hashes), dtype=bool)
    return hashes < np.uint64(min(int(rate * 2.0**64), 2**64 - 1))


def estimate(sampled: int, rate: float) -> tuple[float, float]:
    """(estimate, 99% half-width) of the intersection from ``sampled`` shared identifiers."""
    if rate >= 1.0:
        return float(sampled), 0.0
    if sampled == 0:
        return 0.0, -math.log(0.01) / rate  # no shared sample: P(c = 0 | I) <= 1% beyond this
    return sampled / rate, Z99 * math.sqrt(sampled * (1.0 - rate)) / rate
