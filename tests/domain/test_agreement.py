"""The agreement's rules as a state machine: Hypothesis plays random steps by either party (and
an outsider) and checks what we promise after every one that is allowed: a partnership is
active or paused only under a version both parties accepted, the version in force never
changes without the other party's acceptance, and ended is final."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crosspromo.domain import PartnershipStatus
from crosspromo.domain.agreement import (
    AgreementState,
    StepRefused,
    replay,
    step,
    terms_hash,
)
from crosspromo.domain.record import Entry

PARTIES = ("acme", "beans")


def _terms(note: int) -> dict[str, Any]:
    return {"parties": [{"org": "acme", "role": "brand"}, {"org": "beans", "role": "partner"}],
            "note": note}  # fmt: skip


def _entry(state: AgreementState, kind: str, by: str, version: int, note: int) -> Entry:
    body: dict[str, Any] = {}
    if kind in ("proposal", "counter", "amendment"):
        body = {"version": len(state.offers) + 1, "terms": _terms(note)}
    elif kind in ("acceptance", "decline"):
        body = {"version": version}
        if kind == "acceptance" and 1 <= version <= len(state.offers):
            body["terms_hash"] = state.offer(version).hash
    return Entry("p", 0, "", kind, by, "", "", body)


KINDS = ("proposal", "counter", "amendment", "acceptance", "decline", "pause", "resume", "end",
         "statement", "key_rotation")  # fmt: skip
MOVES = st.tuples(st.sampled_from(KINDS), st.sampled_from((*PARTIES, "mallory")),
                  st.integers(0, 5), st.integers(0, 3))  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(MOVES, max_size=25))
def test_nothing_is_in_force_without_both_parties(moves: list[tuple[str, str, int, int]]) -> None:
    state = AgreementState()
    for kind, by, version, note in moves:
        before = state
        try:
            state = step(state, _entry(state, kind, by, version, note))
        except StepRefused:
            assert state == before
            continue
        assert before.status is not PartnershipStatus.ENDED or kind in ("statement", "key_rotation")
        if state.status in (PartnershipStatus.ACTIVE, PartnershipStatus.PAUSED):
            assert state.in_force is not None
            assert state.accepted[state.in_force] == frozenset(PARTIES)
        if state.in_force != before.in_force:  # only an acceptance by the one who had not
            assert kind == "acceptance"
            assert by not in before.accepted[state.in_force]
            assert before.accepted[state.in_force] | {by} == frozenset(PARTIES)
        assert "mallory" not in state.parties


def test_an_acceptance_of_other_terms_or_by_an_outsider_is_refused() -> None:
    state = step(AgreementState(), _entry(AgreementState(), "proposal", "acme", 1, 0))
    assert state.status is PartnershipStatus.NEGOTIATING
    wrong = Entry("p", 1, "", "acceptance", "beans", "", "",
                  {"version": 1, "terms_hash": terms_hash(_terms(9))})  # fmt: skip
    with pytest.raises(StepRefused, match="other terms"):
        step(state, wrong)
    with pytest.raises(StepRefused, match="not a party"):
        step(state, _entry(state, "acceptance", "mallory", 1, 0))
    with pytest.raises(StepRefused, match=r"entry 1: .*already accepted"):
        replay([_entry(AgreementState(), "proposal", "acme", 1, 0),
                replace(_entry(state, "acceptance", "acme", 1, 0), index=1)])  # fmt: skip
    active = step(state, _entry(state, "acceptance", "beans", 1, 0))
    assert (active.status, active.in_force) == (PartnershipStatus.ACTIVE, 1)
