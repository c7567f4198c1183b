"""Private set intersection cardinality: exact counts, segment pairs, disclosure of records,
the wire format refusing what it must, and nothing unblinded on the wire."""

from __future__ import annotations

import hashlib
import secrets

import numpy as np
import pyarrow as pa
import pytest

from crosspromo.analytics.overlap import (
    Audience,
    Disclosure,
    IdentifierKind,
    ProtocolMessageError,
    Requester,
    golomb,
    normalize,
    prepare_responder,
    read_result,
    respond,
    run_exact,
    run_sketch,
    sketch,
)
from crosspromo.analytics.overlap.blinding import Blinder, hash_to_u
from crosspromo.analytics.overlap.identifiers import normalize_phone
from crosspromo.analytics.overlap.messages import Message, open_message
from crosspromo.errors import InvalidInputError


def emails(start: int, stop: int) -> list[str]:
    return [f"person.{i}@example.com" for i in range(start, stop)]


@pytest.mark.parametrize(
    ("a", "b", "shared"),
    [
        ((0, 0), (0, 0), 0),  # both empty
        ((0, 0), (0, 50), 0),  # one empty
        ((0, 50), (0, 0), 0),
        ((0, 50), (0, 50), 50),  # identical
        ((0, 50), (50, 90), 0),  # disjoint
        ((0, 70), (40, 100), 30),
        ((0, 1), (0, 1), 1),
    ],
)
def test_exact_cardinality_on_sets_with_a_known_intersection(a, b, shared):
    result = run_exact(Audience(emails(*a)), Audience(emails(*b)), workers=1)
    assert (result.size_a, result.size_b, result.intersection) == (a[1] - a[0], b[1] - b[0], shared)
    assert result.overlap_rate_a == (shared / result.size_a if result.size_a else 0.0)
    assert result.overlap_rate_b == (shared / result.size_b if result.size_b else 0.0)


def test_parallel_blinding_gives_the_serial_answer():
    a, b = emails(0, 12_000), emails(9_000, 21_000)
    result = run_exact(Audience(a), Audience(b), workers=2)
    assert result.intersection == 3_000
    with Blinder(workers=2) as parallel:
        serial = Blinder(parallel.secret, workers=1)
        ids = [x.encode() for x in a]
        assert parallel.blind(ids) == serial.blind(ids)


def test_segment_pairs_are_counted_exactly():
    rng = np.random.default_rng(3)
    people = [f"p{i}@x.org" for i in range(600)]
    a_idx = rng.choice(600, 350, replace=False)
    b_idx = rng.choice(600, 300, replace=False)
    seg_a = {i: f"a{rng.integers(3)}" for i in a_idx}
    seg_b = {i: f"b{rng.integers(2)}" for i in b_idx}
    a = Audience([people[i] for i in a_idx], [seg_a[i] for i in a_idx])
    b = Audience([people[i] for i in b_idx], [seg_b[i] for i in b_idx])
    result = run_exact(a, b, workers=1)
    shared = set(a_idx) & set(b_idx)
    assert result.intersection == len(shared)
    for row in result.segments:
        expected = sum(1 for i in shared if seg_a[i] == row.a_segment and seg_b[i] == row.b_segment)
        assert row.intersection == expected
        assert row.size_a == sum(1 for s in seg_a.values() if s == row.a_segment)
    assert len(result.segments) == 6


def test_records_disclosure_names_the_requesters_own_shared_rows():
    a, b = emails(0, 40), emails(30, 60)
    result = run_exact(Audience(a), Audience(b), Disclosure.RECORDS, workers=1)
    assert result.shared_rows == tuple(range(30, 40))
    counts_only = run_exact(Audience(a), Audience(b), workers=1)
    assert counts_only.shared_rows is None


