"""Partner codes, conversions (append-only) and idempotency records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Row, func, select, tuple_

from crosspromo.domain.conversions import CodeKind, Conversion, ConversionKind, PartnerCode
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow
from crosspromo.store.repositories.rows import insert_rows
from crosspromo.store.repositories.stats import Window, add_conversions, empty_totals

CREDITED = {
    "id": pa.int64(),
    "kind": pa.string(),
    "occurred_at": pa.timestamp("us", tz="UTC"),
    "amount_minor": pa.int64(),
    "currency": pa.string(),
    "customer": pa.string(),
    "order_id": pa.string(),
    "click_id": pa.string(),
}


class PartnerCodeRepository(Repository):
    def add(self, org_id: int, partner_org_id: int, code: str, kind: CodeKind) -> PartnerCode:
        now = utcnow()
        values = {
            "org_id": org_id,
            "partner_org_id": partner_org_id,
            "code": code,
            "kind": str(kind),
            "active": True,
            "created_at": now,
        }
        code_id = self._insert(t.partner_codes, values, f"the code {code!r} is already in use")
        return PartnerCode(code_id, org_id, partner_org_id, code, kind, now)

    def many(self, org_id: int, codes: set[str], kind: CodeKind) -> dict[str, PartnerCode]:
        """The organization's codes of ``kind`` among ``codes`` (stopped ones too)."""
        found: dict[str, PartnerCode] = {}
        c = t.partner_codes.c
        wanted = sorted(codes)
        for start in range(0, len(wanted), 500):
            rows = self.session.execute(
                select(t.partner_codes).where(
                    c.org_id == org_id,
                    c.code.in_(wanted[start : start + 500]),
                    c.kind == str(kind),
                )
            )
            found.update({r.code: _code(r) for r in rows})
        return found

    def set_active(self, org_id: int, code: str, active: bool) -> PartnerCode:
        """Stop (a conversion quoting it is no longer credited) or restart the code."""
        self._set_active(t.partner_codes, org_id, code, active, f"no code {code!r}")
        row = self.session.execute(
            select(t.partner_codes).where(
                t.partner_codes.c.org_id == org_id, t.partner_codes.c.code == code
            )
        ).one()
        return _code(row)

    def for_partner(self, partner_org_id: int) -> list[PartnerCode]:
        """The codes brands issued to the partner organization, newest first."""
        c = t.partner_codes.c
        rows = self.session.execute(
            select(t.partner_codes).where(c.partner_org_id == partner_org_id).order_by(c.id.desc())
        )
        return [_code(r) for r in rows]

    def for_org(self, org_id: int) -> list[PartnerCode]:
        rows = self.session.execute(
            select(t.partner_codes)
            .where(t.partner_codes.c.org_id == org_id)
            .order_by(t.partner_codes.c.id)
        )
        return [_code(r) for r in rows]


