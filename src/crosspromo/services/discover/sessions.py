"""Overlap between organizations through protocol sessions, in one server or between two.

The responder (B) opens an offer with its identifier list: the server keeps the customers who
consent to partner sharing, blinds them and keeps only the blinded values, for a limited time.
The requester (A) answers it: a tenant of the same server with ``join`` (the server runs A's
side), or another crosspromo server with the session's token (``remote``: A's side runs there,
and only sealed messages cross). Each session is used once; both sides must have opted in to
sharing, and records need both at the records level and an active partnership.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from crosspromo.analytics.overlap import (
    Audience,
    Disclosure,
    OverlapResult,
    ProtocolMessageError,
    Requester,
    ResponderState,
    prepare_responder,
    read_result,
    respond,
)
from crosspromo.analytics.overlap.blinding import Blinder
from crosspromo.analytics.overlap.psi import ALL
from crosspromo.domain.choices import one_of
from crosspromo.domain.overlap import OverlapSession, SessionStatus, SharingLevel
from crosspromo.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from crosspromo.security import customer_id_hashes
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.agree.records import terms_in_force
from crosspromo.services.discover.lists import ListOptions, read_identifiers
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    CustomerRepository,
    OrganizationRepository,
    OverlapRepository,
    PartnershipRepository,
    utcnow,
)

DEFAULT_HOURS = 24
MAX_HOURS = 24 * 7
MAX_IDENTIFIERS = 5_000_000


@dataclass(frozen=True, slots=True)
class Presented:
    """One side's list as it takes part: the consented customers (and their segments)."""

    audience: Audience
    rows: int
    invalid: int
    not_sharing: int  # not a customer here, or no consent to partner sharing


@dataclass(frozen=True, slots=True)
class Offer:
    session: OverlapSession
    token: str  # shown once: the requester seals its messages with it
    presented: Presented
    partner: str | None


def _derive(db: Database, purpose: str, session_id: str) -> bytes:
    """A session's keys come from the identity key: a rotation of the secret key leaves the
    sessions under way working."""
    secret = identity_secret(db).encode()
    return hmac.digest(secret, f"overlap/{purpose}/{session_id}".encode(), hashlib.sha256)


def session_key(db: Database, session_id: str) -> bytes:
    """The key both sides seal messages with (the token is its base64 form)."""
    return _derive(db, "key", session_id)


