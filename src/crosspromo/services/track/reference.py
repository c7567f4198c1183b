"""What a conversion is checked against: API keys and their organizations, partner codes,
each brand's partnerships and webhook endpoints, the partners' slugs.

The conversion writer keeps one ``Reference`` between its transactions (each of its threads its
own copy), so a busy API reads that data once instead of once a request. Whatever it keeps is
dropped when the store's reference version has moved: triggers on those tables move it,
whoever writes them (this process, another worker, a migration, a hand-run UPDATE), and the
version is read at the start of every transaction that uses what is kept. A key revoked, a code
stopped, a partnership ended or paused or an endpoint added before a transaction starts is
therefore seen by it exactly as if nothing were kept. Whether a partnership's notice has run out
is judged at each use, from the kept row and today's date. A ``Reference`` made with
``keep=False`` reads everything afresh, once a transaction (imports, the batch route, pages).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crosspromo.domain import Organization, Partnership, PartnershipStatus
from crosspromo.domain.conversions import CodeKind, PartnerCode
from crosspromo.domain.webhooks import WebhookEndpoint
from crosspromo.services.accounts.keys import KeyProof, matching
from crosspromo.store import tables as t
from crosspromo.store.repositories import (
    ApiKeyRepository,
    OrganizationRepository,
    PartnerCodeRepository,
    PartnershipRepository,
    WebhookEndpointRepository,
)
from crosspromo.store.repositories.partnerships import running_partners

_MOST = 100_000  # entries kept of each kind, beyond which everything is read again


class _Kept(threading.local):
    """What one thread keeps (each writer thread its own: no locks, no torn reads)."""

    def __init__(self) -> None:
        self.forget(None)

    def forget(self, version: int | None) -> None:
        """Drop everything kept; what is kept from now on is of ``version``."""
        self.version = version
        self.keys: dict[str, tuple[Organization, str] | None] = {}
        self.codes: dict[tuple[int, CodeKind, str], PartnerCode | None] = {}
        self.partnerships: dict[int, list[Partnership]] = {}
        self.endpoints: dict[int, list[WebhookEndpoint]] = {}
        self.slugs: dict[int, str] = {}


class Reference:
    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep
        self._kept = _Kept()

    def begin(self, session: Session) -> None:
        """At the start of a transaction: drop what is kept if the store changed since."""
        if not self.keep:
            self._kept.forget(None)
            return
        version = session.execute(select(t.reference_version.c.version)).scalar_one()
        if version != self._kept.version:
            self._kept.forget(version)

    def organizations_of(
        self, session: Session, proofs: Iterable[KeyProof]
    ) -> dict[KeyProof, Organization]:
        """The organization of each proof of a valid, unrevoked key."""
        wanted = set(proofs)
        kept = self._kept.keys
        keys = {p.prefix: kept[p.prefix] for p in wanted if p.prefix in kept}
        missing = {p.prefix for p in wanted} - keys.keys()
        if missing:
            found = ApiKeyRepository(session).active_by_prefixes(missing)
            keys |= _keep(self._kept.keys, {prefix: found.get(prefix) for prefix in missing})
        return matching(wanted, keys)

    def codes(
        self, session: Session, org_id: int, kind: CodeKind, codes: set[str]
    ) -> dict[str, PartnerCode]:
        """The organization's codes of ``kind`` among ``codes`` (stopped ones too)."""
        kept = self._kept.codes
        known = {c: kept[org_id, kind, c] for c in codes if (org_id, kind, c) in kept}
        missing = codes - known.keys()
        if missing:
            found = PartnerCodeRepository(session).many(org_id, missing, kind)
            _keep(self._kept.codes, {(org_id, kind, c): found.get(c) for c in missing})
            known |= {c: found.get(c) for c in missing}
        return {c: code for c, code in known.items() if code is not None}

    def credited(self, session: Session, org_id: int) -> set[int]:
        """The partners conversions of ``org_id`` may credit: active partnerships (terms both
        accepted, not paused) whose notice has not run out today."""
        active = self._kept.partnerships.get(org_id)
        if active is None:
            active = PartnershipRepository(session).for_org(org_id, PartnershipStatus.ACTIVE)
            _keep(self._kept.partnerships, {org_id: active})
        return running_partners(org_id, active)

    def endpoints(self, session: Session, org_id: int) -> list[WebhookEndpoint]:
        """The organization's active webhook endpoints."""
        endpoints = self._kept.endpoints.get(org_id)
        if endpoints is None:
            endpoints = WebhookEndpointRepository(session).for_org(org_id)
            _keep(self._kept.endpoints, {org_id: endpoints})
        return endpoints

    def slugs(self, session: Session, org_ids: Iterable[int]) -> dict[int, str]:
        """The slugs of the organizations ``org_ids``."""
        wanted = set(org_ids)
        slugs = {i: self._kept.slugs[i] for i in wanted if i in self._kept.slugs}
        missing = wanted - slugs.keys()
        if missing:
            found = OrganizationRepository(session).many(missing)
            slugs |= _keep(self._kept.slugs, {i: org.slug for i, org in found.items()})
        return slugs


def _keep(kept: dict[Any, Any], new: dict[Any, Any]) -> dict[Any, Any]:
    """Keep ``new`` in ``kept`` (emptied first when it would grow past its bound)."""
    if len(kept) + len(new) > _MOST:
        kept.clear()
    kept.update(new)
    return new