def _parties(a: list[str], b: list[str], disclosure: Disclosure = Disclosure.COUNTS):
    session, key = secrets.token_hex(8), secrets.token_bytes(32)
    side_a, side_b = Blinder(workers=1), Blinder(workers=1)
    state = prepare_responder(Audience(b), side_b)
    requester = Requester(session, key, Audience(a), side_a, disclosure)
    return session, key, side_b, state, requester


def test_the_transcript_holds_no_unblinded_identifier():
    a, b = emails(0, 30), emails(20, 50)
    session, key, side_b, state, requester = _parties(a, b)
    request = requester.request()
    response = respond(state, session, key, request, side_b)
    requester.finish(response)
    final = requester.result_message()
    transcript = request + response + final
    for identifier in set(a + b):
        raw = identifier.encode()
        for leak in (raw, raw.upper(), hash_to_u(raw), hashlib.sha256(raw).digest()[:16]):
            assert leak not in transcript
    assert b"example.com" not in transcript


def test_replayed_altered_or_foreign_messages_are_refused():
    a, b = emails(0, 30), emails(20, 50)
    session, key, side_b, state, requester = _parties(a, b)
    request = requester.request()
    with pytest.raises(ProtocolMessageError, match="already sent"):
        requester.request()
    tampered = bytearray(request)
    tampered[100] ^= 1
    with pytest.raises(ProtocolMessageError, match="does not verify"):
        respond(state, session, key, bytes(tampered), side_b)
    with pytest.raises(ProtocolMessageError, match="does not verify"):
        respond(state, session, secrets.token_bytes(32), request, side_b)
    with pytest.raises(ProtocolMessageError, match="another session"):
        respond(state, "other-session", key, request, side_b)
    response = respond(state, session, key, request, side_b)
    with pytest.raises(ProtocolMessageError, match="expected step 2"):
        requester.finish(request)  # a request sent back as if it were the response
    result = requester.finish(response)
    assert result.intersection == 10
    with pytest.raises(ProtocolMessageError, match="no response is expected"):
        requester.finish(response)  # replayed
    with pytest.raises(ProtocolMessageError, match="expected step 3"):
        read_result(response, session, key, state)
    assert read_result(requester.result_message(), session, key, state).intersection == 10


def test_a_sealed_message_with_a_low_order_point_is_refused():
    session, key = "s", secrets.token_bytes(32)
    state = prepare_responder(Audience(emails(0, 5)), Blinder(workers=1))
    zero = bytes(32)  # u = 0 is of low order: X25519 of it is the identity
    request = Message(session, 1, {"disclosure": "counts", "groups": [["all", 1]]}, zero)
    with pytest.raises(InvalidInputError, match="not a valid point"):
        respond(state, session, key, request.seal(key), Blinder(workers=1))


def test_a_request_for_records_is_refused_unless_allowed():
    session, key, side_b, state, requester = _parties(
        emails(0, 5), emails(0, 5), Disclosure.RECORDS
    )
    with pytest.raises(ProtocolMessageError, match="does not allow disclosure 'records'"):
        respond(state, session, key, requester.request(), side_b)


def test_messages_over_the_size_limit_or_malformed_are_refused():
    key = secrets.token_bytes(32)
    sealed = Message("s", 1, {"groups": []}, b"x" * 1000).seal(key)
    with pytest.raises(ProtocolMessageError, match="over this session's limit"):
        open_message(sealed, key, "s", 1, max_bytes=500)
    with pytest.raises(ProtocolMessageError, match="not a crosspromo overlap message"):
        open_message(b"hello", key, "s", 1)
    assert open_message(sealed, key, "s", 1).body == b"x" * 1000


@pytest.mark.parametrize(("count", "bits"), [(0, 40), (1, 64), (1000, 64), (5000, 30), (64, 8)])
def test_golomb_coded_sets_round_trip(count, bits):
    rng = np.random.default_rng(count)
    values = rng.integers(0, 2 ** min(bits, 63), count, dtype=np.int64).astype(np.uint64)
    coded = golomb.encode(values, bits)
    assert (golomb.decode(coded) == np.sort(values)).all()
    if count >= 1000:  # near the entropy bound: bits - log2(n) + ~1.5 per value
        assert len(coded.data) * 8 / count < bits - np.log2(count) + 2.1
    if count:
        with pytest.raises(InvalidInputError):
            golomb.decode(
                golomb.GolombSet(count, bits, coded.k, coded.data[: coded.remainder_bytes])
            )


