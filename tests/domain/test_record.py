"""The partnership record: a valid chain verifies; any byte changed, an entry removed,
reordered or duplicated, a wrong key, and two copies that fork are each found. Hypothesis
mutates bundles at random and never gets a false "valid"."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from crosspromo.domain.record import (
    GENESIS,
    Entry,
    bundle,
    canonical,
    fingerprint,
    next_entry,
    public_key_of,
    verify,
)

BRAND, PARTNER = SigningKey(b"b" * 32), SigningKey(b"p" * 32)
ROTATED = SigningKey(b"r" * 32)
KEYS = {"acme": [public_key_of(BRAND)],
        "beans": [public_key_of(PARTNER), public_key_of(ROTATED)]}  # fmt: skip
TERMS = {"version": 1, "commission": {"kind": "percent", "basis_points": 1000}, "note": "café"}


def _record() -> list[Entry]:
    steps = [
        ("proposal", "acme", BRAND, {"terms": TERMS}),
        ("counter", "beans", PARTNER, {"terms": TERMS | {"version": 2}}),
        ("key_rotation", "beans", PARTNER, {"new_key": public_key_of(ROTATED)}),
        ("acceptance", "beans", ROTATED, {"version": 2}),
        ("acceptance", "acme", BRAND, {"version": 2}),
        ("statement", "acme", BRAND, {"month": "2026-11", "sales": 42, "revenue_minor": 123456}),
    ]
    entries: list[Entry] = []
    for number, (kind, signer, key, body) in enumerate(steps):
        at = f"2026-11-{number + 1:02d}T10:00:00Z"
        entries.append(next_entry("p-7", entries, kind, signer, key, at, body))
    return entries


RECORD = _record()
DATA = bundle("p-7", RECORD, KEYS)


def test_a_record_verifies_and_names_its_head() -> None:
    verdict = verify(DATA)
    assert verdict.valid, verdict.error
    assert (verdict.entries, verdict.head) == (6, RECORD[-1].hash)
    assert RECORD[0].previous == GENESIS
    assert all(b.previous == a.hash for a, b in itertools.pairwise(RECORD))
    assert canonical(json.loads(DATA)) == DATA  # the bundle is its own canonical form
    assert fingerprint(KEYS["acme"][0]) == RECORD[0].key


def _entries(data: bytes) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = json.loads(data)["entries"]
    return entries


def _with_entries(entries: list[dict[str, object]]) -> bytes:
    document = json.loads(DATA)
    document["entries"] = entries
    return canonical(document)


Change = Callable[[list[dict[str, object]]], list[dict[str, object]]]


@pytest.mark.parametrize(
    ("change", "entry"),
    [
        (lambda e: e[:2] + e[3:], 2),  # removed
        (lambda e: [e[1], e[0], *e[2:]], 0),  # reordered
        (lambda e: [*e[:3], e[2], *e[3:]], 3),  # duplicated
    ],
)
def test_removed_reordered_and_duplicated_entries_are_found(change: Change, entry: int) -> None:
    verdict = verify(_with_entries(change(_entries(DATA))))
    assert not verdict.valid
    assert verdict.entry == entry


def test_a_copy_without_its_last_entries_differs_from_the_other_copy() -> None:
    cut = _with_entries(_entries(DATA)[:-1])
    assert verify(cut).valid  # alone, a shorter record is a record ...
    against = verify(cut, against=DATA)  # ... but the other side's copy shows what it lacks
    assert (against.valid, against.entry) == (False, 5)
    assert verify(DATA, against=DATA).valid


def test_a_forged_entry_and_a_wrong_key_are_found() -> None:
    entries = _entries(DATA)
    entries[4]["body"] = {"version": 1}  # acme "accepted" another version
    forged = verify(_with_entries(entries))
    assert (forged.valid, forged.entry) == (False, 4)
    # signed again, but with the partner's key in acme's name
    in_its_name = next_entry("p-7", RECORD[:4], "acceptance", "acme", ROTATED,
                             RECORD[4].at, {"version": 2})  # fmt: skip
    wrong = verify(_with_entries([*_entries(DATA)[:4], in_its_name.document()]))
    assert (wrong.valid, wrong.entry) == (False, 4)
    assert "not 'acme'" in (wrong.error or "")
    # the partner signs with its old key after rotating it away
    stale = next_entry("p-7", RECORD[:4], "acceptance", "beans", PARTNER, "2026-11-05T00:00:00Z")
    assert "no longer uses" in (verify(bundle("p-7", [*RECORD[:4], stale], KEYS)).error or "")


def test_two_copies_that_fork_are_found() -> None:
    mine = RECORD[:5]
    theirs = [*RECORD[:4], next_entry("p-7", RECORD[:4], "decline", "acme", BRAND,
                                      "2026-11-05T10:00:00Z", {"reason": "no"})]  # fmt: skip
    fork = verify(bundle("p-7", mine, KEYS), against=bundle("p-7", theirs, KEYS))
    assert (fork.valid, fork.entry) == (False, 4)
    assert "fork" in (fork.error or "")


def test_an_entry_of_another_partnership_is_found() -> None:
    other = [next_entry("p-8", [], "proposal", "acme", BRAND, "2026-11-01T10:00:00Z")]
    document = json.loads(bundle("p-8", other, KEYS))
    document["partnership"] = "p-7"
    assert not verify(canonical(document)).valid


MUTATIONS = st.one_of(
    st.tuples(st.just("byte"), st.integers(0, len(DATA) - 1), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, len(DATA)), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, len(DATA) - 1), st.just(0)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTATIONS)
def test_no_changed_byte_is_ever_valid(mutation: tuple[str, int, int]) -> None:
    kind, position, value = mutation
    data = bytearray(DATA)
    if kind == "byte":
        data[position] = (data[position] + value) % 256  # a different byte, never the same
    elif kind == "insert":
        data[position:position] = bytes([value])
    else:
        del data[position]
    assert not verify(bytes(data)).valid


@settings(max_examples=100, deadline=None)
@given(st.permutations(range(len(RECORD))), st.integers(0, len(RECORD) - 1))
def test_no_shuffled_or_cut_record_is_ever_valid(order: list[int], keep: int) -> None:
    entries = _entries(DATA)
    changed = [entries[i] for i in order][: keep + 1]
    if order[: keep + 1] == list(range(keep + 1)):
        return  # the record's own beginning: valid, and checked above
    assert not verify(_with_entries(changed)).valid


@pytest.mark.parametrize(
    "respelled",
    [
        DATA.replace(b'","', b'", "', 1),  # a space between tokens
        DATA + b"\n",  # a line break at the end
        DATA.replace(b'"acme"', b'"\\u0061cme"', 1),  # an escaped letter
        DATA.replace(b'"index":1,', b'"index":1.0,', 1),  # another spelling of a number
        DATA.replace(b'{"entries"', b'{"keys":{},"entries"', 1),  # a key given twice
    ],
)
def test_the_same_record_spelled_otherwise_is_refused(respelled: bytes) -> None:
    """Each change keeps what the JSON says (or hides it): only the canonical bytes verify,
    so even a change that means nothing is seen."""
    assert respelled != DATA
    verdict = verify(respelled)
    assert not verdict.valid
    assert verdict.error
