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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.domain.agreement import replay
from crosspromo.domain.commission import Credited, Owed, owed
from crosspromo.domain.ledger import Transaction, approved, check
from crosspromo.domain.record import Entry
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.services.accounts.secrets import identity_secret
from crosspromo.services.pay import fraud
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
from crosspromo.store.repositories.commissions import Posted

HELD_EVENT = "commission.held"
Due = defaultdict[tuple[int, str], list[int]]  # (partner, currency) → [amount, lines]


@dataclass(frozen=True, slots=True)
class Computed:
    """One computation: as of which day, the lines it added, approved and the holds it made."""

    as_of: date
    lines: int
    approved: int
    held: int


@dataclass(frozen=True, slots=True)
class Paying:
    """A terms version both parties accepted under which ``brand`` pays commissions."""

    version: int
    commission: Mapping[str, Any]
    start: date
    end: date | None


def today() -> date:
    return datetime.now(UTC).date()


def checked_day(as_of: date | None) -> date:
    """``as_of`` (today when None), refused when in the future."""
    now = today()
    if as_of is None:
        return now
    if as_of > now:
        raise InvalidInputError(f"as of {as_of} is in the future (today is {now})", field="as_of")
    return as_of


def end_of(day: date) -> datetime:
    """The first moment after ``day`` (UTC): what occurred before it counts as of that day."""
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def paying_versions(entries: Sequence[Entry], brand_slug: str) -> list[Paying]:
    """The versions of a record both parties accepted in which ``brand_slug`` is the brand."""
    state = replay(entries)
    found = []
    for offer in state.offers:
        roles = {p["org"]: p["role"] for p in offer.terms["parties"]}
        if len(state.accepted.get(offer.version, ())) == 2 and roles.get(brand_slug) == "brand":
            end = offer.terms.get("end")
            found.append(
                Paying(
                    offer.version,
                    offer.terms["commission"],
                    date.fromisoformat(offer.terms["start"]),
                    None if end is None else date.fromisoformat(end),
                )
            )
    return found


def governing(versions: Sequence[Paying], day: date) -> Paying | None:
    """The newest accepted version whose start is on or before ``day``, if it has not ended."""
    for version in reversed(versions):
        if version.start <= day:
            return version if version.end is None or day <= version.end else None
    return None


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
                    session, secret, run, day, partnership.id, parties, versions
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
) -> tuple[int, int]:
    """New lines for one partner's conversions; (lines added, holds made)."""
    brand, partner = parties
    rows = ConversionRepository(session).credited_to(brand, partner, end_of(day))
    sale_of_order: dict[str, int] = {}
    version_of: dict[int, Paying] = {}
    latest: dict[int, datetime] = {}
    due_of: dict[int, date] = {}
    items: dict[int, list[Credited]] = defaultdict(list)
    for cid, kind, at, amount, currency, customer, order, _ in rows:
        refund_of = sale_of_order.get(order) if kind == "refund" else None
        version = version_of.get(refund_of) if refund_of else governing(versions, at.date())
        if kind == "sale" and order is not None:
            sale_of_order.setdefault(order, cid)
        if version is None:
            continue
        version_of[cid] = version
        latest[refund_of or cid] = at
        if kind != "refund":
            due_of[cid] = at.date() + timedelta(days=int(version.commission["holding_days"]))
        items[version.version].append(
            Credited(cid, kind, at, int(amount), currency, customer, refund_of)
        )
    targets: dict[tuple[int, int, int], Owed] = {}
    for version in versions:
        for line in owed(version.commission, version.start, items.get(version.version, ())):
            targets[(line.conversion, version.version, line.rule)] = line
    posted = CommissionRepository(session).posted(brand, partner)
    holds = HoldRepository(session)
    fresh = {key[0] for key in targets} - {key[0] for key in posted}
    suspects = [fraud.Suspect(r[0], r[1], r[2], r[7], r[6], r[5]) for r in rows if r[0] in fresh]
    found = fraud.holds(
        session, secret, brand, partner, suspects, end_of(day), fraud.settings_of(session, brand)
    )
    made = holds.add_many(
        [
            {
                "org_id": brand,
                "partner_org_id": partner,
                "conversion_id": c,
                "check_name": check_name,
                "reason": reason,
            }
            for c, check_name, reason in found
        ]
    )
    _log_holds(session, brand, partner, found)
    standing = holds.for_conversions(brand, partner)
    new_lines = []
    now = utcnow()
    for key in sorted(targets.keys() | posted.keys()):
        values = _line(key, targets.get(key), posted.get(key), due_of)
        if values is None:
            continue
        conversion = key[0]
        new_lines.append(
            {
                **values,
                "org_id": brand,
                "partner_org_id": partner,
                "partnership_id": partnership_id,
                "run_id": run,
                "created_at": now,
                "occurred_at": latest.get(conversion, now),
                "approved_on": None,
                "status": standing.get(conversion, "pending"),
            }
        )
    CommissionRepository(session).add_lines(new_lines)
    return len(new_lines), made


def _line(
    key: tuple[int, int, int],
    target: Owed | None,
    before: Posted | None,
    due_of: Mapping[int, date],
) -> dict[str, Any] | None:
    """The line that brings what is posted for ``key`` to its target, or None if it is there."""
    amount = (target.amount_minor if target else 0) - (before.amount_minor if before else 0)
    if amount == 0:
        return None
    conversion, version, rule = key
    if before is not None:
        due, currency, period, seq = before.due_on, before.currency, before.period, before.lines
    else:
        assert target is not None
        due, currency, period, seq = due_of[conversion], target.currency, target.period, 0
    return {
        "conversion_id": conversion,
        "version": version,
        "rule": rule,
        "seq": seq,
        "currency": currency,
        "amount_minor": amount,
        "period": period,
        "due_on": due,
    }


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
