"""Plan over the REST API: strategies recommended for a goal, campaigns with their checklists,
the shared calendar and its conflicts, blackout periods, calendar rules and feeds; and the
secret iCal address a calendar program reads without a key."""

# No ``from __future__ import annotations``: FastAPI reads the parameters' annotations.
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import Field

from crosspromo.domain import PartnershipStatus, User
from crosspromo.domain.clock import parse_date, parse_month
from crosspromo.domain.plan import Blackout, CalendarItem, CalendarRules, Conflict, ItemKind
from crosspromo.domain.strategies import PROFILES
from crosspromo.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from crosspromo.services.plan import calendar, campaigns, feeds
from crosspromo.services.plan.campaigns import CampaignFigures, CampaignInput, CampaignView
from crosspromo.services.plan.strategies import Recommendations, partner_fit, recommend
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, PartnershipRepository
from crosspromo.web.deps import DB, ApiOrg, check_csrf
from crosspromo.web.pages import EDITORS, AnyUser, Csrf, Editor, page
from crosspromo.web.schemas import PROBLEM_RESPONSES, Body, SmallId

api = APIRouter(prefix="/api/v1", tags=["plan"], responses=PROBLEM_RESPONSES)
public = APIRouter(tags=["plan"], responses=PROBLEM_RESPONSES)  # the feed: its token is the key
Word = Annotated[str, Field(min_length=1, max_length=64)]


