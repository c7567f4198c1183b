"""Commission lines (their money fixed, their state moving), the runs that compute them, and
the fraud holds on conversions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import and_, case, func, select, text, update
from sqlalchemy.orm import Session

from crosspromo.errors import ConflictError, NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow

if TYPE_CHECKING:  # pandas loads only with the commands that compute
    import pandas as pd

LINE_COLUMNS = (
    "org_id",
    "partner_org_id",
    "partnership_id",
    "conversion_id",
    "version",
    "rule",
    "seq",
    "currency",
    "amount_minor",
    "period",
    "occurred_at",
    "due_on",
    "status",
    "approved_on",
    "run_id",
    "created_at",
)


POSTED = {
    "conversion": pa.int64(),
    "version": pa.int64(),
    "rule": pa.int64(),
    "amount": pa.int64(),
    "lines": pa.int64(),
    "due_on": pa.date32(),
    "currency": pa.string(),
    "period": pa.string(),
}


@dataclass(frozen=True, slots=True)
class HoldRow:
    id: int
    org_id: int
    partner_org_id: int
    conversion_id: int
    check_name: str
    reason: str
    status: str
    note: str
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


class CommissionRepository(Repository):
    def lock(self, org_id: int) -> None:
        """Hold the organization's commissions for this transaction (computations, decisions
        and payouts of one brand run one at a time; SQLite's write lock already does it)."""
        if self.session.connection().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(19, :org)"), {"org": org_id})

    def last_as_of(self, org_id: int) -> date | None:
        c = t.commission_runs.c
        return self.session.execute(select(func.max(c.as_of)).where(c.org_id == org_id)).scalar()

    def start_run(self, org_id: int, as_of: date) -> int:
        values = {
            "org_id": org_id,
            "as_of": as_of,
            "lines": 0,
            "approved": 0,
            "held": 0,
            "created_at": utcnow(),
        }
        return self._insert(t.commission_runs, values, "a computation is running")

    def finish_run(self, run_id: int, lines: int, approved: int, held: int) -> None:
        c = t.commission_runs.c
        self.session.execute(
            update(t.commission_runs)
            .where(c.id == run_id)
            .values(lines=lines, approved=approved, held=held)
        )

    def posted(self, org_id: int, partner_org_id: int) -> pa.Table:
        """Per (conversion, version, rule) with lines: their sum, how many, when the first is
        due, its currency and period, as Arrow columns."""
        c = t.commission_lines.c
        statement = (
            select(
                c.conversion_id,
                c.version,
                c.rule,
                func.sum(c.amount_minor),
                func.count(),
                func.min(c.due_on),
                func.min(c.currency),
                func.min(c.period),
            )
            .where(c.org_id == org_id, c.partner_org_id == partner_org_id)
            .group_by(c.conversion_id, c.version, c.rule)
        )
        return self._arrow(statement, POSTED)

    def add_frame(self, lines: pd.DataFrame) -> None:
        """Insert new lines (a frame with every LINE_COLUMNS column), in bulk."""
        if lines.empty:
            return
        types = {
            "occurred_at": pa.timestamp("us", tz="UTC"),
            "created_at": pa.timestamp("us", tz="UTC"),
            "due_on": pa.date32(),
            "approved_on": pa.date32(),
            "currency": pa.string(),
            "period": pa.string(),
            "status": pa.string(),
        }
        table = pa.table(
            {
                n: pa.array(lines[n], type=types.get(n, pa.int64()), from_pandas=True)
                for n in LINE_COLUMNS
            }
        )
        self._copy_in(t.commission_lines, [table])

    def due(self, org_id: int, as_of: date) -> list[tuple[int, str, int, int]]:
        """(partner, currency, amount, lines) of the pending lines due by ``as_of``."""
        c = t.commission_lines.c
        rows = self.session.execute(
            select(c.partner_org_id, c.currency, func.sum(c.amount_minor), func.count())
            .where(c.org_id == org_id, c.status == "pending", c.due_on <= as_of)
            .group_by(c.partner_org_id, c.currency)
        )
        return [(int(r[0]), r[1], int(r[2]), int(r[3])) for r in rows]

    def approve_due(self, org_id: int, as_of: date) -> None:
        """Approve the pending lines due by ``as_of``, each on the day its holding ended."""
        c = t.commission_lines.c
        self.session.execute(
            update(t.commission_lines)
            .where(c.org_id == org_id, c.status == "pending", c.due_on <= as_of)
            .values(status="approved", approved_on=c.due_on)
        )

    def set_status(self, conversion_ids: Iterable[int], was: str, now: str) -> None:
        c = t.commission_lines.c
        ids = sorted(set(conversion_ids))
        for start in range(0, len(ids), 500):
            self.session.execute(
                update(t.commission_lines)
                .where(c.conversion_id.in_(ids[start : start + 500]), c.status == was)
                .values(status=now)
            )

    def buckets(
        self, org_id: int, as_of: date, until: datetime, side: str = "brand"
    ) -> list[tuple[int, str, str, int, int]]:
        """(other party, currency, bucket, amount, reversed) of the lines the organization owes
        (``side="partner"``: is owed) caused by events before ``until``, as they stood on
        ``as_of``: held, rejected, paid (in a payout paid as of that day), approved (on or
        before it) or pending."""
        c, p = t.commission_lines.c, t.payouts.c
        mine, other = (
            (c.org_id, c.partner_org_id) if side == "brand" else (c.partner_org_id, c.org_id)
        )
        bucket = case(
            (c.status.in_(("held", "rejected")), c.status),
            (and_(c.status == "paid", p.as_of <= as_of), "paid"),
            (and_(c.status.in_(("approved", "paid")), c.approved_on <= as_of), "approved"),
            else_="pending",
        )
        reversed_ = func.sum(case((c.amount_minor < 0, -c.amount_minor), else_=0))
        query = (
            select(other, c.currency, bucket, func.sum(c.amount_minor), reversed_)
            .select_from(t.commission_lines.outerjoin(t.payouts, p.id == c.payout_id))
            .where(mine == org_id, c.occurred_at < until)
            .group_by(other, c.currency, bucket)
        )
        return [(int(r[0]), r[1], r[2], int(r[3]), int(r[4])) for r in self.session.execute(query)]

    def payable(self, org_id: int, as_of: date) -> list[tuple[int, str, int, int]]:
        """(partner, currency, amount, lines) approved by ``as_of`` and in no payout."""
        c = t.commission_lines.c
        rows = self.session.execute(
            select(c.partner_org_id, c.currency, func.sum(c.amount_minor), func.count())
            .where(
                c.org_id == org_id,
                c.status == "approved",
                c.payout_id.is_(None),
                c.approved_on <= as_of,
            )
            .group_by(c.partner_org_id, c.currency)
        )
        return [(int(r[0]), r[1], int(r[2]), int(r[3])) for r in rows]

    def assign(
        self,
        org_id: int,
        partner_org_id: int,
        currency: str,
        as_of: date,
        payout_id: int | None,
        *,
        from_payout: int | None = None,
    ) -> int:
        """Put the payable lines into a payout (or, ``from_payout`` given, release its lines);
        how many lines moved."""
        c = t.commission_lines.c
        which = (
            [c.payout_id == from_payout]
            if from_payout is not None
            else [
                c.org_id == org_id,
                c.partner_org_id == partner_org_id,
                c.currency == currency,
                c.status == "approved",
                c.payout_id.is_(None),
                c.approved_on <= as_of,
            ]
        )
        done = self.session.execute(
            update(t.commission_lines).where(*which).values(payout_id=payout_id)
        )
        return int(done.rowcount)  # type: ignore[attr-defined]

    def mark_paid(self, payout_id: int) -> None:
        c = t.commission_lines.c
        self.session.execute(
            update(t.commission_lines)
            .where(c.payout_id == payout_id, c.status == "approved")
            .values(status="paid")
        )