def test_emails_are_trimmed_and_lower_cased_and_kept_once():
    found = normalize([" A@Example.COM ", "a@example.com", "b@x.org", "B@X.org"])
    assert found.values.to_pylist() == ["a@example.com", "b@x.org"]
    assert found.rows.to_pylist() == [0, 2]


def test_invalid_identifiers_are_named_or_skipped():
    values = ["a@x.com", "not-an-email", "", None, "c@x.com"]
    with pytest.raises(
        InvalidInputError, match=r"3 row\(s\) hold no valid email \(data rows 2, 3, 4\)"
    ):
        normalize(values)
    found = normalize(values, skip_invalid=True)
    assert found.invalid == 3
    assert found.values.to_pylist() == ["a@x.com", "c@x.com"]


def test_phone_numbers_become_e164():
    assert normalize_phone("(415) 555-0132", "US") == "+14155550132"
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalize_phone("12") is None
    found = normalize(
        ["415-555-0132", "+1 415 555 0132", "011 44 20 7946 0958"], IdentifierKind.PHONE
    )
    assert found.values.to_pylist() == ["+14155550132", "+442079460958"]
    with pytest.raises(InvalidInputError, match=r"no valid phone \(data rows 2\)"):
        normalize(["415-555-0132", "0044 20 7946 0958"], IdentifierKind.PHONE)  # not from the US
    assert normalize(["0044 20 7946 0958"], "phone", region="FR").values.to_pylist() == [
        "+442079460958"
    ]


def test_sketch_estimate_lies_within_its_bound():
    a = pa.array(emails(0, 200_000))
    b = pa.array(emails(140_000, 340_000) + emails(140_000, 140_100))  # repeats count once
    result = run_sketch(a, b, rate=0.1, workers=1)
    assert (result.size_a, result.size_b) == (200_000, 200_000)
    assert result.error_bound is not None
    assert result.error_bound > 0
    assert abs(result.intersection - 60_000) <= result.error_bound
    assert result.error_bound / 60_000 < 0.05  # about 6,000 shared in the sample: 3.2%
    whole = run_sketch(pa.array(emails(0, 300)), pa.array(emails(200, 400)), workers=1)
    assert (whole.sample_rate, whole.intersection, whole.error_bound) == (1.0, 100, 0.0)


def test_sketch_bound_covers_the_truth_across_keys():
    """Coverage of the 99% bound over 200 independent sample keys (simulated counts)."""
    rng = np.random.default_rng(5)
    truth, rate = 30_000, 0.02
    hits = 0
    for _ in range(200):
        sampled = rng.binomial(truth, rate)
        value, bound = sketch.estimate(int(sampled), rate)
        hits += abs(value - truth) <= bound
    assert hits >= 194  # 99% nominal: at least 97% in 200 draws
    assert sketch.estimate(0, 0.01)[1] == pytest.approx(460.517, rel=1e-4)


def test_keyed_hashes_are_stable_and_depend_on_the_key():
    values = pa.array(["a@x.com", "b@x.com", "a@x.com"])
    h1 = sketch.keyed_hashes(values, b"k1")
    assert h1[0] == h1[2]
    assert h1[0] != h1[1]
    assert (sketch.keyed_hashes(values, b"k1") == h1).all()
    assert (sketch.keyed_hashes(values, b"k2") != h1).all()
    big = pa.array(emails(0, 100_000))
    share = sketch.below(sketch.keyed_hashes(big, b"k"), 0.1).mean()
    assert 0.097 < share < 0.103
