"""Plan over the REST API: strategies recommended for a goal, campaigns with their checklists,
links, codes and experiments, the shared calendar and its conflicts, blackout periods, calendar
rules and feeds; and the secret iCal address a calendar program reads without a key."""

# No ``from __future__ import annotations``: FastAPI reads the parameters' annotations.
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from crosspromo.domain.plan import Blackout, CalendarItem, CalendarRules, Conflict
from crosspromo.services.plan import calendar, campaigns, feeds
from crosspromo.services.plan.campaigns import CampaignFigures, CampaignInput, CampaignView
from crosspromo.services.plan.strategies import Recommendations, partner_fit, recommend
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import PROBLEM_RESPONSES, Body, PartnerSlug, SmallId

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
    partner: PartnerSlug = None,
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
    return campaigns.attach(db, org.id, campaign_id, body.kind, body.key, detach=body.detach)


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
