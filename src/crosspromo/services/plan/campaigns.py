"""Campaigns: planned under one agreement (one partner) or several (a multi-partner campaign),
with a strategy, an objective, channels, audience segments, a budget and each party's share of
it, an owner per party, and a checklist from the strategy's steps. Every party sees the
campaign; the organization that planned it moves its status (draft → scheduled → live → done,
or cancelled)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crosspromo.domain import PartnershipStatus
from crosspromo.domain.commission import part
from crosspromo.domain.money import MAX_MINOR, check_currency
from crosspromo.domain.plan import CAMPAIGN_STEPS, CampaignStatus
from crosspromo.domain.strategies import PROFILES, Goal
from crosspromo.domain.text import digits, one_line
from crosspromo.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from crosspromo.services.plan.strategies import strategy_of
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, PartnershipRepository
from crosspromo.store.repositories.plan import (
    ATTACHABLE,
    CampaignRepository,
    ChecklistRepository,
)

BASIS = 10_000
MAX_LIST = 20  # channels, segments, targets, partnerships
MAX_DAYS = 3 * 366
CLOSED = (PartnershipStatus.ENDED, PartnershipStatus.PAUSED)  # no campaign runs under these


@dataclass(frozen=True, slots=True)
class CampaignInput:
    name: str
    strategy: str
    start: date
    end: date
    partnerships: Sequence[int]
    objective: str | None = None  # default: the goal the strategy serves best
    budget_minor: int = 0
    currency: str = "EUR"
    channels: Sequence[str] = ()  # default: the strategy's channels
    segments: Sequence[str] = ()  # default: everyone ("all")
    targets: Mapping[str, float] = field(default_factory=dict)
    shares: Mapping[str, int] | None = None  # organization slug -> basis points; default equal
    owners: Mapping[str, str] = field(default_factory=dict)  # organization slug -> who


@dataclass(frozen=True, slots=True)
class Party:
    org: str
    name: str
    share_bp: int
    owner: str


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: int
    title: str
    org: str  # the side that does it
    due_on: date
    done_at: datetime | None
    done_by: str | None


@dataclass(frozen=True, slots=True)
class CampaignView:
    id: int
    name: str
    strategy: str
    objective: str
    status: str
    starts_on: date
    ends_on: date
    budget_minor: int
    currency: str
    channels: list[str]
    segments: list[str]
    targets: dict[str, float]
    planned_by: str  # the organization that planned it and moves its status
    partnerships: list[int]
    parties: list[Party]
    next_statuses: list[str]
    checklist: list[ChecklistItem]
    created_at: datetime
    updated_at: datetime


def _words(values: Sequence[str], name: str) -> list[str]:
    found: list[str] = []
    for value in values:
        text = one_line(str(value), f"each of {name}", 64)
        if text.casefold() not in {f.casefold() for f in found}:
            found.append(text)
    if len(found) > MAX_LIST:
        raise InvalidInputError(f"at most {MAX_LIST} {name}", field=name)
    return found


def _check(given: CampaignInput) -> tuple[str, str]:
    name = one_line(given.name, "name", 200)
    strategy = strategy_of(given.strategy)
    objective = given.objective or max(PROFILES[strategy].goals.items(), key=lambda g: g[1])[0]
    if objective not in {g.value for g in Goal}:
        raise InvalidInputError(
            f"objective {objective!r} is not one of {', '.join(g.value for g in Goal)}",
            field="objective",
        )
    if given.end < given.start:
        raise InvalidInputError("the campaign ends before it starts", field="end")
    if (given.end - given.start).days > MAX_DAYS:
        raise InvalidInputError("a campaign runs at most three years", field="end")
    if isinstance(given.budget_minor, bool) or not 0 <= given.budget_minor <= MAX_MINOR:
        raise InvalidInputError("budget_minor is a whole number >= 0", field="budget_minor")
    if not given.partnerships or len(given.partnerships) > MAX_LIST:
        raise InvalidInputError(
            f"a campaign runs under 1-{MAX_LIST} partnerships", field="partnerships"
        )
    if len(given.targets) > MAX_LIST or any(
        not 1 <= len(k) <= 64 or not isinstance(v, int | float) or v < 0
        for k, v in given.targets.items()
    ):
        raise InvalidInputError(
            "targets name up to 20 metrics (1-64 characters), each a number >= 0",
            field="targets",
        )
    return name, str(objective)


def create_campaign(db: Database, org_id: int, given: CampaignInput) -> CampaignView:
    """A draft campaign of ``org_id`` under the given partnerships (each open and ``org_id``'s
    own), with the strategy's checklist."""
    name, objective = _check(given)
    strategy = strategy_of(given.strategy)
    with db.transaction() as session:
        orgs = OrganizationRepository(session)
        partnerships = PartnershipRepository(session)
        members = [org_id]
        for partnership_id in dict.fromkeys(given.partnerships):
            found = partnerships.get_for_org(org_id, partnership_id)
            if found.status in CLOSED:
                raise ConflictError(
                    f"partnership {partnership_id} is {found.status}: campaigns run under "
                    "open partnerships",
                    partnership_id=partnership_id,
                )
            other = found.other_party(org_id)
            if other not in members:
                members.append(other)
        slugs = {o.id: o.slug for o in orgs.many(members).values()}
        shares = party_shares(given.shares, [slugs[m] for m in members])
        parties = [(m, shares[slugs[m]], one_line(given.owners.get(slugs[m], ""), "owners", 200, 0))
                   for m in members]  # fmt: skip
        channels = _words(given.channels or PROFILES[strategy].channels, "channels")
        values = {
            "name": name, "strategy": str(strategy), "objective": objective,
            "status": str(CampaignStatus.DRAFT), "starts_on": given.start,
            "ends_on": given.end, "budget_minor": given.budget_minor,
            "currency": check_currency(given.currency), "channels": channels,
            "segments": _words(given.segments or ["all"], "segments"),
            "targets": {k: float(v) for k, v in given.targets.items()},
        }  # fmt: skip
        repo = CampaignRepository(session)
        campaign_id = repo.add(org_id, values, list(dict.fromkeys(given.partnerships)), parties)
        ChecklistRepository(session).add_many(
            _checklist(campaign_id, strategy, given.start, org_id, members)
        )
        return _view(session, repo.get(org_id, campaign_id), org_id)


