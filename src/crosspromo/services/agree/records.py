"""A partnership's signed record on the server: each entry is checked against the agreement's
rules (``domain.agreement``) and the record's chain, signed by the organization that makes it
(by the server with the key it keeps for it, or by the organization itself), stored where the
database lets nothing change, and announced to both parties as an ``agreement.entry`` webhook.
The partnership's status follows the record: it is only ever what the entries say.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from nacl.exceptions import BadSignatureError
from nacl.exceptions import ValueError as NaclValueError
from nacl.signing import VerifyKey
from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.config import Settings
from crosspromo.domain import Organization, Partnership, PartnershipStatus
from crosspromo.domain.agreement import (
    OFFERS,
    AgreementState,
    StepRefused,
    in_words,
    replay,
    step,
)
from crosspromo.domain.record import GENESIS, KINDS, Entry, bundle, next_entry
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.services.agree.history import record_step
from crosspromo.services.agree.keys import key_in_force, signer
from crosspromo.services.agree.terms import parse_terms
from crosspromo.services.track.outbound import enqueue_event
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    OrganizationRepository,
    PartnershipRepository,
    RecordRepository,
    SigningKeyRepository,
)

ENTRY_EVENT = "agreement.entry"
_ABOUT_A_VERSION = OFFERS | {"acceptance", "decline"}


@dataclass(frozen=True, slots=True)
class AgreementStep:
    """What an entry did: the terms version it concerns (or the one in force), the
    partnership's status after it, and the entry's hash (the record's new head)."""

    partnership_id: int
    version: int | None
    status: PartnershipStatus
    entry_hash: Annotated[str, Field(description="SHA-256 of the entry, hex: the record's head")]


@dataclass(frozen=True)
class Loaded:
    """A partnership's record as one party (``me``) acts on it."""

    partnership: Partnership
    me: Organization
    other: Organization
    entries: list[Entry]
    state: AgreementState

    @property
    def record_id(self) -> str:
        """The record's name in every entry: fixed by its first, made for a new record."""
        return self.entries[0].partnership if self.entries else f"crosspromo:{uuid.uuid4().hex}"


def load(session: Session, org_id: int, partnership_id: int) -> Loaded:
    """The record of a partnership ``org_id`` is a party to (NotFound for anyone else)."""
    item = PartnershipRepository(session).get_for_org(org_id, partnership_id)
    orgs = OrganizationRepository(session).many((org_id, item.other_party(org_id)))
    entries = RecordRepository(session).entries(item.id)
    return Loaded(item, orgs[org_id], orgs[item.other_party(org_id)], entries, replay(entries))


def terms_in_force(session: Session, partnership_id: int) -> dict[str, Any] | None:
    """The terms both parties accepted last (None before any were)."""
    return replay(RecordRepository(session).entries(partnership_id)).terms_in_force()


def stamp(when: datetime | None = None) -> str:
    """An entry's time: UTC, to the second, ending in Z."""
    moment = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def append(
    session: Session, settings: Settings, loaded: Loaded, kind: str, body: dict[str, Any], *,
    at: datetime | None = None, actor: str | None = None,
) -> AgreementStep:  # fmt: skip
    """Sign ``kind`` with ``body`` as ``loaded.me`` on the server and add it."""
    key = signer(session, settings, loaded.me.id)
    if key is None:
        raise ConflictError(
            f"{loaded.me.slug} keeps its signing key itself, so the server cannot sign this "
            f"{kind}: sign it with `crosspromo agreements sign`"
        )
    made = next_entry(loaded.record_id, loaded.entries, kind, loaded.me.slug, key, stamp(at),
                      body)  # fmt: skip
    return commit(session, loaded, made, actor=actor, at=at)


def draft(session: Session, settings: Settings, loaded: Loaded, kind: str,
          body: dict[str, Any]) -> Entry:  # fmt: skip
    """The entry ``loaded.me`` would add next, unsigned: for an organization that signs its
    entries itself (``agreements sign``)."""
    key = key_in_force(session, settings, loaded.me.id)
    previous = loaded.entries[-1].hash if loaded.entries else GENESIS
    made = Entry(loaded.record_id, len(loaded.entries), previous, kind, loaded.me.slug,
                 key.fingerprint, stamp(), body)  # fmt: skip
    step(loaded.state, made)  # refused now rather than after signing
    return made


def submit(
    session: Session, loaded: Loaded, entry: Entry, *, actor: str | None = None
) -> AgreementStep:
    """Add an entry ``loaded.me`` signed itself, after checking it is the next one, by ``me``,
    with ``me``'s key in force, and correctly signed."""
    head = loaded.entries[-1].hash if loaded.entries else GENESIS
    if entry.kind not in KINDS:
        raise InvalidInputError(f"unknown entry kind {entry.kind!r}", field="kind")
    if entry.index != len(loaded.entries) or entry.previous != head:
        raise ConflictError("the entry does not follow the record's head: draft it again")
    if loaded.entries and entry.partnership != loaded.record_id:
        raise InvalidInputError("the entry names another record", field="partnership")
    if not 1 <= len(entry.partnership) <= 100:
        raise InvalidInputError("a record's name is 1-100 characters", field="partnership")
    if entry.signer != loaded.me.slug:
        raise InvalidInputError(f"the entry is signed as {entry.signer!r}, not as "
                                f"{loaded.me.slug!r}", field="signer")  # fmt: skip
    current = SigningKeyRepository(session).current(loaded.me.id)
    if current is None or entry.key != current.fingerprint:
        raise InvalidInputError(f"the entry is not signed with {loaded.me.slug}'s key in force",
                                field="key")  # fmt: skip
    try:
        VerifyKey(bytes.fromhex(current.public_key)).verify(
            entry.signed_bytes(), bytes.fromhex(entry.signature)
        )
    except (BadSignatureError, NaclValueError, ValueError):
        raise InvalidInputError("the signature does not verify with the key in force",
                                field="signature") from None  # fmt: skip
    return commit(session, loaded, entry, actor=actor)


def commit(
    session: Session, loaded: Loaded, entry: Entry, *, actor: str | None = None,
    at: datetime | None = None,
) -> AgreementStep:  # fmt: skip
    """Store a signed entry that follows the rules; the status follows it (from ``at``, now
    unless the sample or an import says when), both parties hear."""
    item = loaded.partnership
    if not loaded.entries and item.status is PartnershipStatus.ENDED:
        raise ConflictError("this partnership has ended: propose terms anew, as a new one")
    if entry.kind in OFFERS:
        _check_terms(loaded, entry.body.get("terms"))
    try:
        state = step(loaded.state, entry)
    except StepRefused as refused:
        raise ConflictError(str(refused)) from None
    RecordRepository(session).append(item.id, entry, loaded.me.id)
    if state.ends_on is not None and state.ends_on != loaded.state.ends_on:
        PartnershipRepository(session).set_ends_on(item.id, date.fromisoformat(state.ends_on))
    status = state.status_on(entry.at[:10])  # a notice run out: ended, whatever came since
    if status is not None and status is not item.status:
        when = PartnershipRepository(session).set_status(item.id, status, at)
        reason = str(entry.body.get("reason", "")) or in_words(entry)
        record_step(session, loaded.me.id, item.id, item.status, status, when, reason=reason,
                    actor=actor)  # fmt: skip
    data = {"partnership_id": item.id, "entry": entry.document(), "keys": _keys(session, loaded)}
    payload = {"type": ENTRY_EVENT, "timestamp": entry.at, "data": data}
    for org in (loaded.me, loaded.other):
        enqueue_event(session, org.id, ENTRY_EVENT, payload)
    version = entry.body.get("version") if entry.kind in _ABOUT_A_VERSION else None
    return AgreementStep(item.id, version if isinstance(version, int) else state.in_force,
                         status or item.status, entry.hash)  # fmt: skip


def end_due(db: Database, today: date | None = None) -> int:
    """Mark ended the partnerships whose notice ran out by ``today`` (their links, codes and
    credit stopped that day already); how many. The server runs it with its other chores."""
    today = today or datetime.now(UTC).date()
    with db.reading() as session:  # most passes find nothing: no write lock for them
        if not PartnershipRepository(session).notice_run_out(today):
            return 0
    with db.transaction() as session:
        repo = PartnershipRepository(session)
        due = repo.notice_run_out(today)
        for item in due:
            assert item.ends_on is not None
            ending = next(e for e in reversed(RecordRepository(session).entries(item.id))
                          if e.kind == "end")  # fmt: skip
            by = OrganizationRepository(session).by_slug(ending.signer).id
            when = datetime.combine(item.ends_on, time(), UTC)
            repo.set_status(item.id, PartnershipStatus.ENDED, when)
            record_step(session, by, item.id, item.status, PartnershipStatus.ENDED, when,
                        reason=f"the notice given on {ending.at[:10]} ran out")  # fmt: skip
    return len(due)


def _check_terms(loaded: Loaded, written: Any) -> None:
    """Offered terms are valid by the one schema, written as it writes them (so every reader
    reads the same), and name the two parties."""
    terms = parse_terms(written)
    if terms.document() != written:
        raise InvalidInputError(
            "the terms must be written as the schema writes them, every field included (see "
            "`agreements template`)", field="terms",
        )  # fmt: skip
    named = {p.org for p in terms.parties}
    if named != {loaded.me.slug, loaded.other.slug}:
        raise InvalidInputError(
            f"the terms' parties must be {loaded.me.slug} and {loaded.other.slug}, not "
            f"{', '.join(sorted(named))}", field="terms",
        )  # fmt: skip


def export(session: Session, loaded: Loaded) -> bytes:
    """The record as a bundle: its entries and the public keys that check them."""
    if not loaded.entries:
        raise ConflictError("this partnership has no record yet: its terms were never proposed")
    return bundle(loaded.record_id, loaded.entries, _keys(session, loaded))


def _keys(session: Session, loaded: Loaded) -> dict[str, list[str]]:
    """Every public key either party has had, by organization."""
    keys = SigningKeyRepository(session)
    return {o.slug: [k.public_key for k in keys.for_org(o.id)] for o in (loaded.me, loaded.other)}
