"""Overlap with another crosspromo server: answering an offer made there (the requester's side
runs here and only the three sealed messages travel, over HTTP to
``/overlap/v1/sessions/{id}/...``), and this server's side of an offer a remote requester
answers (message 1 in, message 2 out; message 3's counts kept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2 as httpx

from crosspromo.analytics.overlap import (
    Audience,
    Disclosure,
    OverlapResult,
    ProtocolMessageError,
    Requester,
    read_result,
    respond,
)
from crosspromo.analytics.overlap.blinding import Blinder
from crosspromo.domain.overlap import SessionStatus
from crosspromo.errors import InvalidInputError, NotFoundError, RemoteServerError
from crosspromo.services.discover.lists import ListOptions, read_identifiers
from crosspromo.services.discover.sessions import (
    JoinResult,
    check_level,
    check_usable,
    decode_token,
    present,
    record_of,
    responder_state,
    session_key,
)
from crosspromo.store.database import Database
from crosspromo.store.repositories import OverlapRepository


def request_overlap(
    url: str, session_id: str, token: str, path: Path, options: ListOptions,
    disclosure: Disclosure | str = Disclosure.COUNTS, org: tuple[Database, int] | None = None,
) -> JoinResult:  # fmt: skip
    """Answer a remote offer with the consented identifiers of ``path``: the customers of
    ``org`` (database, id) here who consent to partner sharing, or the rows of the file's
    consent column."""
    if org is not None:
        audience = present(*org, path, options, False).audience
    elif options.consent_column is None:
        raise InvalidInputError(
            "give an organization (its consents apply) or a consent column", field="org"
        )
    else:
        audience = Audience(read_identifiers(path, options).values.to_pylist())
    result = request_remote(url, session_id, token, audience, disclosure)
    return JoinResult.of(session_id, result)


def request_remote(
    url: str,
    session_id: str,
    token: str,
    audience: Audience,
    disclosure: Disclosure | str = Disclosure.COUNTS,
    timeout: float = 900.0,
) -> OverlapResult:
    """Answer an offer on another crosspromo server: our side runs here, only the three sealed
    messages travel."""
    key = decode_token(token)
    base = f"{url.rstrip('/')}/overlap/v1/sessions/{session_id}"
    headers = {"content-type": "application/octet-stream"}
    with Blinder() as ours, httpx.Client(timeout=timeout, headers=headers) as client:
        requester = Requester(session_id, key, audience, ours, Disclosure(disclosure))
        response = _post(client, f"{base}/request", requester.request())
        result = requester.finish(response)
        _post(client, f"{base}/result", requester.result_message())
    return result


def _post(client: Any, url: str, body: bytes) -> bytes:
    try:
        reply = client.post(url, content=body)
    except httpx.HTTPError as exc:
        raise RemoteServerError(f"{url}: {exc}") from None
    if reply.status_code >= 400:
        try:
            detail = reply.json().get("detail", reply.text)
        except ValueError:
            detail = reply.text[:200]
        raise RemoteServerError(f"the other server answered {reply.status_code}: {detail}")
    return bytes(reply.content)


RESULT_BYTES = 16 * 1024 * 1024  # message 3 carries counts only (a row a pair of segments)


def message_allowance(db: Database, session_id: str, step: str) -> int:
    """How large the body of a remote requester's ``step`` ("request": message 1, "result":
    message 3) may be: the session's own bound, known only once the session is found
    waiting for that message. NotFoundError or ConflictError before any body is read."""
    with db.transaction() as tx:
        offer = OverlapRepository(tx).get(session_id)
    if offer.partner_org_id is not None:
        raise NotFoundError(f"no overlap session {session_id!r}", session=session_id)
    if step == "request":
        check_usable(offer, SessionStatus.OPEN)
        return int(offer.max_bytes)
    check_usable(offer, SessionStatus.ANSWERED)
    return RESULT_BYTES


def answer_request(db: Database, session_id: str, data: bytes) -> bytes:
    """Message 2 for a remote requester's message 1 (its seal is its authentication)."""
    with db.transaction() as tx:
        offer = OverlapRepository(tx).get(session_id)
        level = OverlapRepository(tx).level(offer.org_id)
    if offer.partner_org_id is not None:
        raise NotFoundError(f"no overlap session {session_id!r}", session=session_id)
    check_usable(offer, SessionStatus.OPEN)
    disclosure = Disclosure(offer.disclosure)
    check_level(level, disclosure, "the responder")
    key = session_key(db, session_id)
    state = responder_state(db, offer)
    with Blinder(state.secret) as blinder:
        response = respond(
            state, session_id, key, data, blinder, frozenset({disclosure}), offer.max_bytes
        )
    with db.transaction() as tx:
        if not OverlapRepository(tx).move(session_id, SessionStatus.OPEN, SessionStatus.ANSWERED):
            raise ProtocolMessageError(
                f"overlap session {session_id} was already answered (replayed)", field="message"
            )
    return response


def accept_result(db: Database, session_id: str, data: bytes) -> OverlapResult:
    """Store the counts a remote requester sends in message 3."""
    with db.transaction() as tx:
        offer = OverlapRepository(tx).get(session_id)
    if offer.partner_org_id is not None:
        raise NotFoundError(f"no overlap session {session_id!r}", session=session_id)
    check_usable(offer, SessionStatus.ANSWERED)
    key = session_key(db, session_id)
    result = read_result(data, session_id, key, responder_state(db, offer))
    with db.transaction() as tx:
        if not OverlapRepository(tx).move(
            session_id, SessionStatus.ANSWERED, SessionStatus.DONE, record_of(result, "remote")
        ):
            raise ProtocolMessageError(
                f"overlap session {session_id} already has its result (replayed)",
                field="message",
            )
    return result
