"""Recording conversion requests: each request's rows are stored whole or not at all, and an
idempotency key makes a retried request return the first answer without storing anything
again.

Several requests may be recorded in one transaction (the API's writer groups those that arrive
together): authentication by API key, the idempotency records, the lookups a row is credited
by, the append-only insert, the outbox of outbound webhooks and the answer are then a handful of
statements for the whole group, whatever its size. A request that fails its checks fails alone;
if the group's transaction fails (a twin of an idempotency key stored meanwhile by another
process), each request is recorded again on its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.domain.conversions import Conversion, ConversionKind
from crosspromo.errors import (
    AuthenticationError,
    ConflictError,
    CrossPromoError,
    InvalidInputError,
)
from crosspromo.services.accounts.keys import KeyProof
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.track.crediting import ConversionInput, Lookups, checked
from crosspromo.services.track.outbound import enqueue_conversions
from crosspromo.services.track.reference import Reference
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    ConversionRepository,
    IdempotencyRepository,
)

MAX_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class ConversionView:
    """A stored conversion as the API shows it."""

    id: int
    type: ConversionKind
    partner: Annotated[str | None, Field(description="slug of the partner credited, if any")]
    click_id: str | None
    order_id: str | None
    amount_minor: int
    currency: str | None
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Recorded:
    conversions: list[ConversionView]
    replayed: bool


@dataclass(frozen=True, slots=True)
class ConversionRequest:
    """One request's conversions. The caller is ``org_id`` when already known (a logged-in
    page, an import), else the holder of the API key ``key``, checked in the transaction that
    stores the rows (a key revoked before it commits stores nothing)."""

    items: Sequence[ConversionInput]
    org_id: int | None = None
    key: KeyProof | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""
    max_items: int = MAX_BATCH


Outcome = Recorded | Exception


def request_fingerprint(payload: Any) -> str:
    """SHA-256 of the canonical JSON of a request body (key order and spacing ignored)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_requests(
    db: Database, requests: Sequence[ConversionRequest], reference: Reference | None = None
) -> list[Outcome]:
    """One outcome per request, in order: what was stored (or replayed), or the error that
    refused it (errors name the row, ``row``, and the field). ``reference``: what the caller
    keeps of keys, codes and partnerships between calls (the conversion writer's)."""
    reference = reference or Reference(keep=False)
    outcomes: dict[int, Outcome] = {}
    for index, request in enumerate(requests):
        refused = _refused(request)
        if refused is not None:
            outcomes[index] = refused
    waiting = [i for i in range(len(requests)) if i not in outcomes]
    if waiting:
        identity_secret(db)  # read now: the rows are made inside the transaction
    careful = False  # first, trust that keys are new: the insert of their records tells
    while waiting:
        try:
            done, waiting = _together(db, requests, waiting, reference, careful)
        except Exception as exc:
            if isinstance(exc, _Taken) and not careful:  # a key was stored before: look first
                careful = True
                continue
            done = _alone(db, requests, waiting, reference, exc)
            waiting = []
        outcomes.update(done)
    return [outcomes[i] for i in range(len(requests))]


class _Taken(Exception):
    """An idempotency key of the group was stored before (or meanwhile, by a concurrent
    request): the group's transaction is rolled back."""


def _alone(
    db: Database,
    requests: Sequence[ConversionRequest],
    waiting: list[int],
    reference: Reference,
    error: Exception,
) -> dict[int, Outcome]:
    """After the group's transaction failed: each request on its own; a lone request, its
    concurrent twin's answer or the error."""
    if len(waiting) > 1:
        return {i: record_requests(db, [requests[i]], reference)[0] for i in waiting}
    return {waiting[0]: _after_failure(db, requests[waiting[0]], error, reference)}


def _refused(request: ConversionRequest) -> CrossPromoError | None:
    if not request.items:
        return InvalidInputError("no conversions given", field="conversions")
    if len(request.items) > request.max_items:
        return InvalidInputError(
            f"at most {request.max_items} conversions at once", field="conversions"
        )
    if (request.org_id is None) == (request.key is None):
        raise ValueError("a conversion request names its organization or its API key")
    return None