class ConversionRepository(Repository):
    def any_for(self, org_id: int) -> bool:
        """Whether the organization has recorded any conversion at all (one indexed lookup)."""
        c = t.conversions.c
        found = self.session.execute(select(c.id).where(c.org_id == org_id).limit(1)).first()
        return found is not None

    def add_many(self, rows: Sequence[dict[str, Any]]) -> list[Conversion]:
        """Insert rows in one statement per chunk; returns them with their new ids, in order."""
        recorded = utcnow()
        stored: list[Conversion] = []
        for start in range(0, len(rows), 5000):
            chunk = [{**r, "recorded_at": recorded} for r in rows[start : start + 5000]]
            ids = [r[0] for r in insert_rows(self.session, t.conversions, chunk, ("id",))]
            stored += [_conversion_from({**r, "id": i}) for r, i in zip(chunk, ids, strict=True)]
        return stored

    def add_tables(self, tables: Iterable[pa.Table]) -> None:
        """Insert Arrow tables whose columns are conversions columns (all but id and
        recorded_at), each stamped recorded now; in one COPY on PostgreSQL."""
        recorded = pa.scalar(utcnow(), pa.timestamp("us", tz="UTC"))
        stamped = (x.append_column("recorded_at", pa.repeat(recorded, len(x))) for x in tables)
        self._copy_in(t.conversions, stamped)

    def order_states(
        self, org_id: int, orders: set[str]
    ) -> dict[str, tuple[dict[str, Any] | None, int]]:
        """For each order id: (its first sale's values, amount refunded so far). On PostgreSQL
        each order's sales are locked first, until the transaction ends: a concurrent refund of
        the same order waits, then reads this one's (refunds stay within their sale)."""
        c = t.conversions.c
        states: dict[str, tuple[dict[str, Any] | None, int]] = {}
        wanted = sorted(orders)
        postgres = self.session.get_bind().dialect.name == "postgresql"
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            if postgres:  # the lock first; the read below is a new statement, seeing past it
                sales = (c.org_id == org_id, c.order_id.in_(chunk), c.kind == "sale")
                self.session.execute(select(c.id).where(*sales).order_by(c.id).with_for_update())
            rows = self.session.execute(
                select(t.conversions)
                .where(
                    c.org_id == org_id, c.order_id.in_(chunk), c.kind != ConversionKind.LEAD.value
                )
                .order_by(c.id)
            )
            for row in rows:
                sale, refunded = states.get(row.order_id, (None, 0))
                if row.kind == ConversionKind.SALE.value and sale is None:
                    sale = dict(row._mapping)
                elif row.kind == ConversionKind.REFUND.value:
                    refunded += int(row.amount_minor)
                states[row.order_id] = (sale, refunded)
        return states

    def credited_to(self, org_id: int, partner_org_id: int, until: datetime) -> pa.Table:
        """The brand's conversions credited to the partner that occurred before ``until``, in
        time order, as Arrow columns: id, kind, occurred_at, amount_minor, currency, customer,
        order_id, click_id."""
        c = t.conversions.c
        statement = (
            select(
                c.id,
                c.kind,
                c.occurred_at,
                c.amount_minor,
                c.currency,
                c.customer_hash,
                c.order_id,
                c.click_id,
            )
            .where(c.org_id == org_id, c.partner_org_id == partner_org_id, c.occurred_at < until)
            .order_by(c.occurred_at, c.id)
        )
        return self._arrow(statement, CREDITED)

    def many_for_org(self, org_id: int, ids: Sequence[int]) -> list[Conversion]:
        rows = self.session.execute(
            select(t.conversions).where(
                t.conversions.c.org_id == org_id, t.conversions.c.id.in_(list(ids))
            )
        )
        found = {r.id: _conversion(r) for r in rows}
        return [found[i] for i in ids if i in found]

    def get_for_org(self, org_id: int, conversion_id: int) -> Conversion:
        found = self.many_for_org(org_id, [conversion_id])
        if not found:
            raise NotFoundError(f"no conversion with id {conversion_id}")
        return found[0]

    def link_totals(
        self, link_id: int, window: Window | None = None
    ) -> tuple[int, int, dict[str, int]]:
        """(leads, sales, net revenue per currency) of the conversions credited to a link,
        those that occurred in [start, end) of ``window`` if given."""
        c = t.conversions.c
        within = [] if window is None else [c.occurred_at >= window[0], c.occurred_at < window[1]]
        rows = self.session.execute(
            select(c.kind, c.currency, func.count(), func.coalesce(func.sum(c.amount_minor), 0))
            .where(c.link_id == link_id, *within)
            .group_by(c.kind, c.currency)
        )
        item = empty_totals()
        for kind, currency, count, amount in rows:
            add_conversions(item, kind, currency, int(count), int(amount))
        return item["leads"], item["sales"], item["revenue"]


Earlier = tuple[str, int, dict[str, Any]]


class IdempotencyRepository(Repository):
    def many(self, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], Earlier]:
        """(request hash, status code, stored response) of earlier requests, by (organization,
        key), for the ``pairs`` that have one."""
        c = t.idempotency_records.c
        found: dict[tuple[int, str], Earlier] = {}
        wanted = sorted(pairs)
        for start in range(0, len(wanted), 500):
            rows = self.session.execute(
                select(c.org_id, c.key, c.request_hash, c.status_code, c.response).where(
                    tuple_(c.org_id, c.key).in_(wanted[start : start + 500])
                )
            )
            found |= {(r.org_id, r.key): (r[2], int(r[3]), dict(r[4])) for r in rows}
        return found

    def add_new(self, rows: Sequence[tuple[int, str, str, int, list[int]]]) -> set[tuple[int, str]]:
        """Records of (organization, key, request hash, status, ids stored) whose key no
        earlier request holds: the (organization, key) pairs stored. A key stored before, or
        meanwhile by a concurrent request (whose transaction is waited for), is left as it
        was: the unique index decides, whatever the table's statistics."""
        if not rows:
            return set()
        now = utcnow()
        stored = insert_rows(
            self.session,
            t.idempotency_records,
            [
                {"org_id": org_id, "key": key, "request_hash": request_hash,
                 "status_code": status, "response": {"ids": ids}, "created_at": now}
                for org_id, key, request_hash, status, ids in rows
            ],
            returning=("org_id", "key"),
            skip_duplicates_of=("org_id", "key"),
        )  # fmt: skip
        return {(org_id, key) for org_id, key in stored}


def _code(row: Row[Any]) -> PartnerCode:
    return PartnerCode(
        row.id,
        row.org_id,
        row.partner_org_id,
        row.code,
        CodeKind(row.kind),
        row.created_at,
        bool(row.active),
    )


def _conversion(row: Row[Any]) -> Conversion:
    return _conversion_from(row._mapping)


def _conversion_from(values: Any) -> Conversion:
    occurred: datetime = values["occurred_at"]
    return Conversion(
        id=values["id"],
        org_id=values["org_id"],
        kind=ConversionKind(values["kind"]),
        partner_org_id=values["partner_org_id"],
        link_id=values["link_id"],
        click_id=values["click_id"],
        code_id=values["code_id"],
        order_id=values["order_id"],
        customer_hash=values["customer_hash"],
        amount_minor=int(values["amount_minor"]),
        currency=values["currency"],
        occurred_at=occurred,
        recorded_at=values["recorded_at"],
    )
