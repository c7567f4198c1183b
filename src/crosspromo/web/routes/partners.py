"""Partner profiles and discovery (REST API v1): your profile, everyone's public profiles,
mentions of you, ranked candidates with reasons, the ecosystem graph, outreach drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from crosspromo.domain.profiles import Profile
from crosspromo.services.discover import profiles
from crosspromo.services.discover import ranking as discovery
from crosspromo.web.deps import DB, ApiOrg
from crosspromo.web.schemas import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", tags=["partners"], responses=PROBLEM_RESPONSES)
Encoder = Annotated[Literal["auto", "minilm", "tfidf"], Query()]
Slug = Annotated[str, Query(min_length=1, max_length=64, pattern="^[a-z0-9-]+$")]


class ProfileIn(BaseModel):
    description: str = Field(default="", max_length=profiles.MAX_DESCRIPTION)
    categories: list[Annotated[str, Field(max_length=profiles.MAX_ITEM)]] = Field(
        default_factory=list, max_length=profiles.MAX_ITEMS
    )
    offerings: list[Annotated[str, Field(max_length=profiles.MAX_ITEM)]] = Field(
        default_factory=list, max_length=profiles.MAX_ITEMS
    )
    audience_size: int | None = Field(default=None, ge=0, le=10**12)
    followers: int | None = Field(default=None, ge=0, le=10**12)
    engagements: int | None = Field(default=None, ge=0, le=10**12)
    region: str = Field(default="", max_length=64)


class ProfileOut(BaseModel):
    org: str
    name: str
    description: str
    categories: list[str]
    offerings: list[str]
    audience_size: int | None
    followers: int | None
    engagements: int | None
    engagement_rate: float | None
    region: str
    updated_at: datetime

    @classmethod
    def of(cls, p: Profile) -> ProfileOut:
        return cls(
            org=p.slug, name=p.name, description=p.description, categories=list(p.categories),
            offerings=list(p.offerings), audience_size=p.audience_size, followers=p.followers,
            engagements=p.engagements, engagement_rate=p.engagement_rate, region=p.region,
            updated_at=p.updated_at,
        )  # fmt: skip


class ProfileList(BaseModel):
    items: list[ProfileOut]


class MentionIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)
    source: str = Field(default="", max_length=200)
    posted_at: AwareDatetime | None = None


class MentionsIn(BaseModel):
    items: list[MentionIn] = Field(min_length=1, max_length=10_000)


class MentionsOut(BaseModel):
    received: int
    new: int


class OverlapOut(BaseModel):
    intersection: int
    rate_ours: float
    rate_theirs: float
    session: str


class CandidateOut(BaseModel):
    org: str
    name: str
    category: str
    score: float
    parts: dict[str, float]
    factors: dict[str, float | None]
    missing: list[str]
    relation: str
    competitor: bool
    overlap: OverlapOut | None
    sentiment: float | None
    mentions: int
    engagement_rate: float | None
    engagement_above_benchmark: bool
    partnership: str | None
    reasons: list[str]


class BundleOut(BaseModel):
    members: list[str]
    strength: float


class RankingOut(BaseModel):
    org: str
    method: str
    weights: dict[str, float]
    encoder: str
    candidates: list[CandidateOut]
    bundles: list[BundleOut]


class OutreachOut(BaseModel):
    candidate: str
    text: str


@router.get("/profile", response_model=ProfileOut)
def get_profile(org: ApiOrg, db: DB) -> ProfileOut:
    """Your organization's partner profile."""
    return ProfileOut.of(profiles.get_profile(db, org.id))


@router.put("/profile", response_model=ProfileOut)
def put_profile(body: ProfileIn, org: ApiOrg, db: DB) -> ProfileOut:
    """Create or replace your profile (what you offer, to whom, your audience's engagement)."""
    given = profiles.ProfileInput(
        body.description, tuple(body.categories), tuple(body.offerings), body.audience_size,
        body.followers, body.engagements, body.region,
    )  # fmt: skip
    return ProfileOut.of(profiles.save_profile(db, org.id, given))


@router.delete("/profile", status_code=204)
def delete_profile(org: ApiOrg, db: DB) -> Response:
    """Remove your profile: you no longer appear as a candidate."""
    profiles.delete_profile(db, org.id)
    return Response(status_code=204)


@router.get("/profiles", response_model=ProfileList)
def list_profiles(org: ApiOrg, db: DB) -> ProfileList:
    """Every organization's public profile here (what discovery compares)."""
    return ProfileList(items=[ProfileOut.of(p) for p in profiles.list_profiles(db)])


@router.post("/profile/mentions", response_model=MentionsOut)
def add_mentions(body: MentionsIn, org: ApiOrg, db: DB) -> MentionsOut:
    """Public mentions of your organization (reviews, posts); replays add nothing."""
    items = [m.model_dump() for m in body.items]
    return MentionsOut(received=len(items), new=profiles.add_mentions(db, org.id, items))


@router.get("/partners/rank", response_model=RankingOut)
def rank(
    org: ApiOrg,
    db: DB,
    top: Annotated[int, Query(ge=1, le=1000)] = 10,
    new_only: bool = False,
    encoder: Encoder = "auto",
) -> RankingOut:
    """Candidate partners, best first, with each factor's part of the score and the reasons:
    the same JSON as ``crosspromo partners rank --format json``."""
    ranking = discovery.rank(db, org.id, top=top, encoder=encoder, include_partners=not new_only)
    return RankingOut(**discovery.ranking_dict(ranking))


@router.get(
    "/partners/graph",
    response_class=Response,
    responses={200: {"content": {"application/graphml+xml": {}}, "description": "GraphML"}},
)
def graph(org: ApiOrg, db: DB, encoder: Encoder = "auto") -> Response:
    """The ecosystem graph as GraphML (overlaps: only those measured with you)."""
    text = discovery.ecosystem_graphml(db, org.id, encoder)
    return Response(text, media_type="application/graphml+xml")


@router.get("/partners/outreach", response_model=OutreachOut)
def outreach(org: ApiOrg, db: DB, candidate: Slug, encoder: Encoder = "auto") -> OutreachOut:
    """A drafted introduction to ``candidate`` citing the evidence."""
    text = discovery.outreach_draft(db, org.id, candidate, encoder=encoder)
    return OutreachOut(candidate=candidate, text=text)
