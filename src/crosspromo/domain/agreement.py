"""An agreement's state, read from its record alone: which terms versions were offered, who
accepted which, the version in force and the partnership's status. ``step`` says whether an
entry may come next and what it changes; the server and anyone replaying a record use the same
rules, so a status can always be recomputed from the signed entries.

The rules: the first entry is a proposal (version 1) by one of the two parties; while
negotiating, either party may counter with a new version; once agreed, either may offer an
amendment (a new version, the old one staying in force until it is accepted). Offering a
version is accepting it. The other party accepts the newest version (naming the hash of its
terms) or declines it; a version both parties accepted is in force, and the first makes the
partnership active. Either party may pause, resume (only terms in force) or end it; ended is
final. An end under terms in force takes effect when the terms' notice runs out (the entry's
``effective_on``): until that day the partnership keeps its status and nothing new may be
agreed; from that day on it is ended (``status_on``), as an entry made then finds it.
Statements and key rotations may be added at any time, also after the end (the last month's
figures; a party's new key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from crosspromo.domain.models import PartnershipStatus
from crosspromo.domain.record import Entry, canonical

OFFERS = frozenset({"proposal", "counter", "amendment"})


class StepRefused(ValueError):
    """An entry that may not come next; the message says why in words."""


def terms_hash(terms: Mapping[str, Any]) -> str:
    """SHA-256 of a terms document's canonical encoding: what an acceptance names."""
    return hashlib.sha256(canonical(dict(terms))).hexdigest()


@dataclass(frozen=True)
class Offer:
    version: int
    by: str
    terms: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class AgreementState:
    """Where an agreement stands after its entries."""

    parties: tuple[str, ...] = ()
    offers: tuple[Offer, ...] = ()
    accepted: Mapping[int, frozenset[str]] = field(default_factory=dict)
    in_force: int | None = None  # the newest version both accepted
    pending: int | None = None  # the newest version offered and not yet answered
    status: PartnershipStatus | None = None  # None before the proposal
    ends_on: str | None = None  # an end given with notice: the day it takes effect (ISO)

    @property
    def latest(self) -> Offer | None:
        return self.offers[-1] if self.offers else None

    def offer(self, version: int) -> Offer:
        return self.offers[version - 1]

    def terms_in_force(self) -> dict[str, Any] | None:
        return None if self.in_force is None else self.offer(self.in_force).terms

    def awaiting(self, party: str) -> bool:
        """Whether ``party`` has a version to answer."""
        return self.pending is not None and party not in self.accepted[self.pending]

    def status_on(self, day: str) -> PartnershipStatus | None:
        """The status on ``day`` (ISO date): ended once a notice given has run out."""
        if self.ends_on is not None and day >= self.ends_on:
            return PartnershipStatus.ENDED
        return self.status


def step(state: AgreementState, entry: Entry) -> AgreementState:
    """The state after ``entry``, or StepRefused naming why it may not come next."""
    kind, by, body = entry.kind, entry.signer, entry.body
    if state.status is None:
        if kind != "proposal":
            raise StepRefused("a record begins with a proposal")
        return _offered(state, by, body, PartnershipStatus.NEGOTIATING, _parties(body, by))
    if by not in state.parties:
        raise StepRefused(f"{by!r} is not a party to this agreement")
    if kind in ("statement", "key_rotation"):  # a month's figures, a new key: also after the end
        return state
    current = state.status_on(entry.at[:10]) or state.status
    state = replace(state, status=current)
    if current is PartnershipStatus.ENDED:
        raise StepRefused("the agreement has ended: nothing more may be agreed")
    if state.ends_on is not None and kind not in ("pause", "resume"):
        raise StepRefused(f"the agreement ends on {state.ends_on} (notice given): nothing new "
                          "may be agreed meanwhile")  # fmt: skip
    if kind == "proposal":
        raise StepRefused("the terms are proposed once: counter or amend them")
    if kind == "counter":
        if current is not PartnershipStatus.NEGOTIATING:
            raise StepRefused("terms in force are changed by an amendment, not a counter")
        return _offered(state, by, body, current, state.parties)
    if kind == "amendment":
        if current is PartnershipStatus.NEGOTIATING:
            raise StepRefused("while negotiating, new terms are a counter")
        return _offered(state, by, body, current, state.parties)
    if kind in ("acceptance", "decline"):
        return _answered(state, by, body, accept=kind == "acceptance")
    return _moved(state, entry)


