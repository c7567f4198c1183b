"""Computing commissions: each conversion credited to a partner earns under the terms version
both sides accepted that governs its day, by ``domain.commission.owed``; what differs from the
lines posted before becomes a new line (negative: a reversal), so computing again changes
nothing and a refund reverses exactly what it undoes, also after payment.

A line is **pending** until its holding period ends (the conversion's day plus the terms'
``holding_days``; a correction keeps the first line's day), then **approved** on that day,
unless a fraud check **held** its conversion (approved or **rejected** by the brand). Approved
lines post to the ledger (one balanced transaction per partner and currency and run); a payout
marks them **paid**. ``as_of`` judges by the conversions' own times: those that occurred by the
end of that day count, whenever they were recorded. One brand's computations, decisions and
payouts run one at a time, each in one transaction: a crash half-way leaves nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from crosspromo.analytics.commissions import LEAD, REFUND, SALE, Credits, owed_lines
from crosspromo.domain.clock import checked_day, end_of
from crosspromo.domain.ledger import Transaction, approved, check
from crosspromo.errors import ConflictError
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.pay import fraud
from crosspromo.services.pay.versions import Paying, paying_versions
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    CommissionRepository,
    ConversionRepository,
    EventRepository,
    HoldRepository,
    LedgerRepository,
    OrganizationRepository,
    PartnershipRepository,
    RecordRepository,
)
from crosspromo.store.repositories.base import utcnow

HELD_EVENT = "commission.held"
Due = defaultdict[tuple[int, str], list[int]]  # (partner, currency) → [amount, lines]


@dataclass(frozen=True, slots=True)
class Computed:
    """One computation: as of which day, the lines it added, approved and the holds it made."""

    as_of: date
    lines: int
    approved: int
    held: int


def compute(db: Database, org_id: int, as_of: date | None = None) -> Computed:
    """Compute the brand's commissions as of a day (today by default; never a later day than
    a computation before it, which would undo what that day knew)."""
    day = checked_day(as_of)
    secret = identity_secret(db)  # read before the transaction opens
    with db.transaction() as session:
        repo = CommissionRepository(session)
        repo.lock(org_id)
        last = repo.last_as_of(org_id)
        if last is not None and day < last:
            raise ConflictError(
                f"commissions were computed as of {last}: compute as of that day "
                "or later (an earlier day would undo what it knew)"
            )
        run = repo.start_run(org_id, day)
        brand = OrganizationRepository(session).get(org_id)
        lines = held = 0
        approved_now: Due = defaultdict(lambda: [0, 0])
        for partnership in PartnershipRepository(session).for_org(org_id):
            versions = paying_versions(
                RecordRepository(session).entries(partnership.id), brand.slug
            )
            if versions:
                parties = (org_id, partnership.other_party(org_id))
                added, holds = _partner(
                    session, secret, run, day, partnership.id, parties, versions, approved_now
                )
                lines, held = lines + added, held + holds
        count = approve_due(session, org_id, day, f"commissions:run:{run}", approved_now)
        repo.finish_run(run, lines, count, held)
        return Computed(day, lines, count, held)


def _partner(
    session: Session,
    secret: str,
    run: int,
    day: date,
    partnership_id: int,
    parties: tuple[int, int],
    versions: Sequence[Paying],
    approved_now: Due,
) -> tuple[int, int]:
    """New lines for one partner's conversions (those due and not held are approved as they
    are written, and added to ``approved_now``); (lines added, holds made). Whole columns at
    a time: the rules by ``analytics.commissions``, the differences by one join."""
    brand, partner = parties
    table = ConversionRepository(session).credited_to(brand, partner, end_of(day))
    credits = _credits(table)
    version_at = _governing(credits, versions)
    targets = _targets(credits, versions, version_at)
    posted = CommissionRepository(session).posted(brand, partner).to_pandas()
    merged = targets.merge(
        posted, on=["conversion", "version", "rule"], how="outer", suffixes=("", "_posted")
    )
    merged["delta"] = merged["target"].fillna(0).astype("int64") - merged["amount"].fillna(
        0
    ).astype("int64")
    fresh = np.setdiff1d(targets["conversion"].to_numpy(), posted["conversion"].to_numpy())
    suspects = table.select(["id", "kind", "occurred_at", "click_id", "order_id", "customer"])
    suspects = suspects.filter(pc.is_in(table["id"], value_set=pa.array(fresh, pa.int64())))
    found = fraud.holds(
        session, secret, brand, partner, suspects, end_of(day), fraud.settings_of(session, brand)
    )
    holds = HoldRepository(session)
    made = holds.add_many(
        [
            {
                "org_id": brand,
                "partner_org_id": partner,
                "conversion_id": c,
                "check_name": name,
                "reason": reason,
            }
            for c, name, reason in found
        ]
    )
    _log_holds(session, brand, partner, found)
    new = merged[merged["delta"] != 0].sort_values(["conversion", "version", "rule"])
    if new.empty:
        return 0, made
    lines = _new_lines(new, credits, versions, version_at, day)
    standing = pd.Series(holds.for_conversions(brand, partner), dtype="object")
    held = lines["conversion_id"].map(standing)
    due = pd.to_datetime(lines["due_on"]).dt.date <= day
    lines["status"] = held.where(held.notna(), np.where(due, "approved", "pending"))
    # approved when its holding ended, or when the event it follows came, if later (a refund's
    # reversal of a sale approved before)
    on = np.maximum(
        pd.to_datetime(lines["due_on"]).to_numpy(),
        lines["occurred_at"].dt.tz_localize(None).dt.normalize().to_numpy(),
    )
    lines["approved_on"] = pd.Series(on).dt.date.where(lines["status"] == "approved", None)
    for currency, amount, count in (
        lines[lines["status"] == "approved"]
        .groupby("currency")["amount_minor"]
        .agg(["sum", "count"])
        .itertuples()
    ):
        approved_now[(partner, str(currency))][0] += int(amount)
        approved_now[(partner, str(currency))][1] += int(count)
    now = utcnow()
    lines = lines.assign(
        org_id=brand,
        partner_org_id=partner,
        partnership_id=partnership_id,
        run_id=run,
        created_at=now,
    )
    CommissionRepository(session).add_frame(lines)
    return len(lines), made


def _credits(table: pa.Table) -> Credits:
    """The conversions as arrays: currencies and customers coded, each refund pointing at the
    first sale with its order id."""
    kinds = table["kind"].to_numpy(zero_copy_only=False)
    kind = np.select([kinds == "lead", kinds == "sale"], [LEAD, SALE], REFUND).astype(np.int64)
    currency = pc.dictionary_encode(table["currency"]).combine_chunks()
    customer = pc.dictionary_encode(table["customer"]).combine_chunks()
    refund_of = np.full(table.num_rows, -1, np.int64)
    orders = table["order_id"].to_numpy(zero_copy_only=False)
    refunds = np.flatnonzero(kind == REFUND)
    if len(refunds):
        wanted = set(orders[refunds].tolist())
        first: dict[str, int] = {}
        for place in np.flatnonzero((kind == SALE) & np.isin(orders, list(wanted))).tolist():
            first.setdefault(orders[place], place)
        refund_of[refunds] = [first.get(o, -1) for o in orders[refunds].tolist()]
    return Credits(
        id=table["id"].to_numpy(),
        kind=kind,
        at=pc.cast(table["occurred_at"], pa.timestamp("us")).to_numpy(zero_copy_only=False),
        amount=table["amount_minor"].to_numpy(),
        currency=_codes(currency),
        currencies=currency.dictionary.to_pylist(),
        customer=_codes(customer),
        refund_of=refund_of,
    )


def _codes(encoded: pa.DictionaryArray) -> npt.NDArray[np.int64]:
    return np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)


def _governing(credits: Credits, versions: Sequence[Paying]) -> npt.NDArray[np.int64]:
    """Per conversion, the index of the version that governs its day (-1: none); a refund
    follows its sale."""
    day = credits.at.astype("datetime64[D]")
    starts = np.array([np.datetime64(v.start, "D") for v in versions])
    newest = np.searchsorted(starts, day, side="right") - 1
    ends = np.array([np.datetime64(v.end or date.max, "D") for v in versions])
    chosen = np.where((newest >= 0) & (day <= ends[np.maximum(newest, 0)]), newest, -1)
    refunds = np.flatnonzero(credits.kind == REFUND)
    chosen[refunds] = np.where(
        credits.refund_of[refunds] >= 0, chosen[np.maximum(credits.refund_of[refunds], 0)], -1
    )
    return chosen


def _targets(
    credits: Credits, versions: Sequence[Paying], version_at: npt.NDArray[np.int64]
) -> pd.DataFrame:
    frames = []
    for index, version in enumerate(versions):
        mine = np.flatnonzero(version_at == index)
        if not len(mine):
            continue
        part = _subset(credits, mine)
        found = owed_lines(version.commission, version.start, part)
        frames.append(
            pd.DataFrame(
                {
                    "conversion": found.conversion,
                    "version": version.version,
                    "rule": found.rule,
                    "target": found.amount,
                    "currency_target": np.array(found.currencies, dtype=object)[found.currency],
                    "period_target": found.period,
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {
                "conversion": pd.Series(dtype="int64"),
                "version": pd.Series(dtype="int64"),
                "rule": pd.Series(dtype="int64"),
                "target": pd.Series(dtype="int64"),
                "currency_target": pd.Series(dtype="object"),
                "period_target": pd.Series(dtype="object"),
            }
        )
    return pd.concat(frames, ignore_index=True)


def _subset(credits: Credits, rows: npt.NDArray[np.int64]) -> Credits:
    """Some of the conversions (in time order), refunds pointing into the subset."""
    where = np.full(len(credits), -1, np.int64)
    where[rows] = np.arange(len(rows))
    refund_of = credits.refund_of[rows]
    refund_of = np.where(refund_of >= 0, where[np.maximum(refund_of, 0)], -1)
    return Credits(
        credits.id[rows],
        credits.kind[rows],
        credits.at[rows],
        credits.amount[rows],
        credits.currency[rows],
        credits.currencies,
        credits.customer[rows],
        refund_of,
    )


def _new_lines(
    new: pd.DataFrame,
    credits: Credits,
    versions: Sequence[Paying],
    version_at: npt.NDArray[np.int64],
    day: date,
) -> pd.DataFrame:
    """The lines that bring each (conversion, version, rule) to its target: a correction keeps
    the first line's due day, currency and period; a first line is due its conversion's day
    plus the terms' holding days."""
    place = pd.Index(credits.id).get_indexer(new["conversion"].to_numpy())
    latest = credits.at.copy()  # each sale's latest event: itself or a refund of it
    refunds = np.flatnonzero((credits.kind == REFUND) & (credits.refund_of >= 0))
    np.maximum.at(latest, credits.refund_of[refunds], credits.at[refunds])
    holding = np.array([int(v.commission["holding_days"]) for v in versions] + [0], np.int64)
    first_due = (credits.at.astype("datetime64[D]") + holding[version_at].astype("timedelta64[D]"))[
        place
    ]
    before = new["lines"].notna().to_numpy()
    due = np.where(
        before, pd.to_datetime(new["due_on"]).to_numpy().astype("datetime64[D]"), first_due
    )
    occurred = pd.to_datetime(latest[place]).tz_localize("UTC")
    return pd.DataFrame(
        {
            "conversion_id": new["conversion"].to_numpy(np.int64),
            "version": new["version"].to_numpy(np.int64),
            "rule": new["rule"].to_numpy(np.int64),
            "seq": new["lines"].fillna(0).to_numpy(np.int64),
            "currency": np.where(before, new["currency"], new["currency_target"]),
            "amount_minor": new["delta"].to_numpy(np.int64),
            "period": np.where(before, new["period"], new["period_target"]),
            "occurred_at": occurred,
            "due_on": pd.Series(due).dt.date.to_numpy(),
        }
    )


