"""Recording conversions: leads, sales and refunds, tied to a partner by click id, referral
code or coupon code. A batch is stored whole or not at all, and an idempotency key makes a
retried request return the first answer without storing anything again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy.orm import Session

from crosspromo.domain.clock import EARLIEST, LATEST
from crosspromo.domain.conversions import CodeKind, Conversion, ConversionKind, PartnerCode
from crosspromo.domain.links import check_custom_slug
from crosspromo.domain.models import check_slug
from crosspromo.domain.money import MAX_MINOR, Money
from crosspromo.errors import ConflictError, CrossPromoError, InvalidInputError, NotFoundError
from crosspromo.security import customer_id_hash
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.agree.partnerships import check_agreed
from crosspromo.services.track.outbound import enqueue_conversions
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    ClickRepository,
    ConversionRepository,
    IdempotencyRepository,
    OrganizationRepository,
    PartnerCodeRepository,
    PartnershipRepository,
)

MAX_BATCH = 10_000
MAX_LENGTHS = {"customer_external_id": 320, "order_id": 200}


@dataclass(frozen=True, slots=True)
class ConversionInput:
    kind: ConversionKind
    occurred_at: datetime
    amount_minor: int = 0
    currency: str | None = None
    customer_external_id: str | None = None
    click_id: str | None = None
    referral_code: str | None = None
    coupon_code: str | None = None
    order_id: str | None = None


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


def _views(session: Session, items: Sequence[Conversion]) -> list[ConversionView]:
    partners = OrganizationRepository(session).many(
        {c.partner_org_id for c in items if c.partner_org_id}
    )
    return [
        ConversionView(
            c.id,
            c.kind,
            partners[c.partner_org_id].slug if c.partner_org_id else None,
            c.click_id,
            c.order_id,
            c.amount_minor,
            c.currency,
            c.occurred_at,
            c.recorded_at,
        )
        for c in items
    ]


@dataclass(frozen=True, slots=True)
class Recorded:
    conversions: list[ConversionView]
    replayed: bool


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


def request_fingerprint(payload: Any) -> str:
    """SHA-256 of the canonical JSON of a request body (key order and spacing ignored)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    if not items:
        raise InvalidInputError("no conversions given", field="conversions")
    if len(items) > max_items:
        raise InvalidInputError(f"at most {max_items} conversions at once", field="conversions")
    identity_secret(db)  # read now: the rows below are made inside a transaction
    try:
        with db.transaction() as session:
            if idempotency_key is not None:
                earlier = _replay(session, org_id, idempotency_key, fingerprint)
                if earlier is not None:
                    return earlier
            lookups = Lookups.for_items(session, org_id, items)
            values = [_checked(db, org_id, item, row, lookups) for row, item in enumerate(items)]
            stored = ConversionRepository(session).add_many(values)
            enqueue_conversions(session, org_id, stored)
            if idempotency_key is not None:
                IdempotencyRepository(session).add(
                    org_id, idempotency_key, fingerprint, 201, {"ids": [c.id for c in stored]}
                )
            return Recorded(_views(session, stored), replayed=False)
    except ConflictError:
        if idempotency_key is None:
            raise
        with db.transaction() as session:  # a concurrent twin won: answer what it stored
            earlier = _replay(session, org_id, idempotency_key, fingerprint)
        if earlier is None:
            raise
        return earlier


def get_conversion(db: Database, org_id: int, conversion_id: int) -> ConversionView:
    with db.transaction() as session:
        return _views(session, [ConversionRepository(session).get_for_org(org_id, conversion_id)])[
            0
        ]


def _replay(session: Session, org_id: int, key: str, fingerprint: str) -> Recorded | None:
    earlier = IdempotencyRepository(session).get(org_id, key)
    if earlier is None:
        return None
    if earlier[0] != fingerprint:
        raise ConflictError(
            f"idempotency key {key!r} was used for a different request body",
            idempotency_key=key,
        )
    ids = [int(i) for i in earlier[2]["ids"]]
    stored = ConversionRepository(session).many_for_org(org_id, ids)
    return Recorded(_views(session, stored), replayed=True)


class Lookups:
    """Everything the rows of a batch refer to, fetched in a few queries, plus what the batch
    itself adds as it goes (a refund may follow its sale in the same batch)."""

    def __init__(
        self,
        session: Session,
        org_id: int,
        *,
        click_ids: set[str],
        codes: dict[CodeKind, set[str]],
        refund_orders: set[str],
    ) -> None:
        self.clicks = ClickRepository(session).by_click_ids(click_ids)
        repository = PartnerCodeRepository(session)
        self.codes = {
            kind: repository.many(org_id, codes.get(kind, set()), kind) for kind in CodeKind
        }
        self.orders = ConversionRepository(session).order_states(org_id, refund_orders)
        # credit goes only to partners under terms both sides accepted (active, not paused)
        self.credited = PartnershipRepository(session).active_partner_ids(org_id)

    @classmethod
    def for_items(cls, session: Session, org_id: int, items: list[ConversionInput]) -> Lookups:
        others = [i for i in items if i.kind is not ConversionKind.REFUND]
        return cls(
            session,
            org_id,
            click_ids={i.click_id for i in others if i.click_id},
            codes={
                kind: {c for i in others if (c := getattr(i, f"{kind}_code"))} for kind in CodeKind
            },
            refund_orders={
                i.order_id for i in items if i.kind is ConversionKind.REFUND and i.order_id
            },
        )

    def sale_added(self, values: dict[str, Any]) -> None:
        order = values["order_id"]
        if order and self.orders.get(order, (None, 0))[0] is None:
            self.orders[order] = (values, self.orders.get(order, (None, 0))[1])


