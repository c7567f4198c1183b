"""How a partnership performs against its terms: each objective's target beside what the
partner's links and codes brought in the objective's current period, and the monthly statement
either party signs into the record (the month's figures and targets), so both sides hold the
same signed account of each month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crosspromo.domain.clock import parse_month
from crosspromo.errors import ConflictError, InvalidInputError
from crosspromo.services.agree.partnership_page import Figures, figures
from crosspromo.services.agree.records import AgreementStep, Loaded, append, load
from crosspromo.services.pay.statements import record_totals, statement
from crosspromo.store.database import Database


@dataclass(frozen=True, slots=True)
class TargetView:
    """One objective of the terms in force, against its current period so far."""

    goal: str
    metric: str
    per: str
    target: int
    actual: int | None  # None: not measured from tracking (new customers)
    since: date
    until: date
    review_on: date
    currency: str


def targets(
    db: Database, org_id: int, partnership_id: int, today: date | None = None
) -> list[TargetView]:
    """The terms in force's objectives, each with what was brought in its period so far (the
    month, the quarter, or the whole term from its start)."""
    with db.reading() as session:
        loaded = load(session, org_id, partnership_id)
    terms = loaded.state.terms_in_force()
    if terms is None:
        return []
    today = today or datetime.now(UTC).date()
    brand_id, partner = _sides(loaded, terms)
    currency = terms["commission"]["currency"]
    made = []
    for objective in terms["objectives"]:
        since = _period_start(objective["per"], today, date.fromisoformat(terms["start"]))
        brought = figures(db, brand_id, partner, since, today, brand_side=False)
        made.append(TargetView(objective["goal"], objective["metric"], objective["per"],
                               objective["target"], _actual(brought, objective["metric"], currency),
                               since, today, date.fromisoformat(objective["review_on"]),
                               currency))  # fmt: skip
    return made


def add_statement(
    db: Database, org_id: int, partnership_id: int, month: str, *, actor: str | None = None,
    today: date | None = None,
) -> AgreementStep:  # fmt: skip
    """Sign the statement of a finished ``month`` (YYYY-MM) into the record: the partner's
    clicks, leads, sales and net revenue by currency that month, each objective's monthly
    target beside it, and the commissions' totals per currency (earned, reversed, paid and the
    balance owed, ``pay.statements``). One statement per month."""
    first = parse_month(month)
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    if last >= (today or datetime.now(UTC).date()):
        raise InvalidInputError(f"{month} is not over yet: a statement covers a whole month",
                                field="month")  # fmt: skip
    with db.reading() as session:
        before = load(session, org_id, partnership_id)
    terms = _accountable(before, month)
    brand_id, partner = _sides(before, terms)
    brought = figures(db, brand_id, partner, first, last, brand_side=False)
    currency = terms["commission"]["currency"]
    body = {
        "month": month,
        "kpis": {"clicks": brought.clicks, "leads": brought.leads, "sales": brought.sales,
                 "revenue_minor": dict(sorted(brought.revenue_by_currency.items()))},
        "targets": [{"metric": o["metric"], "target": o["target"],
                     "actual": _actual(brought, o["metric"], currency)}
                    for o in terms["objectives"] if o["per"] == "month"],
        "commissions": record_totals(statement(db, org_id, partnership_id, month)),
    }  # fmt: skip
    with db.transaction() as session:
        loaded = load(session, org_id, partnership_id)
        if _accountable(loaded, month) != terms:  # amended while the figures were counted
            raise ConflictError("the terms in force changed meanwhile: sign the statement again")
        return append(session, db.settings, loaded, "statement", body, actor=actor)


def _accountable(loaded: Loaded, month: str) -> dict[str, Any]:
    """The terms a statement of ``month`` accounts against; refused when there are none or
    the month has its statement already."""
    terms = loaded.state.terms_in_force()
    if terms is None:
        raise ConflictError("no terms are in force: there is nothing to account for")
    if any(e.kind == "statement" and e.body.get("month") == month for e in loaded.entries):
        raise ConflictError(f"the statement for {month} is already in the record")
    return terms


def _sides(loaded: Loaded, terms: dict[str, Any]) -> tuple[int, str]:
    """The brand's id and the partner's slug, as the terms assign the roles."""
    brand = next(p["org"] for p in terms["parties"] if p["role"] == "brand")
    if brand == loaded.me.slug:
        return loaded.me.id, loaded.other.slug
    return loaded.other.id, loaded.me.slug


def _period_start(per: str, today: date, start: date) -> date:
    if per == "month":
        return max(today.replace(day=1), start)
    if per == "quarter":
        return max(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), start)
    return start


def _actual(brought: Figures, metric: str, currency: str) -> int | None:
    return {"clicks": brought.clicks, "leads": brought.leads, "sales": brought.sales,
            "revenue_minor": brought.revenue_by_currency.get(currency, 0),
            }.get(metric)  # fmt: skip