def approve_due(
    session: Session, org_id: int, day: date, key: str, approved_now: Due | None = None
) -> int:
    """Approve the brand's pending lines due by ``day`` and post them, with the lines
    ``approved_now`` (added approved), to the ledger: one transaction per partner and currency,
    keyed ``key``; how many lines."""
    repo = CommissionRepository(session)
    due: Due = defaultdict(lambda: [0, 0], approved_now or {})
    waiting = repo.due(org_id, day)
    for partner, currency, amount, count in waiting:
        due[(partner, currency)][0] += amount
        due[(partner, currency)][1] += count
    if waiting:
        repo.approve_due(org_id, day)
    ledger = LedgerRepository(session)
    for (partner, currency), (amount, _) in sorted(due.items()):
        if amount:
            moves = approved(org_id, partner, currency, amount)
            memo = f"commissions approved as of {day}"
            ledger.post(
                org_id, check(Transaction(f"{key}:{partner}:{currency}", "commission", memo, moves))
            )
    return sum(count for _, count in due.values())


def _log_holds(
    session: Session, brand: int, partner: int, found: Sequence[tuple[int, str, str]]
) -> None:
    """Every hold in the brand's audit trail."""
    events, now = EventRepository(session), utcnow()
    for conversion, check_name, reason in found:
        events.append(
            brand,
            HELD_EVENT,
            f"hold:{conversion}:{check_name}",
            now,
            {
                "conversion_id": conversion,
                "partner_org_id": partner,
                "check": check_name,
                "reason": reason,
            },
        )
