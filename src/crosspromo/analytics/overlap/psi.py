"""Private set intersection cardinality between a requester (A) and a responder (B).

1. A → B: X^a, A's identifiers blinded with A's secret, grouped by A's segment.
2. B → A: Y^b, B's blinded identifiers shuffled within B's segments, and (X^a)^b reduced to
   ``bits``-bit prefixes: as one Golomb-coded set per A segment (counts: their order is gone,
   so A learns how many of its customers are shared, not which), or in A's order when both
   sides agreed to share the overlapping records.
3. A computes (Y^b)^a, counts its prefixes in each set, and sends B the counts.

Each side learns the other's list sizes per segment and the intersection counts, nothing
else, assuming both follow the protocol (semi-honest). With ``bits`` = min(64,
log2(|X||Y| / 1e-9)) a false match is expected less than once in 10^9 runs, or |X||Y|/2^64.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from crosspromo.analytics.overlap import golomb
from crosspromo.analytics.overlap.blinding import POINT, Blinder
from crosspromo.analytics.overlap.messages import DEFAULT_MAX_BYTES, Message, open_message
from crosspromo.errors import ProtocolMessageError

ALL = "all"
FALSE_MATCH_RATE = 1e-9


class Disclosure(StrEnum):
    """What the requester may learn: counts, or also which of its own records are shared
    (only with a data-sharing agreement and each customer's consent)."""

    COUNTS = "counts"
    RECORDS = "records"


@dataclass(frozen=True, slots=True)
class Audience:
    """One side's distinct normalized identifiers and, optionally, a segment for each."""

    identifiers: Sequence[str]
    segments: Sequence[str] | None = None

    def groups(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        labels = self.segments if self.segments is not None else [ALL] * len(self.identifiers)
        for i, label in enumerate(labels):
            out.setdefault(label, []).append(i)
        return dict(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class SegmentOverlap:
    a_segment: str
    b_segment: str
    size_a: int
    size_b: int
    intersection: int


@dataclass(frozen=True, slots=True)
class OverlapResult:
    size_a: int
    size_b: int
    intersection: int
    segments: tuple[SegmentOverlap, ...] = ()
    bytes_exchanged: int = 0
    expected_false_matches: float = 0.0
    shared_rows: tuple[int, ...] | None = None  # A's own rows, with Disclosure.RECORDS only
    error_bound: float | None = None  # sketch mode: 99% half-width on the intersection
    sample_rate: float | None = None

    def segment_pairs(self) -> tuple[SegmentOverlap, ...]:
        """The counts per segment pair; none when neither side gave segments."""
        return tuple(s for s in self.segments if s.a_segment != ALL or s.b_segment != ALL)

    @property
    def overlap_rate_a(self) -> float:
        return self.intersection / self.size_a if self.size_a else 0.0

    @property
    def overlap_rate_b(self) -> float:
        return self.intersection / self.size_b if self.size_b else 0.0


def prefix_bits(size_a: int, size_b: int) -> int:
    pairs = max(size_a * size_b, 1)
    return min(golomb.MAX_BITS, max(16, math.ceil(math.log2(pairs / FALSE_MATCH_RATE))))


def _encode(values: Sequence[str]) -> list[bytes]:
    return [v.encode() for v in values]


@dataclass(slots=True)
class Requester:
    """Side A. ``request()`` gives message 1; ``finish(message 2)`` the result; after it,
    ``result_message()`` gives message 3 for B."""

    session: str
    key: bytes
    audience: Audience
    blinder: Blinder
    disclosure: Disclosure = Disclosure.COUNTS
    max_bytes: int = DEFAULT_MAX_BYTES
    _groups: dict[str, list[int]] = field(default_factory=dict)
    _requested: bool = False
    _result: OverlapResult | None = None
    _sent: int = 0

    def request(self) -> bytes:
        if self._requested:
            raise ProtocolMessageError("this requester already sent its request", field="step")
        self._requested = True
        self._groups = self.audience.groups()
        ids = self.audience.identifiers
        order = [i for rows in self._groups.values() for i in rows]
        body = self.blinder.blind(_encode([ids[i] for i in order]))
        header = {
            "disclosure": str(self.disclosure),
            "groups": [[label, len(rows)] for label, rows in self._groups.items()],
        }
        data = Message(self.session, 1, header, body).seal(self.key)
        self._sent += len(data)
        return data

    def finish(self, data: bytes) -> OverlapResult:
        if not self._requested or self._result is not None:
            raise ProtocolMessageError("no response is expected now", field="step")
        message = open_message(data, self.key, self.session, 2, self.max_bytes)
        b_groups, sets, bits = _read_response(message, self._groups, self.disclosure)
        size_b = sum(n for _, n in b_groups)
        y_points = message.body[: size_b * POINT]
        y_ab = golomb.prefixes(self.blinder.reblind(y_points), bits)
        segments: list[SegmentOverlap] = []
        shared_rows: list[int] = []
        start = 0
        for b_label, b_count in b_groups:
            ours = y_ab[start : start + b_count]
            start += b_count
            for (a_label, a_rows), a_values in zip(self._groups.items(), sets, strict=True):
                if self.disclosure is Disclosure.RECORDS:
                    hit = np.isin(a_values, ours)
                    count = int(hit.sum())
                    shared_rows.extend(a_rows[i] for i in np.flatnonzero(hit))
                else:
                    count = _count_members(a_values, ours)
                segments.append(SegmentOverlap(a_label, b_label, len(a_rows), b_count, count))
        size_a = len(self.audience.identifiers)
        self._result = OverlapResult(
            size_a=size_a,
            size_b=size_b,
            intersection=sum(s.intersection for s in segments),
            segments=tuple(segments),
            bytes_exchanged=self._sent + len(data),
            expected_false_matches=size_a * size_b / 2.0**bits,
            shared_rows=tuple(sorted(shared_rows))
            if self.disclosure is Disclosure.RECORDS
            else None,
        )
        return self._result

    def result_message(self) -> bytes:
        if self._result is None:
            raise ProtocolMessageError("the result is not known yet", field="step")
        header = {
            "size_a": self._result.size_a,
            "size_b": self._result.size_b,
            "intersection": self._result.intersection,
            "segments": [
                [s.a_segment, s.b_segment, s.size_a, s.size_b, s.intersection]
                for s in self._result.segments
            ],
        }
        return Message(self.session, 3, header).seal(self.key)


def _count_members(sorted_values: Any, probes: Any) -> int:
    """How many values of ``probes`` occur in the sorted array (each probe once)."""
    if len(sorted_values) == 0 or len(probes) == 0:
        return 0
    where = np.searchsorted(sorted_values, probes)
    where[where == len(sorted_values)] = 0
    return int((sorted_values[where] == probes).sum())


def _read_response(
    message: Message, groups: dict[str, list[int]], disclosure: Disclosure
) -> tuple[list[tuple[str, int]], list[Any], int]:
    header = message.header
    try:
        b_groups = [(str(label), int(n)) for label, n in header["groups"]]
        bits = int(header["bits"])
        layout = [(int(n), int(k), int(size)) for n, k, size in header["sets"]]
        mode = Disclosure(header["disclosure"])
    except (KeyError, TypeError, ValueError):
        raise ProtocolMessageError("response header is malformed", field="message") from None
    if mode is not disclosure or len(layout) != len(groups) or not 1 <= bits <= golomb.MAX_BITS:
        raise ProtocolMessageError("response does not answer this request", field="message")
    if any(n < 0 for _, n in b_groups):
        raise ProtocolMessageError("response header is malformed", field="message")
    offset = sum(n for _, n in b_groups) * POINT
    sets = []
    for (n, k, size), rows in zip(layout, groups.values(), strict=True):
        if n != len(rows) or size < 0:
            raise ProtocolMessageError("response does not answer this request", field="message")
        chunk = message.body[offset : offset + size]
        offset += size
        if len(chunk) != size:
            raise ProtocolMessageError("response body is cut short", field="message")
        if disclosure is Disclosure.RECORDS:
            if size != 8 * n:
                raise ProtocolMessageError("response body is malformed", field="message")
            sets.append(np.frombuffer(chunk, dtype=">u8").astype(np.uint64))
        else:
            sets.append(golomb.decode(golomb.GolombSet(n, bits, k, chunk)))
    if offset != len(message.body):
        raise ProtocolMessageError("response body has bytes left over", field="message")
    return b_groups, sets, bits


@dataclass(frozen=True, slots=True)
class ResponderState:
    """What B keeps between messages: its secret, its segments' sizes and its blinded
    identifiers (shuffled within each segment). Never the identifiers themselves."""

    secret: bytes
    groups: tuple[tuple[str, int], ...]
    points: bytes

    @property
    def size(self) -> int:
        return sum(n for _, n in self.groups)


def prepare_responder(audience: Audience, blinder: Blinder) -> ResponderState:
    ids = audience.identifiers
    groups = audience.groups()
    shuffle = np.random.default_rng(secrets.randbits(128)).permutation  # a secret order
    order = [int(i) for rows in groups.values() for i in shuffle(np.asarray(rows, dtype=np.int64))]
    points = blinder.blind(_encode([ids[i] for i in order]))
    return ResponderState(blinder.secret, tuple((k, len(v)) for k, v in groups.items()), points)


def respond(
    state: ResponderState,
    session: str,
    key: bytes,
    data: bytes,
    blinder: Blinder,
    allowed: frozenset[Disclosure] = frozenset({Disclosure.COUNTS}),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes:
    """Message 2 for the request ``data`` (message 1)."""
    message = open_message(data, key, session, 1, max_bytes)
    try:
        a_groups = [(str(label), int(n)) for label, n in message.header["groups"]]
        disclosure = Disclosure(message.header["disclosure"])
    except (KeyError, TypeError, ValueError):
        raise ProtocolMessageError("request header is malformed", field="message") from None
    if disclosure not in allowed:
        raise ProtocolMessageError(
            f"this session does not allow disclosure {disclosure.value!r}", field="disclosure"
        )
    size_a = sum(n for _, n in a_groups)
    if any(n < 0 for _, n in a_groups) or size_a * POINT != len(message.body):
        raise ProtocolMessageError("request body does not match its header", field="message")
    bits = prefix_bits(size_a, state.size)
    x_ab = golomb.prefixes(blinder.reblind(message.body), bits)
    layout, parts, start = [], [state.points], 0
    for _, n in a_groups:
        values = x_ab[start : start + n]
        start += n
        if disclosure is Disclosure.RECORDS:
            chunk = values.astype(">u8").tobytes()
            layout.append([n, 0, len(chunk)])
        else:
            coded = golomb.encode(values, bits)
            chunk = coded.data
            layout.append([n, coded.k, len(chunk)])
        parts.append(chunk)
    header = {
        "bits": bits,
        "disclosure": str(disclosure),
        "groups": [[label, n] for label, n in state.groups],
        "sets": layout,
    }
    return Message(session, 2, header, b"".join(parts)).seal(key)


def read_result(data: bytes, session: str, key: bytes, state: ResponderState) -> OverlapResult:
    """B's copy of the counts, from message 3."""
    message = open_message(data, key, session, 3)
    try:
        rows = [
            SegmentOverlap(str(a), str(b), int(na), int(nb), int(c))
            for a, b, na, nb, c in message.header["segments"]
        ]
        size_a, size_b = int(message.header["size_a"]), int(message.header["size_b"])
        total = int(message.header["intersection"])
    except (KeyError, TypeError, ValueError):
        raise ProtocolMessageError("result header is malformed", field="message") from None
    if (
        size_b != state.size
        or total != sum(s.intersection for s in rows)
        or not 0 <= total <= min(size_a, size_b)
    ):
        raise ProtocolMessageError("result does not add up", field="message")
    return OverlapResult(size_a, size_b, total, tuple(rows))