def _after_failure(
    db: Database, request: ConversionRequest, error: Exception, reference: Reference
) -> Outcome:
    """A lone request whose transaction failed: if a concurrent twin of its idempotency key
    was stored first, the twin's answer; otherwise the error."""
    key = request.idempotency_key
    if not isinstance(error, _Taken) or key is None:
        return error
    with db.transaction() as session:
        reference.begin(session)
        refused: dict[int, Outcome] = {}
        org_id = _callers(session, [request], [0], refused, reference).get(0)
        if org_id is None:
            return refused[0]
        earlier = _earlier(session, {(org_id, key)})
        if (org_id, key) not in earlier:
            return ConflictError(f"idempotency key {key!r} is being used by a concurrent request")
        return _replayed(session, {0: (org_id, earlier[org_id, key], request)}, reference)[0]


Earlier = tuple[str, list[int]]  # an idempotency record: the request's hash, the rows' ids


def _earlier(session: Session, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], Earlier]:
    found = IdempotencyRepository(session).many(pairs)
    return {
        pair: (request_hash, [int(i) for i in response["ids"]])
        for pair, (request_hash, _, response) in found.items()
    }


def _together(
    db: Database,
    requests: Sequence[ConversionRequest],
    indexes: list[int],
    reference: Reference,
    careful: bool,
) -> tuple[dict[int, Outcome], list[int]]:
    """Record the requests at ``indexes`` in one transaction; their outcomes, and the indexes
    left for another transaction (twins of a key whose first request failed). ``careful``:
    look up the earlier requests of every key first; otherwise only of requests refused by
    their checks (a refused retry of a stored request answers as stored), and _Taken if the
    insert of the records finds any key stored."""
    outcomes: dict[int, Outcome] = {}
    with db.transaction() as session:
        reference.begin(session)
        callers = _callers(session, requests, indexes, outcomes, reference)
        keyed = {(org, k) for i, org in callers.items() if (k := requests[i].idempotency_key)}
        earlier = _earlier(session, keyed) if keyed and careful else {}
        first: dict[tuple[int, str], int] = {}
        twins: dict[int, int] = {}
        replays: dict[int, tuple[int, Earlier, ConversionRequest]] = {}
        fresh: dict[int, list[int]] = {}  # by organization, in the order they came
        for index, org in callers.items():
            request = requests[index]
            if request.idempotency_key is not None:
                pair = (org, request.idempotency_key)
                if pair in earlier:
                    replays[index] = (org, earlier[pair], request)
                    continue
                if pair in first:
                    twins[index] = first[pair]
                    continue
                first[pair] = index
            fresh.setdefault(org, []).append(index)
        stored = _store(db, session, requests, fresh, outcomes, reference)
        if not careful:  # a request refused by its checks may be a retry of a stored one
            refused = {(callers[i], k): i for i in outcomes if i in callers
                       and (k := requests[i].idempotency_key) is not None}  # fmt: skip
            for pair, found in (_earlier(session, set(refused)) if refused else {}).items():
                index = refused[pair]
                del outcomes[index]
                replays[index] = (pair[0], found, requests[index])
        outcomes |= _replayed(session, replays, reference) | _answers(session, stored, reference)
    later: list[int] = []
    for index, original in twins.items():
        answer = outcomes[original]
        if not isinstance(answer, Recorded):
            later.append(index)
        elif requests[index].fingerprint != requests[original].fingerprint:
            outcomes[index] = _different_body(requests[index].idempotency_key)
        else:
            outcomes[index] = Recorded(answer.conversions, replayed=True)
    return outcomes, later


def _callers(
    session: Session,
    requests: Sequence[ConversionRequest],
    indexes: list[int],
    outcomes: dict[int, Outcome],
    reference: Reference,
) -> dict[int, int]:
    """The organization of each request whose caller is known or whose key is valid."""
    proofs = [key for i in indexes if (key := requests[i].key) is not None]
    holders = reference.organizations_of(session, proofs) if proofs else {}
    callers: dict[int, int] = {}
    for index in indexes:
        request = requests[index]
        if request.key is None:
            callers[index] = request.org_id  # type: ignore[assignment]  # checked by _refused
        elif request.key in holders:
            callers[index] = holders[request.key].id
        else:
            outcomes[index] = AuthenticationError("invalid or revoked API key")
    return callers


