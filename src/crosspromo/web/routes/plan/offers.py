"""Joint offers and co-branded landing pages: the REST API, the forms on a campaign's page,
and the public landing page at ``/l/{slug}``."""

# No ``from __future__ import annotations``: FastAPI reads the parameters' annotations.
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import Field

from crosspromo.domain.clock import parse_day
from crosspromo.domain.money import parse_major
from crosspromo.domain.text import digits
from crosspromo.services.plan import offers
from crosspromo.services.plan.offers import LandingInput, LandingPage, Offer, OfferInput
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.pages import AnyUser, Csrf
from crosspromo.web.routes.plan.pages import campaign_act
from crosspromo.web.schemas import PROBLEM_RESPONSES, Body, SmallId

api = APIRouter(prefix="/api/v1", tags=["plan"], responses=PROBLEM_RESPONSES)
pages = APIRouter(include_in_schema=False)


class NewOffer(Body):
    title: str = Field(min_length=1, max_length=200)
    items: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=20
    )
    price_minor: int = Field(ge=0, le=10**15)
    start: date
    end: date
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    description: str = Field("", max_length=2000)
    regular_minor: int | None = Field(None, ge=0, le=10**15)
    shares: dict[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=0, le=10_000)]] | (
        None
    ) = Field(None, description="basis points of the revenue per organization slug")


class NewLanding(Body):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
    headline: str = Field(min_length=1, max_length=200)
    body: str = Field("", max_length=4000)
    offer_id: SmallId | None = None
    published: bool = True


class Publishing(Body):
    published: bool


@api.get("/campaigns/{campaign_id}/offers")
def list_offers(org: ApiOrg, db: DB, campaign_id: SmallId) -> list[Offer]:
    return offers.list_offers(db, org.id, campaign_id)


@api.post("/campaigns/{campaign_id}/offers", status_code=201)
def create_offer(org: ApiOrg, db: DB, campaign_id: SmallId, given: NewOffer) -> Offer:
    """A joint offer or bundle in the campaign, its revenue shared among the parties."""
    return offers.create_offer(db, org.id, campaign_id, OfferInput(
        given.title, given.items, given.price_minor, given.start, given.end, given.code,
        given.currency, given.description, given.regular_minor, given.shares,
    ))  # fmt: skip


@api.get("/campaigns/{campaign_id}/landing-pages")
def list_landing_pages(org: ApiOrg, db: DB, campaign_id: SmallId) -> list[LandingPage]:
    return offers.landing_pages(db, org.id, campaign_id)


@api.post("/campaigns/{campaign_id}/landing-pages", status_code=201)
def create_landing_page(
    org: ApiOrg, db: DB, campaign_id: SmallId, given: NewLanding
) -> LandingPage:
    """A co-branded landing page of the campaign, served at ``/l/{slug}``."""
    return offers.create_landing(db, org.id, campaign_id, LandingInput(
        given.slug, given.headline, given.body, given.offer_id, given.published))  # fmt: skip


@api.post("/campaigns/{campaign_id}/landing-pages/{page_id}/publish")
def publish_landing_page(
    org: ApiOrg, db: DB, campaign_id: SmallId, page_id: SmallId, given: Publishing
) -> LandingPage:
    return offers.publish(db, org.id, campaign_id, page_id, given.published)


@pages.get("/l/{slug}", response_class=HTMLResponse)
def landing(request: Request, db: DB, slug: Annotated[str, Field(max_length=64)]) -> Response:
    """A campaign's co-branded landing page (public); the view is kept for attribution."""
    client = request.client
    shown = offers.show_landing(
        db, slug, address=client.host if client else "",
        user_agent=request.headers.get("user-agent", ""), method=request.method,
    )  # fmt: skip
    templates = request.app.state.templates
    response = templates.TemplateResponse(request, "plan/landing.html", {"shown": shown})
    response.headers["cache-control"] = "no-store"
    assert isinstance(response, Response)
    return response


@pages.post("/campaigns/{campaign_id}/offers")
@pages.post("/portal/campaigns/{campaign_id}/offers")
def offer_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId,
    title: Annotated[str, Form(max_length=200)] = "",
    items: Annotated[str, Form(max_length=4000)] = "",
    price: Annotated[str, Form(max_length=20)] = "",
    regular: Annotated[str, Form(max_length=20)] = "",
    start: Annotated[str, Form(max_length=10)] = "", end: Annotated[str, Form(max_length=10)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
    description: Annotated[str, Form(max_length=2000)] = "", csrf: Csrf = "",
) -> Response:  # fmt: skip
    """A joint offer from the campaign page (the revenue shared equally)."""
    return campaign_act(request, user, db, campaign_id, csrf, lambda: offers.create_offer(
        db, user.org_id, campaign_id, OfferInput(
            title, items.splitlines(), parse_major(price, "EUR", "price"),
            parse_day(start, "start"), parse_day(end, "end"), code.strip(),
            description=description,
            regular_minor=parse_major(regular, "EUR", "regular price") if regular else None,
        )), "offers")  # fmt: skip


@pages.post("/campaigns/{campaign_id}/landing-pages")
@pages.post("/portal/campaigns/{campaign_id}/landing-pages")
def landing_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId,
    slug: Annotated[str, Form(max_length=64)] = "",
    headline: Annotated[str, Form(max_length=200)] = "",
    body: Annotated[str, Form(max_length=4000)] = "",
    offer: Annotated[str, Form(max_length=12)] = "", csrf: Csrf = "",
) -> Response:  # fmt: skip
    """A landing page from the campaign page, published at once."""
    chosen = int(offer) if digits(offer) and len(offer) < 10 else None
    return campaign_act(
        request,
        user,
        db,
        campaign_id,
        csrf,
        lambda: offers.create_landing(
            db, user.org_id, campaign_id, LandingInput(slug, headline, body, chosen)
        ),
        "offers",
    )


@pages.post("/campaigns/{campaign_id}/landing-pages/{page_id}/publish")
@pages.post("/portal/campaigns/{campaign_id}/landing-pages/{page_id}/publish")
def publish_form(
    request: Request, user: AnyUser, db: DB, campaign_id: SmallId, page_id: SmallId,
    published: Annotated[bool, Form()] = False, csrf: Csrf = "",
) -> Response:  # fmt: skip
    return campaign_act(request, user, db, campaign_id, csrf, lambda: offers.publish(
        db, user.org_id, campaign_id, page_id, published), "offers")  # fmt: skip
