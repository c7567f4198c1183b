"""Answering an overlap offer made on another crosspromo server: the requester's side runs here
and only the three sealed messages travel, over HTTP to ``/overlap/v1/sessions/{id}/...``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2 as httpx

from crosspromo.analytics.overlap import Audience, Disclosure, OverlapResult, Requester
from crosspromo.analytics.overlap.blinding import Blinder
from crosspromo.errors import InvalidInputError, RemoteServerError
from crosspromo.services.discover.lists import ListOptions, read_identifiers
from crosspromo.services.discover.sessions import JoinResult, decode_token, present
from crosspromo.store.database import Database


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
