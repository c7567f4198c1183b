"""Plan in the dashboard and the partner portal: campaigns (the strategies ranked for a goal,
a campaign planned, its page with the calendar, the checklist, its links and codes), and the
calendar's month view with conflicts, blackouts, rules and feeds."""

# No ``from __future__ import annotations``: FastAPI reads the form parameters' annotations.
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from crosspromo.domain import User
from crosspromo.domain.clock import parse_day, parse_month
from crosspromo.domain.money import parse_major
from crosspromo.domain.plan import CalendarItem, ItemKind
from crosspromo.domain.strategies import PROFILES
from crosspromo.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from crosspromo.services.accounts.organizations import organization_slugs
from crosspromo.services.plan import assets, calendar, campaigns, feeds, offers
from crosspromo.services.plan.campaigns import CampaignInput
from crosspromo.services.plan.strategies import Recommendations, recommend
from crosspromo.store.database import Database
from crosspromo.web.deps import DB, check_csrf
from crosspromo.web.pages import EDITORS, AnyUser, Csrf, Editor, page
from crosspromo.web.schemas import SmallId

# The dashboard (the brand's managers) and the partner portal share these pages: every party of
# a campaign sees it and its calendar, adds calendar items and ticks its own checklist items;
# the organization that planned a campaign moves its status. Changes are CSRF-checked forms,
# for an owner or manager in the dashboard and for the partner's users in the portal.
pages = APIRouter(include_in_schema=False)
REFUSED = (InvalidInputError, ConflictError, NotFoundError, PermissionDeniedError)


def base_of(user: User) -> str:
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
    return page(
        request, "plan/campaigns.html", user=user, status_code=status_code, error=error,
        campaigns=campaigns.list_campaigns(db, user.org_id),
        partnerships=campaigns.partnership_choices(db, user.org_id),
        strategies=list(PROFILES.values()), ranked=ranked, asked=asked or {},
        base=base_of(user), today=date.today().isoformat(),
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
        return RedirectResponse(f"{base_of(user)}/campaigns", 303)
    ranked, error = None, None
    if goal:
        try:
            ranked = recommend(goal, parse_major(budget, "EUR", "budget"), "EUR", int(weeks or 0))
        except (InvalidInputError, ValueError) as exc:
            error = getattr(exc, "message", "weeks and budget are whole numbers")
    asked = {"goal": goal, "budget": budget, "weeks": weeks}
    return _campaigns_page(request, user, db, ranked=ranked, asked=asked, error=error)


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
            name, strategy, parse_day(start, "start"), parse_day(end, "end"), partnership,
            objective or None, parse_major(budget, "EUR", "budget"),
            segments=[s for s in segments.split(",") if s.strip()],
        )  # fmt: skip
        made = campaigns.create_campaign(db, user.org_id, given)
    except REFUSED as exc:
        return _campaigns_page(request, user, db, error=exc.message, status_code=exc.http_status)
    return RedirectResponse(f"/campaigns/{made.id}", 303)


def campaign_page_with(
    request: Request, user: User, db: Database, campaign_id: int, error: str, status_code: int
) -> Response:
    """The campaign's page with what went wrong (a form of another module refused)."""
    return _campaign_page(request, user, db, campaign_id, error=error, status_code=status_code)


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
        assets=assets.list_assets(db, user.org_id, campaign_id),
        offers=offers.list_offers(db, user.org_id, campaign_id),
        landings=offers.landing_pages(db, user.org_id, campaign_id),
        campaign=view, items=found, rules=rules, checked=checked, draft=draft or {},
 base=base_of(user),
        mine=organization_slugs(db, {user.org_id})[user.org_id], kinds=[k.value for k in ItemKind],
        local=calendar.local,
    )  # fmt: skip


@pages.get("/campaigns/{campaign_id}")
@pages.get("/portal/campaigns/{campaign_id}")
def campaign_page(request: Request, user: AnyUser, db: DB, campaign_id: SmallId) -> Response:
    return _campaign_page(request, user, db, campaign_id)


def acting(user: User) -> None:
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
    acting(user)
    draft = {"at": at, "kind": kind, "channel": channel, "audience": audience, "title": title,
             "timezone": timezone}  # fmt: skip
    given = calendar.ItemInput(campaign_id, at, kind, channel, audience, title, timezone or None)
    try:
        saved = calendar.add_item(db, user.org_id, given, check_only=action == "check")
    except REFUSED as exc:
        return _campaign_page(request, user, db, campaign_id, error=exc.message,
                              status_code=exc.http_status, draft=draft)  # fmt: skip
    if action == "check":
        return _campaign_page(request, user, db, campaign_id, checked=saved, draft=draft)
    return RedirectResponse(f"{base_of(user)}/campaigns/{campaign_id}#calendar", 303)