class NewCampaign(Body):
    name: str = Field(min_length=1, max_length=200)
    strategy: str = Field(min_length=1, max_length=32)
    start: date
    end: date
    partnerships: list[SmallId] = Field(min_length=1, max_length=20)
    objective: Literal["leads", "sales", "awareness", "retention"] | None = None
    budget_minor: int = Field(0, ge=0, le=10**15)
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    channels: list[Word] = Field(default_factory=list, max_length=20)
    segments: list[Word] = Field(default_factory=list, max_length=20)
    targets: dict[Word, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    shares: dict[Word, Annotated[int, Field(ge=0, le=10_000)]] | None = Field(
        None, description="basis points of the budget per organization slug; default equal"
    )
    owners: dict[Word, Annotated[str, Field(max_length=200)]] = Field(default_factory=dict)


class StatusChange(Body):
    status: Literal["draft", "scheduled", "live", "done", "cancelled"]


class StepDone(Body):
    done: bool
    by: str = Field("API", min_length=1, max_length=320)


class NewItem(Body):
    campaign_id: SmallId
    at: str = Field(min_length=10, max_length=40, description="ISO date-time")
    kind: Literal["send", "post", "publish", "launch", "event", "webinar"]
    channel: Word
    audience: Word
    title: str = Field(min_length=1, max_length=200)
    timezone: str | None = Field(None, max_length=64, description="IANA zone")


class SavedItem(Body):
    id: int
    item: CalendarItem
    conflicts: list[Conflict]


class Conflicts(Body):
    conflicts: list[Conflict]


class NewBlackout(Body):
    start: date
    end: date
    reason: str = Field(min_length=1, max_length=500)


class RuleChanges(Body):
    min_gap_days: int | None = Field(None, ge=0, le=90)
    weekly_max: int | None = Field(None, ge=1, le=100)
    launch_days: int | None = Field(None, ge=0, le=90)
    timezone: str | None = Field(None, min_length=1, max_length=64)


class NewFeed(Body):
    campaign_id: SmallId | None = None


class FeedView(Body):
    id: int
    campaign_id: int | None
    url: str | None = Field(None, description="shown once, when made")


@api.get("/strategies/recommend")
def recommend_strategies(
    org: ApiOrg,
    db: DB,
    goal: Literal["leads", "sales", "awareness", "retention"],
    budget_minor: Annotated[int, Query(ge=0, le=10**13)],
    weeks: Annotated[int, Query(ge=1, le=520)],
    currency: Annotated[str, Query(pattern=r"^[A-Z]{3}$")] = "EUR",
    partner: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Recommendations:
    """Every strategy ranked for the goal, budget and weeks (and the partner's fit from
    Discover, when named), with the reasons."""
    fit = partner_fit(db, org.id, partner) if partner else None
    return recommend(goal, budget_minor, currency, weeks, fit)


@api.get("/campaigns")
def list_campaigns(org: ApiOrg, db: DB) -> list[CampaignView]:
    """The campaigns the organization takes part in."""
    return campaigns.list_campaigns(db, org.id)


@api.post("/campaigns", status_code=201)
def create_campaign(body: NewCampaign, org: ApiOrg, db: DB) -> CampaignView:
    """A draft campaign under one partnership or several, with the strategy's checklist."""
    given = CampaignInput(**body.model_dump())
    return campaigns.create_campaign(db, org.id, given)


@api.get("/campaigns/{campaign_id}")
def get_campaign(campaign_id: SmallId, org: ApiOrg, db: DB) -> CampaignView:
    return campaigns.get_campaign(db, org.id, campaign_id)


@api.post("/campaigns/{campaign_id}/status")
def set_campaign_status(
    campaign_id: SmallId, body: StatusChange, org: ApiOrg, db: DB
) -> CampaignView:
    """Move the campaign along its lifecycle (the organization that planned it)."""
    return campaigns.set_status(db, org.id, campaign_id, body.status)


@api.post("/campaigns/{campaign_id}/checklist/{item_id}")
def tick_step(
    campaign_id: SmallId, item_id: SmallId, body: StepDone, org: ApiOrg, db: DB
) -> CampaignView:
    return campaigns.mark_step(db, org.id, campaign_id, item_id, body.by if body.done else None)


class Attachment(Body):
    kind: Literal["link", "code", "experiment"]
    key: str = Field(min_length=1, max_length=64, description="a link's or code's code, or an "
                     "experiment's id")  # fmt: skip
    detach: bool = False


@api.get("/campaigns/{campaign_id}/figures")
def figures(campaign_id: SmallId, org: ApiOrg, db: DB) -> CampaignFigures:
    """What the organization's links and codes in the campaign brought, and its experiments."""
    return campaigns.campaign_figures(db, org.id, campaign_id)


@api.post("/campaigns/{campaign_id}/attachments")
def attach(campaign_id: SmallId, body: Attachment, org: ApiOrg, db: DB) -> CampaignFigures:
    """Put one of the organization's links, codes or experiments in the campaign (or take it
    out with ``detach``)."""
    return campaigns.attach(db, org.id, campaign_id, body.kind, _key(body.kind, body.key),
                            detach=body.detach)  # fmt: skip


def _key(kind: str, key: str) -> str | int:
    if kind != "experiment":
        return key
    if not key.isdigit() or not 1 <= int(key) <= 2**31 - 1:
        raise InvalidInputError("an experiment is named by its id", field="key")
    return int(key)


@api.get("/calendar")
def list_items(
    org: ApiOrg, db: DB, campaign_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> list[CalendarItem]:
    """Every item the organization sees (of one campaign when given), in time order."""
    return calendar.items(db, org.id, campaign_id)


@api.post("/calendar/items", status_code=201)
def add_item(
    body: NewItem, org: ApiOrg, db: DB, response: Response, check: bool = False
) -> SavedItem:
    """Put an item in a campaign's calendar, or with ``check=true`` only see the conflicts it
    would take part in (nothing saved, id 0)."""
    given = calendar.ItemInput(**body.model_dump())
    saved = calendar.add_item(db, org.id, given, check_only=check)
    if check:
        response.status_code = 200
    return SavedItem(id=saved.id, item=saved.item, conflicts=saved.conflicts)


@api.delete("/campaigns/{campaign_id}/calendar/{item_id}", status_code=204)
def remove_item(campaign_id: SmallId, item_id: SmallId, org: ApiOrg, db: DB) -> None:
    calendar.remove_item(db, org.id, campaign_id, item_id)


@api.get("/calendar/conflicts")
def list_conflicts(org: ApiOrg, db: DB) -> Conflicts:
    """Every conflict in the organization's calendar, by its rules."""
    return Conflicts(conflicts=calendar.conflicts(db, org.id))


@api.get("/calendar/blackouts")
def list_blackouts(org: ApiOrg, db: DB) -> list[Blackout]:
    return calendar.blackouts(db, org.id)


@api.post("/calendar/blackouts", status_code=201)
def add_blackout(body: NewBlackout, org: ApiOrg, db: DB) -> Blackout:
    return calendar.add_blackout(db, org.id, body.start, body.end, body.reason)


@api.delete("/calendar/blackouts/{blackout_id}", status_code=204)
def remove_blackout(blackout_id: SmallId, org: ApiOrg, db: DB) -> None:
    calendar.remove_blackout(db, org.id, blackout_id)


@api.get("/calendar/rules")
def get_rules(org: ApiOrg, db: DB) -> CalendarRules:
    return calendar.rules(db, org.id)


@api.put("/calendar/rules")
def change_rules(body: RuleChanges, org: ApiOrg, db: DB) -> CalendarRules:
    """Change some of the calendar rules; the others stay."""
    return calendar.save_rules(db, org.id, **body.model_dump(exclude_none=True))


@api.get("/calendar/feeds")
def list_feeds(org: ApiOrg, db: DB) -> list[FeedView]:
    """The organization's live feeds (their addresses were shown once)."""
    return [FeedView(id=f.id, campaign_id=f.campaign_id) for f in feeds.feeds(db, org.id)]


@api.post("/calendar/feeds", status_code=201)
def create_feed(body: NewFeed, org: ApiOrg, db: DB, request: Request) -> FeedView:
    """A new secret iCal address of the organization's calendar (or of one campaign)."""
    made = feeds.create_feed(db, org.id, request.app.state.settings.public_url, body.campaign_id)
    return FeedView(id=made.id, campaign_id=made.campaign_id, url=made.url)


@api.delete("/calendar/feeds/{feed_id}", status_code=204)
def revoke_feed(feed_id: SmallId, org: ApiOrg, db: DB) -> None:
    feeds.revoke_feed(db, org.id, feed_id)


@public.get("/calendar/{token}.ics", response_class=Response)
def calendar_feed(
    token: Annotated[str, Field(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
    db: DB,
) -> Response:
    """The calendar behind a secret feed address, as iCalendar; revoked: 404."""
    return Response(
        feeds.feed_ics(db, token),
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )


# The dashboard (the brand's managers) and the partner portal share these pages: every party of
# a campaign sees it and its calendar, adds calendar items and ticks its own checklist items;
# the organization that planned a campaign moves its status. Changes are CSRF-checked forms,
# for an owner or manager in the dashboard and for the partner's users in the portal.
pages = APIRouter(include_in_schema=False)
_REFUSED = (InvalidInputError, ConflictError, NotFoundError, PermissionDeniedError)


def _base(user: User) -> str:
    return "/portal" if user.role.uses_portal else ""


def _month(text: str | None) -> date:
    if not text:
        today = date.today()
        return today.replace(day=1)
    return parse_month(text)


def _campaigns_page(
    request: Request, user: User, db: Database, *, error: str | None = None,
    status_code: int = 200, ranked: Recommendations | None = None,
    asked: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    with db.reading() as session:
        open_ones = [
            p
            for p in PartnershipRepository(session).for_org(user.org_id)
            if p.status not in (PartnershipStatus.ENDED, PartnershipStatus.PAUSED)
        ]
        names = OrganizationRepository(session).many(p.other_party(user.org_id)
                                                     for p in open_ones)  # fmt: skip
    choices = [(p.id, f"{p.name} ({names[p.other_party(user.org_id)].name})") for p in open_ones]
    return page(
        request, "plan/campaigns.html", user=user, status_code=status_code, error=error,
        campaigns=campaigns.list_campaigns(db, user.org_id), partnerships=choices,
        strategies=list(PROFILES.values()), ranked=ranked, asked=asked or {},
        base=_base(user), today=date.today().isoformat(),
    )  # fmt: skip


@pages.get("/campaigns")
@pages.get("/portal/campaigns")
def campaigns_page(
    request: Request,
    user: AnyUser,
    db: DB,
    goal: Annotated[str, Query(max_length=16)] = "",
    budget: Annotated[str, Query(max_length=20)] = "",
    weeks: Annotated[str, Query(max_length=4)] = "",
) -> Response:
    """The campaigns the organization takes part in; with a goal, the strategies ranked."""
    if request.url.path.startswith("/portal") != user.role.uses_portal:
        return RedirectResponse(f"{_base(user)}/campaigns", 303)
    ranked, error = None, None
    if goal:
        try:
            ranked = recommend(goal, _minor(budget), "EUR", int(weeks or 0))
        except (InvalidInputError, ValueError) as exc:
            error = getattr(exc, "message", "weeks and budget are whole numbers")
    asked = {"goal": goal, "budget": budget, "weeks": weeks}
    return _campaigns_page(request, user, db, ranked=ranked, asked=asked, error=error)


def _minor(text: str) -> int:
    """A budget typed in major units (1,500.50) as minor units of EUR."""
    cleaned = text.replace(",", "").strip() or "0"
    try:
        return round(float(cleaned) * 100)
    except ValueError:
        raise InvalidInputError(f"budget {text!r} is not an amount", field="budget") from None


@pages.post("/campaigns")
def create_form(
    request: Request,
    user: Editor,
    db: DB,
    name: Annotated[str, Form(max_length=200)] = "",
    strategy: Annotated[str, Form(max_length=32)] = "",
    partnership: Annotated[list[int], Form()] = [],  # noqa: B006 (FastAPI reads it)
    start: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=10)] = "",
    budget: Annotated[str, Form(max_length=20)] = "",
    objective: Annotated[str, Form(max_length=16)] = "",
    segments: Annotated[str, Form(max_length=500)] = "",
    csrf: Csrf = "",
) -> Response:
    """Plan a draft campaign; its page opens."""
    check_csrf(request, csrf)
    try:
        given = CampaignInput(
            name, strategy, _day(start, "start"), _day(end, "end"), partnership,
            objective or None, _minor(budget),
            segments=[s for s in segments.split(",") if s.strip()],
        )  # fmt: skip
        made = campaigns.create_campaign(db, user.org_id, given)
    except _REFUSED as exc:
        return _campaigns_page(request, user, db, error=exc.message, status_code=exc.http_status)
    return RedirectResponse(f"/campaigns/{made.id}", 303)


def _day(text: str, name: str) -> date:
    found = parse_date(text or None, name)
    if found is None:
        raise InvalidInputError(f"{name} is a day", field=name)
    return found


def _campaign_page(
    request: Request, user: User, db: Database, campaign_id: int, *,
    error: str | None = None, status_code: int = 200, checked: calendar.Saved | None = None,
    draft: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    view = campaigns.get_campaign(db, user.org_id, campaign_id)
    rules = calendar.rules(db, user.org_id)
    found = calendar.items(db, user.org_id, campaign_id)
    return page(
        request, "plan/campaign.html", user=user, status_code=status_code, error=error,
        figures=campaigns.campaign_figures(db, user.org_id, campaign_id),
        campaign=view, items=found, rules=rules, checked=checked, draft=draft or {},
 base=_base(user),
        mine=_slug(db, user.org_id), kinds=[k.value for k in ItemKind],
        local=calendar.local,
    )  # fmt: skip


def _slug(db: Database, org_id: int) -> str:
    with db.reading() as session:
        return OrganizationRepository(session).get(org_id).slug


@pages.get("/campaigns/{campaign_id}")
@pages.get("/portal/campaigns/{campaign_id}")
def campaign_page(request: Request, user: AnyUser, db: DB, campaign_id: SmallId) -> Response:
    return _campaign_page(request, user, db, campaign_id)


def _acting(user: User) -> None:
    """A dashboard analyst may look but not change anything; partner users act for their
    organization in the portal."""
    if not user.role.uses_portal and user.role not in EDITORS:
        raise PermissionDeniedError(f"an {user.role.value} can look but not change anything")


@pages.post("/campaigns/{campaign_id}/items")
@pages.post("/portal/campaigns/{campaign_id}/items")
def item_form(
    request: Request,
    user: AnyUser,
    db: DB,
    campaign_id: SmallId,
    at: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    channel: Annotated[str, Form(max_length=64)] = "",
    audience: Annotated[str, Form(max_length=64)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "",
    action: Annotated[Literal["check", "save"], Form()] = "check",
    csrf: Csrf = "",
) -> Response:
    """Check an item's conflicts before saving it (the form keeps what was typed), or save it."""
    check_csrf(request, csrf)
    _acting(user)
    draft = {"at": at, "kind": kind, "channel": channel, "audience": audience, "title": title,
             "timezone": timezone}  # fmt: skip
    given = calendar.ItemInput(campaign_id, at, kind, channel, audience, title, timezone or None)
    try:
        saved = calendar.add_item(db, user.org_id, given, check_only=action == "check")
    except _REFUSED as exc:
        return _campaign_page(request, user, db, campaign_id, error=exc.message,
                              status_code=exc.http_status, draft=draft)  # fmt: skip
    if action == "check":
        return _campaign_page(request, user, db, campaign_id, checked=saved, draft=draft)
    return RedirectResponse(f"{_base(user)}/campaigns/{campaign_id}#calendar", 303)


@pages.post("/campaigns/{campaign_id}/items/{item_id}/delete")
@pages.post("/portal/campaigns/{campaign_id}/items/{item_id}/delete")
def remove_item_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId, item_id: SmallId,
    csrf: Csrf = "",
) -> Response:  # fmt: skip
    def take() -> None:
        calendar.remove_item(db, user.org_id, campaign_id, item_id)

    return _campaign_act(request, user, db, campaign_id, csrf, take)


@pages.post("/campaigns/{campaign_id}/checklist/{item_id}")
@pages.post("/portal/campaigns/{campaign_id}/checklist/{item_id}")
def tick_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId, item_id: SmallId,
    done: Annotated[bool, Form()] = False, csrf: Csrf = "",
) -> Response:  # fmt: skip
    return _campaign_act(
        request, user, db, campaign_id, csrf,
        lambda: campaigns.mark_step(db, user.org_id, campaign_id, item_id,
                                    user.email if done else None),
    )  # fmt: skip


@pages.post("/campaigns/{campaign_id}/attachments")
@pages.post("/portal/campaigns/{campaign_id}/attachments")
def attach_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId,
    kind: Annotated[str, Form(max_length=16)] = "", key: Annotated[str, Form(max_length=64)] = "",
    detach: Annotated[bool, Form()] = False, csrf: Csrf = "",
) -> Response:  # fmt: skip
    """Put one of the organization's links, codes or experiments in the campaign."""

    def take() -> object:
        return campaigns.attach(db, user.org_id, campaign_id, kind, _key(kind, key.strip()),
                                detach=detach)  # fmt: skip

    return _campaign_act(request, user, db, campaign_id, csrf, take)


@pages.post("/campaigns/{campaign_id}/status")
def status_form(
    request: Request, user: Editor, db: DB, campaign_id: SmallId,
    status: Annotated[str, Form(max_length=16)] = "", csrf: Csrf = "",
) -> Response:  # fmt: skip
    def take() -> object:
        return campaigns.set_status(db, user.org_id, campaign_id, status)

    return _campaign_act(request, user, db, campaign_id, csrf, take)


def _campaign_act(
    request: Request, user: User, db: Database, campaign_id: int, csrf: str, take: Any
) -> Response:
    check_csrf(request, csrf)
    _acting(user)
    try:
        take()
    except _REFUSED as exc:
        return _campaign_page(request, user, db, campaign_id, error=exc.message,
                              status_code=exc.http_status)  # fmt: skip
    return RedirectResponse(f"{_base(user)}/campaigns/{campaign_id}", 303)


def _calendar_page(
    request: Request, user: User, db: Database, month: date, *, error: str | None = None,
    status_code: int = 200, feed_url: str | None = None,
) -> Response:  # fmt: skip
    rules = calendar.rules(db, user.org_id)
    zone = ZoneInfo(rules.timezone)
    found = calendar.items(db, user.org_id)
    days: dict[date, list[CalendarItem]] = {}
    for item in found:
        days.setdefault(item.starts_at.astimezone(zone).date(), []).append(item)
    first = month - timedelta(days=month.weekday())
    weeks = [[first + timedelta(days=7 * w + d) for d in range(7)] for w in range(6)]
    weeks = [w for w in weeks if w[0].month == month.month or w[-1].month == month.month]
    following = (month + timedelta(days=32)).replace(day=1)
    previous = (month - timedelta(days=1)).replace(day=1)
    listed = calendar.conflicts(db, user.org_id)
    conflicted = {i for c in listed for i in c.items}
    return page(
        request, "plan/calendar.html", user=user, status_code=status_code, error=error,
        month=month, weeks=weeks, days=days, zone=zone, rules=rules, conflicted=conflicted,
        conflicts=listed, blackouts=calendar.blackouts(db, user.org_id),
        feeds=feeds.feeds(db, user.org_id), feed_url=feed_url, base=_base(user),
        previous=previous.isoformat()[:7], following=following.isoformat()[:7],
    )  # fmt: skip


@pages.get("/calendar")
@pages.get("/portal/calendar")
def calendar_page(
    request: Request, user: AnyUser, db: DB, month: Annotated[str, Query(max_length=7)] = ""
) -> Response:
    """The month in the organization's zone, with every item it sees, the conflicts, blackout
    periods, calendar rules and feeds."""
    try:
        chosen = _month(month)
    except InvalidInputError as exc:
        return _calendar_page(request, user, db, _month(None), error=exc.message,
                              status_code=422)  # fmt: skip
    return _calendar_page(request, user, db, chosen)


def _calendar_act(request: Request, user: User, db: Database, csrf: str, take: Any) -> Response:
    check_csrf(request, csrf)
    _acting(user)
    try:
        made = take()
    except _REFUSED as exc:
        return _calendar_page(request, user, db, _month(None), error=exc.message,
                              status_code=exc.http_status)  # fmt: skip
    if isinstance(made, feeds.Feed):  # shown once, on the page that made it
        return _calendar_page(request, user, db, _month(None), feed_url=made.url)
    return RedirectResponse(f"{_base(user)}/calendar", 303)


@pages.post("/calendar/blackouts")
@pages.post("/portal/calendar/blackouts")
def blackout_form(
    request: Request, user: AnyUser, db: DB,
    start: Annotated[str, Form(max_length=10)] = "", end: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=500)] = "", csrf: Csrf = "",
) -> Response:  # fmt: skip
    return _calendar_act(request, user, db, csrf, lambda: calendar.add_blackout(
        db, user.org_id, _day(start, "from"), _day(end, "to"), reason))  # fmt: skip


@pages.post("/calendar/blackouts/{blackout_id}/delete")
@pages.post("/portal/calendar/blackouts/{blackout_id}/delete")
def remove_blackout_form(
    request: Request, user: AnyUser, db: DB, blackout_id: SmallId, csrf: Csrf = ""
) -> Response:
    def take() -> None:
        calendar.remove_blackout(db, user.org_id, blackout_id)

    return _calendar_act(request, user, db, csrf, take)


@pages.post("/calendar/rules")
@pages.post("/portal/calendar/rules")
def rules_form(
    request: Request, user: AnyUser, db: DB,
    min_gap_days: Annotated[int, Form(ge=0, le=90)] = 3,
    weekly_max: Annotated[int, Form(ge=1, le=100)] = 3,
    launch_days: Annotated[int, Form(ge=0, le=90)] = 7,
    timezone: Annotated[str, Form(max_length=64)] = "UTC", csrf: Csrf = "",
) -> Response:  # fmt: skip
    return _calendar_act(request, user, db, csrf, lambda: calendar.save_rules(
        db, user.org_id, min_gap_days=min_gap_days, weekly_max=weekly_max,
        launch_days=launch_days, timezone=timezone,
    ))  # fmt: skip


@pages.post("/calendar/feeds")
@pages.post("/portal/calendar/feeds")
def feed_form(request: Request, user: AnyUser, db: DB, csrf: Csrf = "") -> Response:
    public_url = request.app.state.settings.public_url
    return _calendar_act(request, user, db, csrf,
                         lambda: feeds.create_feed(db, user.org_id, public_url))  # fmt: skip


@pages.post("/calendar/feeds/{feed_id}/revoke")
@pages.post("/portal/calendar/feeds/{feed_id}/revoke")
def revoke_feed_form(
    request: Request, user: AnyUser, db: DB, feed_id: SmallId, csrf: Csrf = ""
) -> Response:
    return _calendar_act(request, user, db, csrf,
                         lambda: feeds.revoke_feed(db, user.org_id, feed_id))  # fmt: skip