def _store(
    db: Database,
    session: Session,
    requests: Sequence[ConversionRequest],
    fresh: dict[int, list[int]],
    outcomes: dict[int, Outcome],
    reference: Reference,
) -> dict[int, list[Conversion]]:
    """Check and insert the fresh requests' rows (a request failing a check stores nothing),
    with their outbox entries and idempotency records."""
    rows: dict[int, list[dict[str, Any]]] = {}
    for org, members in fresh.items():
        items = [item for m in members for item in requests[m].items]
        lookups = Lookups.for_items(session, org, items, reference)
        for index in members:
            before = dict(lookups.orders)  # a refused request's sales are not refundable
            try:
                rows[index] = [
                    checked(db, org, item, row, lookups)
                    for row, item in enumerate(requests[index].items)
                ]
            except CrossPromoError as exc:
                lookups.orders = before
                outcomes[index] = exc
    rows = dict(sorted(rows.items()))  # stored in the order the requests came
    inserted = ConversionRepository(session).add_many([r for i in rows for r in rows[i]])
    stored: dict[int, list[Conversion]] = {}
    start = 0
    for index, values in rows.items():
        stored[index] = inserted[start : start + len(values)]
        start += len(values)
    for org, members in fresh.items():
        enqueue_conversions(
            session, org, [c for m in members for c in stored.get(m, [])], reference
        )
    records = [
        (conversions[0].org_id, key, requests[i].fingerprint, 201, [c.id for c in conversions])
        for i, conversions in stored.items()
        if (key := requests[i].idempotency_key) is not None
    ]
    if len(IdempotencyRepository(session).add_new(records)) < len(records):
        raise _Taken
    return stored


def _different_body(key: str | None) -> ConflictError:
    return ConflictError(
        f"idempotency key {key!r} was used for a different request body", idempotency_key=key
    )


def _replayed(
    session: Session,
    replays: dict[int, tuple[int, Earlier, ConversionRequest]],
    reference: Reference,
) -> dict[int, Outcome]:
    """The first answers of requests sent again (a 409 for another body under the key)."""
    outcomes: dict[int, Outcome] = {}
    wanted: dict[int, list[int]] = {}
    for index, (_, (request_hash, ids), request) in replays.items():
        if request_hash != request.fingerprint:
            outcomes[index] = _different_body(request.idempotency_key)
        else:
            wanted[index] = ids
    found: dict[int, Conversion] = {}
    repository = ConversionRepository(session)
    for org in {replays[i][0] for i in wanted}:
        ids = [c for i in wanted if replays[i][0] == org for c in wanted[i]]
        found |= {c.id: c for c in repository.many_for_org(org, ids)}
    again = {i: [found[c] for c in ids if c in found] for i, ids in wanted.items()}
    return outcomes | _answers(session, again, reference, replayed=True)


def _answers(
    session: Session,
    stored: dict[int, list[Conversion]],
    reference: Reference,
    replayed: bool = False,
) -> dict[int, Outcome]:
    every = [c for conversions in stored.values() for c in conversions]
    shown = iter(views(session, every, reference))
    return {i: Recorded([next(shown) for _ in cs], replayed) for i, cs in stored.items()}


def views(
    session: Session, items: Sequence[Conversion], reference: Reference | None = None
) -> list[ConversionView]:
    """Stored conversions as the API shows them (the partners' slugs in one query)."""
    reference = reference or Reference(keep=False)
    partners = reference.slugs(session, {c.partner_org_id for c in items if c.partner_org_id})
    return [
        ConversionView(
            c.id,
            c.kind,
            partners[c.partner_org_id] if c.partner_org_id else None,
            c.click_id,
            c.order_id,
            c.amount_minor,
            c.currency,
            c.occurred_at,
            c.recorded_at,
        )
        for c in items
    ]


def get_conversion(db: Database, org_id: int, conversion_id: int) -> ConversionView:
    with db.transaction() as session:
        found = ConversionRepository(session).get_for_org(org_id, conversion_id)
        return views(session, [found])[0]