class HoldRepository(Repository):
    def add_many(self, rows: Sequence[dict[str, Any]]) -> int:
        """Open holds (org, partner, conversion, check, reason) not open before; how many."""
        fresh = [{**r, "status": "open", "note": ""} for r in rows]
        return self._insert_new(
            t.commission_holds, fresh, ["conversion_id", "check_name"], "created_at"
        )

    def for_conversions(self, org_id: int, partner_org_id: int) -> dict[int, str]:
        """Each held conversion's standing: rejected if any check was rejected, else held if
        any is open (approved holds release it)."""
        c = t.commission_holds.c
        rows = self.session.execute(
            select(c.conversion_id, c.status).where(
                c.org_id == org_id, c.partner_org_id == partner_org_id, c.status != "approved"
            )
        )
        found: dict[int, str] = {}
        for conversion, status in rows:
            if found.get(int(conversion)) != "rejected":
                found[int(conversion)] = "rejected" if status == "rejected" else "held"
        return found

    def list(
        self,
        org_id: int,
        *,
        status: str | None = None,
        party: str = "org_id",
        hold_id: int | None = None,
    ) -> list[HoldRow]:
        """The holds on the organization's conversions (``party="partner_org_id"``: on those
        credited to it), by status or one by its id."""
        c = t.commission_holds.c
        query = select(t.commission_holds).where(c[party] == org_id)
        if status is not None:
            query = query.where(c.status == status)
        if hold_id is not None:
            query = query.where(c.id == hold_id)
        return [HoldRow(**r._mapping) for r in self.session.execute(query.order_by(c.id))]

    def get(self, org_id: int, hold_id: int) -> HoldRow:
        """One of the brand's holds (NotFound for anyone else's)."""
        found = self.list(org_id, hold_id=hold_id)
        if not found:
            raise NotFoundError(f"no hold with id {hold_id}")
        return found[0]

    def decide(self, hold_id: int, status: str, note: str, by: str) -> None:
        c = t.commission_holds.c
        done = self.session.execute(
            update(t.commission_holds)
            .where(c.id == hold_id, c.status == "open")
            .values(status=status, note=note, decided_by=by, decided_at=utcnow())
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise ConflictError(f"hold {hold_id} was decided already")

    def open_for(self, conversion_id: int) -> int:
        c = t.commission_holds.c
        return int(
            self.session.execute(
                select(func.count()).where(c.conversion_id == conversion_id, c.status == "open")
            ).scalar_one()
        )


class FraudSettingsRepository(Repository):
    def get(self, org_id: int) -> dict[str, Any] | None:
        c = t.fraud_settings.c
        found = self.session.execute(select(c.settings).where(c.org_id == org_id)).scalar()
        return None if found is None else dict(found)

    def put(self, org_id: int, settings: dict[str, Any]) -> None:
        self._upsert(
            t.fraud_settings, {"org_id": org_id, "settings": settings, "updated_at": utcnow()}
        )


class FraudFacts:
    """What the fraud checks read about one brand's conversions credited to one partner."""

    def __init__(self, session: Session, brand: int, partner: int) -> None:
        self.session, self.brand, self.partner = session, brand, partner

    def clicks_of(self, click_ids: set[str]) -> dict[str, tuple[datetime, str]]:
        """Each click's time and visitor hash."""
        c = t.clicks.c
        found: dict[str, tuple[datetime, str]] = {}
        wanted = sorted(click_ids)
        for start in range(0, len(wanted), 500):
            rows = self.session.execute(
                select(c.click_id, c.clicked_at, c.visitor_hash).where(
                    c.click_id.in_(wanted[start : start + 500])
                )
            )
            found.update({r[0]: (r[1], r[2]) for r in rows})
        return found

    def visitor_clicks(self, visitors: set[str]) -> dict[str, list[datetime]]:
        """The times each visitor clicked the partner's links of the brand."""
        c = t.clicks.c
        found: dict[str, list[datetime]] = {}
        wanted = sorted(visitors)
        for start in range(0, len(wanted), 500):
            rows = self.session.execute(
                select(c.visitor_hash, c.clicked_at).where(
                    c.org_id == self.brand,
                    c.partner_org_id == self.partner,
                    c.visitor_hash.in_(wanted[start : start + 500]),
                )
            )
            for visitor, moment in rows:
                found.setdefault(visitor, []).append(moment)
        return found

    def duplicate_orders(self) -> dict[str, int]:
        """The brand's order ids that more than one sale claimed, each with its first sale."""
        c = t.conversions.c
        rows = self.session.execute(
            select(c.order_id, func.min(c.id))
            .where(c.org_id == self.brand, c.kind == "sale", c.order_id.is_not(None))
            .group_by(c.order_id)
            .having(func.count() > 1)
        )
        return {r[0]: int(r[1]) for r in rows}

    def daily_clicks(self, since: date, until: datetime) -> dict[date, int]:
        c = t.clicks.c
        rows = self.session.execute(
            select(c.clicked_at).where(
                c.org_id == self.brand,
                c.partner_org_id == self.partner,
                c.is_bot.is_(False),
                c.clicked_at >= _midnight(since),
                c.clicked_at < until,
            )
        )
        return dict(Counter(r[0].date() for r in rows))

    def daily_conversions(self, since: date, until: datetime) -> dict[date, int]:
        c = t.conversions.c
        rows = self.session.execute(
            select(c.occurred_at).where(
                c.org_id == self.brand,
                c.partner_org_id == self.partner,
                c.kind != "refund",
                c.occurred_at >= _midnight(since),
                c.occurred_at < until,
            )
        )
        return dict(Counter(r[0].date() for r in rows))

    def refunds(self, since: datetime, until: datetime) -> tuple[int, int, int]:
        """(sales, their amount, the amount refunded) credited to the partner in the window."""
        c = t.conversions.c
        rows = self.session.execute(
            select(c.kind, func.count(), func.coalesce(func.sum(c.amount_minor), 0))
            .where(
                c.org_id == self.brand,
                c.partner_org_id == self.partner,
                c.kind.in_(("sale", "refund")),
                c.occurred_at >= since,
                c.occurred_at < until,
            )
            .group_by(c.kind)
        )
        found = {r[0]: (int(r[1]), int(r[2])) for r in rows}
        sales, sold = found.get("sale", (0, 0))
        return sales, sold, found.get("refund", (0, 0))[1]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)