def party_shares(given: Mapping[str, int] | None, slugs: Sequence[str]) -> dict[str, int]:
    """Each party's share in basis points: ``given`` (adding up to 10,000), else equal parts."""
    if given is None:  # equal parts; the remainder to the organization that plans
        part, rest = divmod(BASIS, len(slugs))
        return {s: part + (rest if n == 0 else 0) for n, s in enumerate(slugs)}
    unknown = sorted(set(given) - set(slugs))
    if unknown:
        raise InvalidInputError(
            f"shares name {', '.join(unknown)}, who take no part", field="shares"
        )
    values = {s: given.get(s, 0) for s in slugs}
    if any(isinstance(v, bool) or not 0 <= v <= BASIS for v in values.values()):
        raise InvalidInputError("each share is 0-10000 basis points", field="shares")
    if sum(values.values()) != BASIS:
        raise InvalidInputError(
            f"the shares add up to {sum(values.values())} basis points, not 10000",
            field="shares",
        )
    return values


def _checklist(
    campaign_id: int, strategy: Any, start: date, org_id: int, members: Sequence[int]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for step in PROFILES[strategy].steps:
        sides = {"brand": members[:1], "partner": members[1:2], "both": members}[step.owner]
        for side in sides:
            rows.append({"campaign_id": campaign_id, "position": len(rows), "title": step.title,
                         "org_id": side, "due_on": start + timedelta(days=step.day)})  # fmt: skip
    return rows


def _view(session: Session, row: Mapping[str, Any], org_id: int) -> CampaignView:
    return _views(session, [row], org_id)[0]


def _views(session: Session, rows: Sequence[Mapping[str, Any]], org_id: int) -> list[CampaignView]:
    repo = CampaignRepository(session)
    ids = [r["id"] for r in rows]
    parties, partnerships = repo.parties(ids), repo.partnerships(ids)
    planners = OrganizationRepository(session).many({r["org_id"] for r in rows})
    checklists = ChecklistRepository(session)
    views = []
    for r in rows:
        mine = r["org_id"] == org_id
        status = CampaignStatus(r["status"])
        views.append(CampaignView(
            r["id"], r["name"], r["strategy"], r["objective"], str(status), r["starts_on"],
            r["ends_on"], r["budget_minor"], r["currency"], list(r["channels"]),
            list(r["segments"]), dict(r["targets"]), planners[r["org_id"]].slug,
            sorted(partnerships[r["id"]]),
            [Party(p["slug"], p["name"], p["share_bp"], p["owner"]) for p in parties[r["id"]]],
            [str(s) for s in CampaignStatus if s in CAMPAIGN_STEPS[status]] if mine else [],
            [ChecklistItem(c["id"], c["title"], c["org"], c["due_on"], c["done_at"],
                           c["done_by"]) for c in checklists.for_campaign(r["id"])],
            r["created_at"], r["updated_at"],
        ))  # fmt: skip
    return views


def partnership_choices(db: Database, org_id: int) -> list[tuple[int, str]]:
    """The partnerships a campaign of ``org_id`` may run under: (id, "name (partner)")."""
    with db.reading() as session:
        found = [p for p in PartnershipRepository(session).for_org(org_id)
                 if p.status not in CLOSED]  # fmt: skip
        names = OrganizationRepository(session).many(p.other_party(org_id) for p in found)
    return [(p.id, f"{p.name} ({names[p.other_party(org_id)].name})") for p in found]


def list_campaigns(db: Database, org_id: int) -> list[CampaignView]:
    """The campaigns ``org_id`` takes part in, the latest start first."""
    with db.reading() as session:
        return _views(session, CampaignRepository(session).for_org(org_id), org_id)


def get_campaign(db: Database, org_id: int, campaign_id: int) -> CampaignView:
    with db.reading() as session:
        return _view(session, CampaignRepository(session).get(org_id, campaign_id), org_id)


def set_status(db: Database, org_id: int, campaign_id: int, status: str) -> CampaignView:
    """Move the campaign along its lifecycle (only the organization that planned it)."""
    try:
        wanted = CampaignStatus(status)
    except ValueError:
        raise InvalidInputError(
            f"status {status!r} is not one of {', '.join(s.value for s in CampaignStatus)}",
            field="status",
        ) from None
    with db.transaction() as session:
        repo = CampaignRepository(session)
        row = repo.get(org_id, campaign_id, lock=True)
        if row["org_id"] != org_id:
            raise PermissionDeniedError("only the organization that planned it moves a campaign")
        now = CampaignStatus(row["status"])
        if wanted not in CAMPAIGN_STEPS[now]:
            allowed = ", ".join(sorted(CAMPAIGN_STEPS[now])) or "none: it is closed"
            raise ConflictError(
                f"a {now} campaign cannot become {wanted} (next: {allowed})", status=str(now)
            )
        repo.update(campaign_id, status=str(wanted))
        if wanted is CampaignStatus.LIVE and row["budget_minor"]:
            _book_budget(session, row, repo)
        return _view(session, repo.get(org_id, campaign_id), org_id)


def _months(start: date, end: date) -> list[str]:
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(day.isoformat()[:7])
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _spread(amount: int, parts: int) -> list[int]:
    """``amount`` in ``parts`` whole parts, the remainder on the first ones."""
    base, rest = divmod(amount, parts)
    return [base + (1 if n < rest else 0) for n in range(parts)]


def _book_budget(session: Session, row: Mapping[str, Any], repo: CampaignRepository) -> None:
    """Each party's share of the budget as its costs (Pay), spread evenly over the campaign's
    months and, for the organization that planned it, over its partnerships in the campaign."""
    from crosspromo.services.pay.costs import store_costs  # Pay's costs, loaded when used

    campaign_id, planner = row["id"], row["org_id"]
    parties = repo.parties([campaign_id])[campaign_id]
    slugs = {p["org_id"]: p["slug"] for p in parties}
    partnerships = PartnershipRepository(session)
    pairs = [partnerships.get_for_org(planner, p) for p in repo.partnerships([campaign_id])[
        campaign_id]]  # fmt: skip
    months = _months(row["starts_on"], row["ends_on"])
    channel = (list(row["channels"]) or ["campaign"])[0]
    for party in parties:
        share = part(row["budget_minor"] * party["share_bp"], BASIS, "half_even")
        org = party["org_id"]
        others = ([slugs[p.other_party(planner)] for p in pairs] if org == planner
                  else [slugs[planner]])  # fmt: skip
        records = [
            {"partner": other, "channel": channel, "month": month, "kind": "campaign",
             "amount_minor": amount, "currency": row["currency"],
             "note": f"campaign {campaign_id}: {row['name']}"[:500]}
            for other, per_partner in zip(others, _spread(share, len(others)), strict=True)
            for month, amount in zip(months, _spread(per_partner, len(months)), strict=True)
            if amount
        ]  # fmt: skip
        store_costs(session, org, records, f"campaign {campaign_id}")


def mark_step(
    db: Database, org_id: int, campaign_id: int, item_id: int, done_by: str | None
) -> CampaignView:
    """Tick a checklist item (``done_by``: who did it) or untick it (None)."""
    with db.transaction() as session:
        repo = CampaignRepository(session)
        repo.get(org_id, campaign_id)
        ChecklistRepository(session).mark(campaign_id, item_id, done_by)
        return _view(session, repo.get(org_id, campaign_id), org_id)


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    """What the organization's links and codes in the campaign brought (its own side: the
    conversions it recorded), and the experiments that belong to it."""

    campaign_id: int
    links: list[str]
    codes: list[str]
    experiments: list[int]
    clicks: int
    leads: int
    sales: int
    refunds: int
    revenue_minor: dict[str, int]  # sales per currency, before refunds
    refunded_minor: dict[str, int]
    currency: str  # the campaign's budget's
    cost_minor: int  # the organization's share of the budget
    cost_per_sale_minor: int | None  # None: no sale yet
    cost_per_lead_minor: int | None
    conversion_rate: float | None  # sales and leads per click (None: no click)
    roi: float | None  # (revenue in the budget's currency, less refunds, - cost) / cost


def attach(
    db: Database, org_id: int, campaign_id: int, kind: str, key: str | int,
    *, detach: bool = False,
) -> CampaignFigures:  # fmt: skip
    """Put one of the organization's links, codes or experiments in the campaign (or take it
    out): its partner, if it names one, must take part in the campaign."""
    if kind not in ATTACHABLE:
        raise InvalidInputError(f"attach a link, a code or an experiment, not {kind!r}",
                                field="kind")  # fmt: skip
    if kind == "experiment":  # named by its id, as a number or its digits
        text = str(key).strip()
        if not digits(text) or not 1 <= int(text) <= 2**31 - 1:
            raise InvalidInputError("an experiment is named by its id", field="key")
        key = int(text)
    with db.transaction() as session:
        repo = CampaignRepository(session)
        repo.get(org_id, campaign_id, lock=True)
        partner, now_in = repo.own(kind, org_id, key)
        members = {p["org_id"] for p in repo.parties([campaign_id])[campaign_id]}
        if not detach and partner is not None and partner not in members:
            raise InvalidInputError(
                f"the {kind}'s partner takes no part in the campaign", field=kind
            )
        if detach and now_in != campaign_id:
            raise NotFoundError(f"the {kind} is not in the campaign", field=kind)
        repo.put_in(kind, org_id, key, None if detach else campaign_id)
    return campaign_figures(db, org_id, campaign_id)


def campaign_figures(db: Database, org_id: int, campaign_id: int) -> CampaignFigures:
    with db.reading() as session:
        repo = CampaignRepository(session)
        row = repo.get(org_id, campaign_id)
        attached = repo.attached(org_id, campaign_id)
        found = repo.figures(org_id, campaign_id)
        share = next(p["share_bp"] for p in repo.parties([campaign_id])[campaign_id]
                     if p["org_id"] == org_id)  # fmt: skip
    counts, amounts = found["counts"], found["amounts"]
    sales, leads, clicks = counts.get("sale", 0), counts.get("lead", 0), found["clicks"]
    currency = row["currency"]
    cost = part(row["budget_minor"] * share, BASIS, "half_even")
    net = amounts.get("sale", {}).get(currency, 0) - amounts.get("refund", {}).get(currency, 0)
    return CampaignFigures(
        campaign_id, attached["link"], attached["code"], attached["experiment"], clicks, leads,
        sales, counts.get("refund", 0), amounts.get("sale", {}), amounts.get("refund", {}),
        currency, cost, part(cost, sales, "half_even") if sales else None,
        part(cost, leads, "half_even") if leads else None,
        (sales + leads) / clicks if clicks else None, (net - cost) / cost if cost else None,
    )  # fmt: skip
