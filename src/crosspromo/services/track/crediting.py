"""What a conversion is credited with: the checks of one row and its click, referral code,
coupon code or (for a refund) sale, looked up for a whole batch at once. The API, the batch
route, webhooks and file imports all check rows here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.domain.clock import EARLIEST, LATEST
from crosspromo.domain.conversions import CodeKind, ConversionKind
from crosspromo.domain.money import MAX_MINOR, Money
from crosspromo.errors import CrossPromoError, InvalidInputError, NotFoundError
from crosspromo.security import customer_id_hash
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.track.reference import Reference
from crosspromo.store.database import Database
from crosspromo.store.repositories import ClickRepository, ConversionRepository

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
        reference: Reference | None = None,
    ) -> None:
        reference = reference or Reference(keep=False)
        self.clicks = ClickRepository(session).by_click_ids(click_ids) if click_ids else {}
        self.codes = {
            kind: reference.codes(session, org_id, kind, codes[kind]) if codes.get(kind) else {}
            for kind in CodeKind
        }
        self.orders = (
            ConversionRepository(session).order_states(org_id, refund_orders)
            if refund_orders
            else {}
        )
        # credit goes only to partners under terms both sides accepted (active, not paused)
        self.credited = reference.credited(session, org_id)

    @classmethod
    def for_items(
        cls,
        session: Session,
        org_id: int,
        items: list[ConversionInput],
        reference: Reference | None = None,
    ) -> Lookups:
        others = [i for i in items if i.kind is not ConversionKind.REFUND]
        return cls(
            session,
            org_id,
            reference=reference,
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


def checked(
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