def encode_token(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def decode_token(token: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise InvalidInputError("the session token is malformed", field="token")
    return key


def present(
    db: Database, org_id: int, path: Path, options: ListOptions, segments: bool
) -> Presented:
    """The consented customers of ``org_id`` among the identifiers in ``path``."""
    # consents and segments come from the store here, not from columns of the file
    listed = read_identifiers(path, replace(options, consent_column=None, segment_column=None))
    if listed.rows > MAX_IDENTIFIERS:
        raise InvalidInputError(
            f"{path.name}: at most {MAX_IDENTIFIERS:,} identifiers at once", field="file"
        )
    values = listed.values.to_pylist()
    secret = identity_secret(db)
    hashes = customer_id_hashes(secret, org_id, values)
    with db.transaction() as session:
        sharing = CustomerRepository(session).sharing_segments(org_id, hashes)
    kept = [(v, sharing[h]) for v, h in zip(values, hashes, strict=True) if h in sharing]
    labels = [(s or "unknown") if segments else ALL for _, s in kept]
    audience = Audience([v for v, _ in kept], labels)
    return Presented(audience, listed.rows, listed.invalid, len(values) - len(kept))


def set_sharing(db: Database, org_id: int, level: SharingLevel | str) -> SharingLevel:
    """Opt in or out; lowering the level revokes the organization's unfinished sessions."""
    chosen = one_of(SharingLevel, level, "level")
    with db.transaction() as session:
        repo = OverlapRepository(session)
        before = repo.level(org_id)
        repo.set_level(org_id, chosen)
        if chosen is SharingLevel.HIDDEN or (
            before is SharingLevel.RECORDS and chosen is SharingLevel.COUNTS
        ):
            repo.revoke_open(org_id)
    return chosen


def get_sharing(db: Database, org_id: int) -> SharingLevel:
    with db.transaction() as session:
        return OverlapRepository(session).level(org_id)


def check_level(level: SharingLevel, disclosure: Disclosure, who: str) -> None:
    if not level.allows(disclosure):
        raise PermissionDeniedError(
            f"{who} shares {level.value!r}; {disclosure.value} overlap needs "
            f"{'records' if disclosure is Disclosure.RECORDS else 'counts or records'} "
            "(crosspromo overlap sharing)"
        )


def _check_records(session: Any, org_id: int, partner_id: int | None) -> None:
    """Records are shared only under signed terms in force that allow it: data sharing at the
    ``records`` level for overlap measurement."""
    if partner_id is None:
        return
    found = PartnershipRepository(session).active_between(org_id, partner_id)
    terms = None if found is None else terms_in_force(session, found.id)
    if terms is None:
        raise PermissionDeniedError(
            "sharing the overlapping records needs an active partnership: terms both sides "
            "signed that allow it"
        )
    sharing = terms["data_sharing"]
    if sharing["overlap_level"] != "records" or "overlap_measurement" not in sharing["purposes"]:
        raise PermissionDeniedError(
            f"the signed terms allow overlap at the {sharing['overlap_level']!r} level for "
            f"{', '.join(sharing['purposes']) or 'no purpose'}; sharing records needs data-"
            "sharing terms with overlap_level 'records' for overlap_measurement: amend them"
        )


def open_offer(
    db: Database,
    org_id: int,
    path: Path,
    options: ListOptions,
    *,
    partner: str | None,
    disclosure: Disclosure | str = Disclosure.COUNTS,
    hours: float = DEFAULT_HOURS,
    segments: bool = False,
    max_bytes: int = 256 * 1024 * 1024,
) -> Offer:
    """Open a session for ``partner`` (a tenant here) or, without one, for a requester on
    another server holding the token."""
    disclosure = Disclosure(disclosure)
    if not 0 < hours <= MAX_HOURS:
        raise InvalidInputError(f"a session lasts up to {MAX_HOURS} hours", field="hours")
    with db.transaction() as session:
        check_level(OverlapRepository(session).level(org_id), disclosure, "your organization")
        partner_id = None
        if partner is not None:
            other = OrganizationRepository(session).by_slug(partner)
            if other.id == org_id:
                raise InvalidInputError(
                    "an organization cannot overlap with itself", field="partner"
                )
            partner_id = other.id
            if disclosure is Disclosure.RECORDS:
                _check_records(session, org_id, partner_id)
    presented = present(db, org_id, path, options, segments)
    session_id = secrets.token_hex(16)
    with Blinder(_derive(db, "scalar", session_id)) as blinder:
        state = prepare_responder(presented.audience, blinder)
    now = utcnow()
    values = {
        "id": session_id,
        "org_id": org_id,
        "partner_org_id": partner_id,
        "disclosure": str(disclosure),
        "groups": [list(g) for g in state.groups],
        "points": state.points,
        "status": str(SessionStatus.OPEN),
        "max_bytes": max_bytes,
        "created_at": now,
        "expires_at": now + timedelta(hours=hours),
    }
    with db.transaction() as session:
        repo = OverlapRepository(session)
        repo.add(values)
        stored = repo.get(session_id)
    return Offer(stored, encode_token(session_key(db, session_id)), presented, partner)


def check_usable(session: OverlapSession, status: SessionStatus) -> None:
    if session.status is SessionStatus.REVOKED:
        raise ConflictError(f"overlap session {session.id} was revoked")
    if session.expired(utcnow()):
        raise ConflictError(f"overlap session {session.id} has expired")
    if session.status is not status:
        raise ProtocolMessageError(
            f"overlap session {session.id} is {session.status.value}: this message was "
            "already answered (replayed)",
            field="message",
        )


def responder_state(db: Database, session: OverlapSession) -> ResponderState:
    with db.transaction() as tx:
        points = OverlapRepository(tx).points(session.id)
    return ResponderState(_derive(db, "scalar", session.id), session.groups, points)


def record_of(result: OverlapResult, requester: str) -> dict[str, Any]:
    """How a finished session keeps its counts."""
    return {
        "requester": requester,
        "size_requester": result.size_a,
        "size_responder": result.size_b,
        "intersection": result.intersection,
        "segments": [
            {"requester": s.a_segment, "responder": s.b_segment, "intersection": s.intersection}
            for s in result.segment_pairs()
        ],
    }


def join_offer(
    db: Database, org_id: int, session_id: str, path: Path, options: ListOptions,
    segments: bool = False,
) -> tuple[OverlapResult, list[str] | None]:  # fmt: skip
    """Answer a tenant's offer made to ``org_id``: both sides run here. Returns the counts and,
    with the records disclosure, the requester's own identifiers that are shared."""
    with db.transaction() as tx:
        offer = OverlapRepository(tx).get(session_id)
        if offer.partner_org_id != org_id:
            raise NotFoundError(f"no overlap session {session_id!r}", session=session_id)
        check_usable(offer, SessionStatus.OPEN)
        disclosure = Disclosure(offer.disclosure)
        repo = OverlapRepository(tx)
        check_level(repo.level(org_id), disclosure, "your organization")
        check_level(repo.level(offer.org_id), disclosure, "the partner")
        if disclosure is Disclosure.RECORDS:
            _check_records(tx, org_id, offer.org_id)
        slug = OrganizationRepository(tx).get(org_id).slug
    presented = present(db, org_id, path, options, segments)
    key = session_key(db, session_id)
    state = responder_state(db, offer)
    with Blinder() as ours, Blinder(state.secret) as theirs:
        requester = Requester(
            session_id, key, presented.audience, ours, disclosure, offer.max_bytes
        )
        response = respond(
            state, session_id, key, requester.request(), theirs, frozenset({disclosure}),
            offer.max_bytes,
        )  # fmt: skip
        result = requester.finish(response)
    read_result(requester.result_message(), session_id, key, state)
    with db.transaction() as tx:
        if not OverlapRepository(tx).move(
            session_id, SessionStatus.OPEN, SessionStatus.DONE, record_of(result, slug)
        ):
            raise ConflictError(f"overlap session {session_id} was answered meanwhile")
    shared = None
    if result.shared_rows is not None:
        ids = presented.audience.identifiers
        shared = [ids[i] for i in result.shared_rows]
    return result, shared


def revoke(db: Database, org_id: int, session_id: str) -> None:
    with db.transaction() as tx:
        repo = OverlapRepository(tx)
        offer = repo.get(session_id)
        if org_id not in (offer.org_id, offer.partner_org_id):
            raise NotFoundError(f"no overlap session {session_id!r}", session=session_id)
        if offer.status in (SessionStatus.DONE, SessionStatus.REVOKED):
            raise ConflictError(f"overlap session {session_id} is already {offer.status.value}")
        repo.move(session_id, offer.status, SessionStatus.REVOKED)


def list_sessions(db: Database, org_id: int) -> list[OverlapSession]:
    with db.transaction() as tx:
        return OverlapRepository(tx).for_org(org_id)


def session_for(db: Database, org_id: int, session_id: str) -> OverlapSession:
    with db.transaction() as tx:
        offer = OverlapRepository(tx).get(session_id)
    if org_id not in (offer.org_id, offer.partner_org_id):
        raise NotFoundError(f"no overlap session {session_id!r}", session=session_id)
    return offer


@dataclass(frozen=True, slots=True)
class SegmentPair:
    requester: str
    responder: str
    intersection: int


@dataclass(frozen=True, slots=True)
class SessionView:
    """An overlap session as one of its two organizations sees it, with the counts once done."""

    session: str
    role: Literal["responder", "requester"]
    partner: Annotated[str | None, Field(description="the other tenant; null for another server")]
    status: str
    disclosure: str
    size: Annotated[int, Field(description="the responder's consented customers taking part")]
    created_at: datetime
    expires_at: datetime
    intersection: int | None
    size_requester: int | None
    size_responder: int | None
    segments: list[SegmentPair]


@dataclass(frozen=True, slots=True)
class OfferView(SessionView):
    """A new offer: the session, and the token to hand to the requester."""

    token: Annotated[
        str, Field(description="shown once: give it to the requester, who seals with it")
    ]
    rows: int
    invalid: int
    not_sharing: Annotated[
        int, Field(description="rows that are not customers consenting to sharing")
    ]


@dataclass(frozen=True, slots=True)
class JoinResult:
    """What the requester learns: sizes, the intersection, counts per segment pair and, with
    the records disclosure, which of its own identifiers are shared."""

    session: str
    size_requester: int
    size_responder: int
    intersection: int
    overlap_rate_requester: float
    overlap_rate_responder: float
    segments: list[SegmentPair]
    shared: Annotated[
        list[str] | None, Field(description="your own shared identifiers (records only)")
    ]

    @classmethod
    def of(cls, session: str, result: OverlapResult, shared: list[str] | None = None) -> JoinResult:
        return cls(
            session, result.size_a, result.size_b, result.intersection, result.overlap_rate_a,
            result.overlap_rate_b,
            [SegmentPair(s.a_segment, s.b_segment, s.intersection) for s in result.segment_pairs()],
            shared,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sharing:
    level: str


def sharing(db: Database, org_id: int, level: SharingLevel | str | None = None) -> Sharing:
    """The organization's sharing level, first set to ``level`` when given."""
    return Sharing(str(set_sharing(db, org_id, level) if level else get_sharing(db, org_id)))


def _views(db: Database, org_id: int, items: list[OverlapSession]) -> list[SessionView]:
    others = {s.partner_org_id if s.org_id == org_id else s.org_id for s in items}
    with db.transaction() as tx:
        orgs = OrganizationRepository(tx).many({o for o in others if o is not None})
    views = []
    for item in items:
        result = item.result or {}
        role: Literal["responder", "requester"] = (
            "responder" if item.org_id == org_id else "requester"
        )
        other = item.partner_org_id if role == "responder" else item.org_id
        views.append(
            SessionView(
                item.id,
                role,
                orgs[other].slug if other is not None else None,
                str(item.status),
                item.disclosure,
                item.size,
                item.created_at,
                item.expires_at,
                result.get("intersection"),
                result.get("size_requester"),
                result.get("size_responder"),
                [SegmentPair(**pair) for pair in result.get("segments", [])],
            )
        )
    return views


def session_views(db: Database, org_id: int) -> list[SessionView]:
    """The organization's sessions, as responder or requester, newest first."""
    return _views(db, org_id, list_sessions(db, org_id))


def session_view(db: Database, org_id: int, session_id: str) -> SessionView:
    return _views(db, org_id, [session_for(db, org_id, session_id)])[0]


def offer_overlap(
    db: Database, org_id: int, path: Path, options: ListOptions, *, partner: str | None,
    disclosure: Disclosure | str = Disclosure.COUNTS, hours: float = DEFAULT_HOURS,
    segments: bool = False,
) -> OfferView:  # fmt: skip
    """``open_offer`` as the API and the CLI show it."""
    made = open_offer(
        db, org_id, path, options, partner=partner, disclosure=disclosure, hours=hours,
        segments=segments, max_bytes=db.settings.overlap_max_bytes,
    )  # fmt: skip
    view = _views(db, org_id, [made.session])[0]
    shown = made.presented
    return OfferView(
        **{f.name: getattr(view, f.name) for f in fields(SessionView)}, token=made.token,
        rows=shown.rows, invalid=shown.invalid, not_sharing=shown.not_sharing,
    )  # fmt: skip


def answer_offer(
    db: Database, org_id: int, session_id: str, path: Path, options: ListOptions,
    segments: bool = False,
) -> JoinResult:  # fmt: skip
    """``join_offer`` as the API and the CLI show it."""
    result, shared = join_offer(db, org_id, session_id, path, options, segments)
    return JoinResult.of(session_id, result, shared)
