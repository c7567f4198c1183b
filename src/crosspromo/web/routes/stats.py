"""Tracking statistics per day, partner and campaign (REST API v1), as JSON or CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from crosspromo.services.track import stats
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["stats"], responses=PROBLEM_RESPONSES)
From = Annotated[
    date | None,
    Query(alias="from", description="first day (UTC); default: 30 days up to the last day"),
]
To = Annotated[
    date | None,
    Query(
        alias="to", description="last day (UTC); default: the latest day with clicks, else today"
    ),
]
_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}},
        "description": "one line per day, partner, campaign, currency",
    }
}


class DailyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: str
    partner: str
    campaign: str
    clicks: int
    unique_clicks: int
    bot_clicks: int
    leads: int
    sales: int
    revenue_by_currency: dict[str, int]


class DailyList(BaseModel):
    start: date
    end: date
    items: list[DailyOut]


@router.get("/stats/daily", response_model=DailyList)
def daily(org: ApiOrg, db: DB, start: From = None, end: To = None) -> DailyList:
    """Clicks (human, unique, bot), leads, sales and net revenue per day, partner and campaign."""
    first, last = stats.date_range(start, end, latest=stats.latest_day(db, org.id))
    rows = stats.daily_stats(db, org.id, first, last)
    return DailyList(start=first, end=last, items=[DailyOut.model_validate(r) for r in rows])


@router.get("/stats/daily.csv", response_class=Response, responses=_CSV)
def daily_csv(org: ApiOrg, db: DB, start: From = None, end: To = None) -> Response:
    return daily_csv_response(db, org.id, f"crosspromo-{org.slug}", start, end)


def daily_csv_response(
    db: DB, org_id: int, name: str, start: date | None, end: date | None
) -> Response:
    """The daily stats as a CSV download (for the API and the dashboard alike)."""
    first, last = stats.date_range(start, end, latest=stats.latest_day(db, org_id))
    return Response(
        stats.to_csv(stats.daily_stats(db, org_id, first, last)),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}-{first}-{last}.csv"'},
    )
