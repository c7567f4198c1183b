"""What partnerships cost: spend per partnership (or the organization's own channels), channel
and month, imported from CSV or Parquet all or nothing (a row imported again adds nothing), and
the costs the KPIs read: these plus the commissions approved each month.

A ``shared_budget`` row gives the whole budget both parties share: the organization's part is
stored, split as the terms in force say (its ``cost_share_bp``). A ``campaign`` row is a party's
share of a campaign's budget, recorded when the campaign goes live."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.domain.clock import parse_month
from crosspromo.domain.commission import part
from crosspromo.domain.money import MAX_MINOR, check_currency, minor_per_major
from crosspromo.errors import CrossPromoError, InvalidInputError
from crosspromo.services.agree.records import terms_in_force
from crosspromo.services.files.tabular import read_table, require_columns
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    CostRepository,
    OrganizationRepository,
    PartnershipRepository,
)

KINDS = ("fixed_fee", "production", "shared_budget", "campaign", "other")
COLUMNS = ("partner", "channel", "month", "kind", "amount_minor", "currency")


@dataclass(frozen=True, slots=True)
class CostsImported:
    rows: int
    added: int  # rows not imported before


def import_costs(db: Database, org_id: int, path: Path) -> CostsImported:
    """Store a costs file (columns partner — a partner's slug, or empty for the organization's
    own channels —, channel, month YYYY-MM, kind, amount_minor, currency, optional note)."""
    table = read_table(path, text=["partner", "channel", "month", "kind", "currency", "note"])
    require_columns(path.name, table.column_names, COLUMNS)
    return add_costs(db, org_id, table.to_pylist(), path.name)


def add_costs(
    db: Database, org_id: int, records: list[dict[str, Any]], source: str = "costs"
) -> CostsImported:
    """Store cost rows (as ``import_costs`` reads them), all or none; a row stored before is
    not stored again."""
    with db.transaction() as session:
        return store_costs(session, org_id, records, source)


def store_costs(
    session: Session, org_id: int, records: list[dict[str, Any]], source: str = "costs"
) -> CostsImported:
    """``add_costs`` inside the caller's transaction."""
    rows, seen = [], Counter[str]()
    for number, record in enumerate(records, start=1):
        try:
            values = _row(session, org_id, record)
        except CrossPromoError as exc:
            raise InvalidInputError(f"{source}, row {number}: {exc.message}", row=number) from None
        digest = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:40]
        seen[digest] += 1  # the same row twice in a file is two costs
        rows.append({**values, "key": f"{digest}:{seen[digest]}"})
    return CostsImported(len(rows), CostRepository(session).add_new(org_id, rows))


def _row(session: Session, org_id: int, record: dict[str, Any]) -> dict[str, Any]:
    month, kind = str(record.get("month") or ""), str(record.get("kind") or "")
    parse_month(month)
    if kind not in KINDS:
        raise InvalidInputError(f"kind {kind!r} is not one of {list(KINDS)}", field="kind")
    amount = record.get("amount_minor")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= MAX_MINOR:
        raise InvalidInputError(
            "amount_minor is a whole number of minor units >= 0", field="amount_minor"
        )
    currency = check_currency(str(record.get("currency") or ""))
    channel = str(record.get("channel") or "").strip()
    if not 1 <= len(channel) <= 64:
        raise InvalidInputError("channel is 1-64 characters", field="channel")
    partnership_id = None
    slug = str(record.get("partner") or "").strip()
    if slug:
        partner = OrganizationRepository(session).by_slug(slug)
        found = PartnershipRepository(session).open_between(org_id, partner.id)
        if found is None:
            raise InvalidInputError(f"no partnership with {slug!r}", field="partner")
        partnership_id = found.id
        if kind == "shared_budget":
            amount = _my_share(session, org_id, found.id, amount)
    elif kind == "shared_budget":
        raise InvalidInputError(
            "a shared budget is shared with a partner: name it", field="partner"
        )
    return {
        "partnership_id": partnership_id,
        "channel": channel,
        "month": month,
        "kind": kind,
        "amount_minor": amount,
        "currency": currency,
        "note": str(record.get("note") or "")[:500],
    }


def _my_share(session: Session, org_id: int, partnership_id: int, amount: int) -> int:
    terms = terms_in_force(session, partnership_id)
    if terms is None:
        raise InvalidInputError(
            "a shared budget is split as agreed: no terms are in force", field="kind"
        )
    me = OrganizationRepository(session).get(org_id).slug
    share = next((c["cost_share_bp"] for c in terms["contributions"] if c["org"] == me), 0)
    return part(amount * int(share), 10_000, "half_even")


def kpi_costs(db: Database, org_id: int, currency: str) -> dict[tuple[str, str], float] | None:
    """Spend per (partner slug, month) in major units of ``currency``: stored costs plus the
    commissions approved that month; None when the organization has recorded neither."""
    with db.reading() as session:
        rows = CostRepository(session).by_partner_month(org_id, currency)
    return _in_major(rows, currency) if rows else None


def channel_costs(db: Database, org_id: int, currency: str) -> dict[tuple[str, str], float]:
    """Spend on the organization's own channels per (channel, month), in major units."""
    with db.reading() as session:
        rows = CostRepository(session).own_by_channel_month(org_id, currency)
    return _in_major(rows, currency)


def _in_major(rows: list[tuple[str, str, int]], currency: str) -> dict[tuple[str, str], float]:
    unit = minor_per_major(currency)
    costs: dict[tuple[str, str], float] = defaultdict(float)
    for name, month, amount in rows:
        costs[(name, month)] += amount / unit
    return dict(costs)
