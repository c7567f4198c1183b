"""Plan: its REST API and the public routes (the calendar feed, logos, landing pages), and its
dashboard and portal pages. Each module declares its own routers; they are served as one."""

from fastapi import APIRouter

from crosspromo.web.routes.plan import api as calendar_api
from crosspromo.web.routes.plan import assets, offers
from crosspromo.web.routes.plan import pages as campaign_pages


def _joined(*routers: APIRouter) -> APIRouter:
    joined = APIRouter()
    for router in routers:
        joined.routes.extend(router.routes)
    return joined


api = _joined(calendar_api.api, assets.api, offers.api)
public = _joined(calendar_api.public, assets.public)
pages = _joined(campaign_pages.pages, assets.pages, offers.pages)

__all__ = ["api", "pages", "public"]