def replay(entries: Iterable[Entry]) -> AgreementState:
    """The state after every entry, in order; StepRefused at the first that breaks a rule."""
    state = AgreementState()
    for entry in entries:
        try:
            state = step(state, entry)
        except StepRefused as refused:
            raise StepRefused(f"entry {entry.index}: {refused}") from None
    return state


def _parties(body: Mapping[str, Any], by: str) -> tuple[str, ...]:
    terms = body.get("terms")
    parties = terms.get("parties") if isinstance(terms, dict) else None
    orgs = tuple(sorted(str(p.get("org")) for p in parties if isinstance(p, dict))) if isinstance(
        parties, list
    ) else ()  # fmt: skip
    if len(set(orgs)) != 2 or by not in orgs:
        raise StepRefused("the terms name two parties, the proposer one of them")
    return orgs


def _offered(
    state: AgreementState, by: str, body: Mapping[str, Any], status: PartnershipStatus,
    parties: tuple[str, ...],
) -> AgreementState:  # fmt: skip
    terms, version = body.get("terms"), body.get("version")
    if not isinstance(terms, dict):
        raise StepRefused("an offer carries its terms")
    if version != len(state.offers) + 1:
        raise StepRefused(f"the next version is {len(state.offers) + 1}, not {version!r}")
    if _parties(body, by) != parties:
        raise StepRefused("the terms must keep the same two parties")
    offer = Offer(version, by, dict(terms), terms_hash(terms))
    accepted = {**state.accepted, version: frozenset({by})}
    return replace(state, parties=parties, offers=(*state.offers, offer), accepted=accepted,
                   pending=version, status=status)  # fmt: skip


def _answered(
    state: AgreementState, by: str, body: Mapping[str, Any], *, accept: bool
) -> AgreementState:
    version = body.get("version")
    if state.pending is None or version != state.pending:
        newest = "no version is waiting" if state.pending is None else f"version {state.pending}"
        raise StepRefused(f"only the newest offer can be answered ({newest})")
    if by in state.accepted[version]:
        raise StepRefused(f"{by!r} already accepted version {version}: the other party answers")
    if not accept:
        status = PartnershipStatus.ENDED if state.in_force is None else state.status
        return replace(state, pending=None, status=status)
    if body.get("terms_hash") != state.offer(version).hash:
        raise StepRefused("the acceptance names other terms than this version's")
    status = PartnershipStatus.ACTIVE if state.in_force is None else state.status
    accepted = {**state.accepted, version: state.accepted[version] | {by}}
    return replace(state, accepted=accepted, in_force=version, pending=None, status=status)


_MOVES = {
    "pause": ({PartnershipStatus.ACTIVE}, PartnershipStatus.PAUSED),
    "resume": ({PartnershipStatus.PAUSED}, PartnershipStatus.ACTIVE),
    "end": (set(PartnershipStatus), PartnershipStatus.ENDED),
}


def _moved(state: AgreementState, entry: Entry) -> AgreementState:
    kind = entry.kind
    if kind not in _MOVES:
        raise StepRefused(f"unknown entry kind {kind!r}")
    allowed, target = _MOVES[kind]
    if state.status not in allowed:
        raise StepRefused(f"a {state.status} partnership cannot {kind}")
    effective = entry.body.get("effective_on")
    if kind == "end" and isinstance(effective, str) and effective > entry.at[:10]:
        return replace(state, ends_on=effective, pending=None)  # the notice runs
    return replace(state, status=target)


_WORDS = {
    "proposal": "proposed version {version}",
    "counter": "countered with version {version}",
    "amendment": "proposed amendment: version {version}",
    "acceptance": "accepted version {version}",
    "decline": "declined version {version}",
    "pause": "paused",
    "resume": "resumed",
    "end": "ended",
    "statement": "statement for {month}",
    "key_rotation": "handed over to a new signing key",
}


def in_words(entry: Entry) -> str:
    """What an entry did, in words: "accepted version 2", "ended, effective ...: “reason”"."""
    what = _WORDS.get(entry.kind, entry.kind).format_map({"version": "?", "month": "?"}
                                                          | entry.body)  # fmt: skip
    if entry.body.get("effective_on"):
        what += f", effective {entry.body['effective_on']}"
    if entry.body.get("reason"):
        what += f": “{entry.body['reason']}”"
    return what
