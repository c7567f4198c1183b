"""Recording conversions: leads, sales and refunds, tied to a partner by click id, referral
code or coupon code (``crediting``); stored whole or not at all, replayed under an idempotency
key (``recording``); and the partner codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crosspromo.domain.conversions import CodeKind, PartnerCode
from crosspromo.domain.links import check_custom_slug
from crosspromo.domain.models import check_slug
from crosspromo.services.agree.partnerships import check_agreed
from crosspromo.services.track.crediting import MAX_LENGTHS, ConversionInput
from crosspromo.services.track.recording import (
    MAX_BATCH,
    ConversionRequest,
    ConversionView,
    Recorded,
    get_conversion,
    record_requests,
    request_fingerprint,
)
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, PartnerCodeRepository

__all__ = [
    "MAX_BATCH",
    "MAX_LENGTHS",
    "CodeView",
    "ConversionInput",
    "ConversionRequest",
    "ConversionView",
    "Recorded",
    "create_code",
    "get_conversion",
    "list_codes",
    "record_conversions",
    "record_requests",
    "request_fingerprint",
    "set_code_active",
]


@dataclass(frozen=True, slots=True)
class CodeView:
    """A referral or coupon code and the partner it credits."""

    code: str
    kind: CodeKind
    partner: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, code: PartnerCode, partner: str) -> CodeView:
        return cls(code.code, code.kind, partner, code.active, code.created_at)


def record_conversions(
    db: Database,
    org_id: int,
    items: list[ConversionInput],
    *,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    max_items: int = MAX_BATCH,
) -> Recorded:
    """Store every item or none; errors name the row (``row``) and the field."""
    request = ConversionRequest(items, org_id, None, idempotency_key, fingerprint, max_items)
    outcome = record_requests(db, [request])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def create_code(
    db: Database, org_id: int, partner_slug: str, code: str, kind: CodeKind
) -> CodeView:
    """A referral or coupon code for a partner whose partnership is active."""
    check_slug(partner_slug, "partner")
    check_custom_slug(code)
    with db.transaction() as session:
        partner = check_agreed(session, org_id, partner_slug)
        added = PartnerCodeRepository(session).add(org_id, partner.id, code, kind)
        return CodeView.of(added, partner.slug)


def set_code_active(db: Database, org_id: int, code: str, active: bool) -> CodeView:
    """Stop a code (a leaked coupon: a new conversion quoting it is refused, naming the code
    as stopped, so the shop stops taking it too) or restart it; conversions credited before
    are kept."""
    with db.transaction() as session:
        changed = PartnerCodeRepository(session).set_active(org_id, code, active)
        partner = OrganizationRepository(session).get(changed.partner_org_id)
    return CodeView.of(changed, partner.slug)


def list_codes(db: Database, org_id: int) -> list[CodeView]:
    with db.transaction() as session:
        codes = PartnerCodeRepository(session).for_org(org_id)
        partners = OrganizationRepository(session).many(c.partner_org_id for c in codes)
    return [CodeView.of(c, partners[c.partner_org_id].slug) for c in codes]
