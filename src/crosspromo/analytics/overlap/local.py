"""Both sides of the protocol in one process: two identifier lists, or two tenants of one
server. Every message is sealed and opened as it would be between two servers, so the bytes
counted are the bytes that would travel."""

from __future__ import annotations

import dataclasses
import secrets

import pyarrow as pa
import pyarrow.compute as pc

from crosspromo.analytics.overlap import sketch
from crosspromo.analytics.overlap.blinding import Blinder
from crosspromo.analytics.overlap.psi import (
    Audience,
    Disclosure,
    OverlapResult,
    Requester,
    prepare_responder,
    read_result,
    respond,
)


def run_exact(
    a: Audience,
    b: Audience,
    disclosure: Disclosure = Disclosure.COUNTS,
    workers: int | None = None,
) -> OverlapResult:
    """The exact intersection size of two audiences (and per segment pair)."""
    session, key = secrets.token_hex(16), secrets.token_bytes(32)
    with Blinder(workers=workers) as side_a, Blinder(workers=workers) as side_b:
        state = prepare_responder(b, side_b)
        requester = Requester(session, key, a, side_a, disclosure)
        request = requester.request()
        response = respond(state, session, key, request, side_b, frozenset({disclosure}))
        result = requester.finish(response)
        final = requester.result_message()
        read_result(final, session, key, state)
    return dataclasses.replace(result, bytes_exchanged=len(request) + len(response) + len(final))


def run_sketch(
    a: pa.Array,
    b: pa.Array,
    rate: float | None = None,
    workers: int | None = None,
) -> OverlapResult:
    """The approximate intersection of two lists of normalized identifiers (repeats allowed),
    with a 99% error bound: the exact protocol on a coordinated sample. The sizes are the
    lists' distinct counts, exact up to 64-bit hash collisions."""
    key = secrets.token_bytes(32)
    hashes_a, hashes_b = sketch.keyed_hashes(a, key), sketch.keyed_hashes(b, key)
    size_a, size_b = sketch.distinct_count(hashes_a), sketch.distinct_count(hashes_b)
    rate = rate or sketch.sample_rate(size_a, size_b)
    picked = [
        pc.unique(values.filter(pa.array(sketch.below(hashes, rate)))).to_pylist()
        for values, hashes in ((a, hashes_a), (b, hashes_b))
    ]
    exact = run_exact(Audience(picked[0]), Audience(picked[1]), workers=workers)
    value, bound = sketch.estimate(exact.intersection, rate)
    return OverlapResult(
        size_a=size_a,
        size_b=size_b,
        intersection=round(value),
        bytes_exchanged=exact.bytes_exchanged,
        expected_false_matches=exact.expected_false_matches,
        error_bound=bound,
        sample_rate=rate,
    )