@pages.post("/campaigns/{campaign_id}/items/{item_id}/delete")
@pages.post("/portal/campaigns/{campaign_id}/items/{item_id}/delete")
def remove_item_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId, item_id: SmallId,
    csrf: Csrf = "",
) -> Response:  # fmt: skip
    def take() -> None:
        calendar.remove_item(db, user.org_id, campaign_id, item_id)

    return campaign_act(request, user, db, campaign_id, csrf, take)


@pages.post("/campaigns/{campaign_id}/checklist/{item_id}")
@pages.post("/portal/campaigns/{campaign_id}/checklist/{item_id}")
def tick_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId, item_id: SmallId,
    done: Annotated[bool, Form()] = False, csrf: Csrf = "",
) -> Response:  # fmt: skip
    return campaign_act(
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
        return campaigns.attach(db, user.org_id, campaign_id, kind, key.strip(), detach=detach)

    return campaign_act(request, user, db, campaign_id, csrf, take)


@pages.post("/campaigns/{campaign_id}/status")
def status_form(
    request: Request, user: Editor, db: DB, campaign_id: SmallId,
    status: Annotated[str, Form(max_length=16)] = "", csrf: Csrf = "",
) -> Response:  # fmt: skip
    def take() -> object:
        return campaigns.set_status(db, user.org_id, campaign_id, status)

    return campaign_act(request, user, db, campaign_id, csrf, take)


def campaign_act(
    request: Request, user: User, db: Database, campaign_id: int, csrf: str, take: Any,
    section: str = "",
) -> Response:  # fmt: skip
    """A form on a campaign's page: checked, done, and the page again (at ``section``), or
    the page with what was refused."""
    check_csrf(request, csrf)
    acting(user)
    try:
        take()
    except REFUSED as exc:
        return _campaign_page(request, user, db, campaign_id, error=exc.message,
                              status_code=exc.http_status)  # fmt: skip
    where = f"#{section}" if section else ""
    return RedirectResponse(f"{base_of(user)}/campaigns/{campaign_id}{where}", 303)


def _calendar_page(
    request: Request, user: User, db: Database, month: date, *, error: str | None = None,
    status_code: int = 200, feed_url: str | None = None,
) -> Response:  # fmt: skip
    shown = calendar.overview(db, user.org_id)
    zone = ZoneInfo(shown.rules.timezone)
    days: dict[date, list[CalendarItem]] = {}
    for item in shown.items:
        days.setdefault(item.starts_at.astimezone(zone).date(), []).append(item)
    first = month - timedelta(days=month.weekday())
    weeks = [[first + timedelta(days=7 * w + d) for d in range(7)] for w in range(6)]
    weeks = [w for w in weeks if w[0].month == month.month or w[-1].month == month.month]
    following = (month + timedelta(days=32)).replace(day=1)
    previous = (month - timedelta(days=1)).replace(day=1)
    conflicted = {i for c in shown.conflicts for i in c.items}
    return page(
        request, "plan/calendar.html", user=user, status_code=status_code, error=error,
        month=month, weeks=weeks, days=days, zone=zone, rules=shown.rules,
        conflicted=conflicted, conflicts=shown.conflicts, blackouts=shown.blackouts,
        feeds=feeds.feeds(db, user.org_id), feed_url=feed_url, base=base_of(user),
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
    acting(user)
    try:
        made = take()
    except REFUSED as exc:
        return _calendar_page(request, user, db, _month(None), error=exc.message,
                              status_code=exc.http_status)  # fmt: skip
    if isinstance(made, feeds.Feed):  # shown once, on the page that made it
        return _calendar_page(request, user, db, _month(None), feed_url=made.url)
    return RedirectResponse(f"{base_of(user)}/calendar", 303)


@pages.post("/calendar/blackouts")
@pages.post("/portal/calendar/blackouts")
def blackout_form(
    request: Request, user: AnyUser, db: DB,
    start: Annotated[str, Form(max_length=10)] = "", end: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=500)] = "", csrf: Csrf = "",
) -> Response:  # fmt: skip
    return _calendar_act(request, user, db, csrf, lambda: calendar.add_blackout(
        db, user.org_id, parse_day(start, "from"), parse_day(end, "to"), reason))  # fmt: skip


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