def _checked(
    db: Database, org_id: int, item: ConversionInput, row: int, lookups: Lookups
) -> dict[str, Any]:
    try:
        return conversion_values(db, org_id, item, lookups)
    except CrossPromoError as exc:
        field = exc.details.get("field")
        raise InvalidInputError(
            f"row {row}: {exc.message}", row=row, field=field, reason=exc.message
        ) from None


def conversion_values(
    db: Database, org_id: int, item: ConversionInput, lookups: Lookups
) -> dict[str, Any]:
    """The row to store for ``item``, or a CrossPromoError naming the field (``field``)."""
    values = _values(db, org_id, item, lookups)
    if item.kind is ConversionKind.SALE:
        lookups.sale_added(values)
    return values


def _values(db: Database, org_id: int, item: ConversionInput, lookups: Lookups) -> dict[str, Any]:
    if item.occurred_at.tzinfo is None:
        raise InvalidInputError("occurred_at needs a time zone (e.g. ...Z)", field="occurred_at")
    if not EARLIEST <= item.occurred_at <= LATEST:
        raise InvalidInputError(
            "occurred_at must lie between 2000-01-01 and 2100-01-01", field="occurred_at"
        )
    if isinstance(item.amount_minor, bool) or not isinstance(item.amount_minor, int):
        raise InvalidInputError(
            "amount_minor is a whole number of minor units (0 for a lead without a value)",
            field="amount_minor",
        )
    if not -MAX_MINOR <= item.amount_minor <= MAX_MINOR:
        raise InvalidInputError(f"amount {item.amount_minor} is out of range", field="amount_minor")
    for field, limit in MAX_LENGTHS.items():
        text = getattr(item, field)
        if text is not None and len(text) > limit:
            raise InvalidInputError(f"{field} is longer than {limit} characters", field=field)
    values: dict[str, Any] = {
        "org_id": org_id,
        "kind": str(item.kind),
        "partner_org_id": None,
        "link_id": None,
        "click_id": None,
        "code_id": None,
        "order_id": item.order_id,
        "customer_hash": None,
        "amount_minor": item.amount_minor,
        "currency": item.currency,
        "occurred_at": item.occurred_at.astimezone(UTC),  # as stored, so replays match
    }
    if item.customer_external_id:
        secret = identity_secret(db)  # read before the transaction: record_conversions
        values["customer_hash"] = customer_id_hash(secret, org_id, item.customer_external_id)
    if item.kind is ConversionKind.LEAD:
        if item.amount_minor < 0:
            raise InvalidInputError("amount_minor must not be negative", field="amount_minor")
        if item.currency is not None:
            Money(item.amount_minor, item.currency)
    else:
        if item.currency is None:
            raise InvalidInputError(f"a {item.kind} needs a currency", field="currency")
        Money(item.amount_minor, item.currency)
        if item.amount_minor <= 0:
            raise InvalidInputError(f"a {item.kind} needs a positive amount", field="amount_minor")
    if item.kind is ConversionKind.REFUND:
        values.update(_refund_source(item, lookups))
        return values
    if item.click_id:
        click = lookups.clicks.get(item.click_id)
        if click is None or click[1] != org_id:
            raise NotFoundError(f"unknown click id {item.click_id!r}", field="click_id")
        values.update(link_id=click[0], partner_org_id=click[2], click_id=item.click_id)
    for kind, code in (
        (CodeKind.REFERRAL, item.referral_code),
        (CodeKind.COUPON, item.coupon_code),
    ):
        if code:
            found = lookups.codes[kind].get(code)
            if found is None:
                raise NotFoundError(f"unknown {kind} code {code!r}", field=f"{kind}_code")
            if not found.active:  # the brand stopped it: the sender is told, nothing is credited
                raise InvalidInputError(
                    f"{kind} code {code!r} is stopped: send the conversion without it",
                    field=f"{kind}_code",
                )
            values["code_id"] = found.id
            values["partner_org_id"] = values["partner_org_id"] or found.partner_org_id
    if values["partner_org_id"] not in lookups.credited:  # kept as a fact, credited to nobody
        values["partner_org_id"] = None
    return values


def _refund_source(item: ConversionInput, lookups: Lookups) -> dict[str, Any]:
    """A refund reverses (part of) the sale with the same order id, crediting its partner."""
    if not item.order_id:
        raise InvalidInputError("a refund needs the order_id of its sale", field="order_id")
    sale, refunded = lookups.orders.get(item.order_id, (None, 0))
    if sale is None:
        raise NotFoundError(f"no sale with order_id {item.order_id!r} to refund", field="order_id")
    if sale["currency"] != item.currency:
        raise InvalidInputError(
            f"the refund is in {item.currency}, the sale in {sale['currency']}", field="currency"
        )
    if refunded + item.amount_minor > sale["amount_minor"]:
        left = sale["amount_minor"] - refunded
        raise InvalidInputError(
            f"refund of {item.amount_minor} exceeds what is left of the sale ({left})",
            field="amount_minor",
        )
    lookups.orders[item.order_id] = (sale, refunded + item.amount_minor)
    return {key: sale[key] for key in ("partner_org_id", "link_id", "click_id", "code_id")}


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
