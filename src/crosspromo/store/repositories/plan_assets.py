"""Co-branded assets of a campaign (versions, reviews, comments, downloads), the
organizations' brand guidelines, joint offers, landing pages and their views."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update

from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


def _grouped(rows: Any, key: str) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        found[row[key]].append(dict(row))
    return found


class AssetRepository(Repository):
    def add(self, campaign_id: int, org_id: int, name: str) -> int:
        return self._insert(t.assets, {"campaign_id": campaign_id, "org_id": org_id,
                                       "name": name, "created_at": utcnow()}, "")  # fmt: skip

    def add_version(self, asset_id: int, values: dict[str, Any]) -> int:
        """The asset's next version; its number."""
        v = t.asset_versions.c
        number = int(self.session.execute(
            select(func.coalesce(func.max(v.number), 0)).where(v.asset_id == asset_id)
        ).scalar_one()) + 1  # fmt: skip
        self._insert(t.asset_versions, {**values, "asset_id": asset_id, "number": number,
                                        "created_at": utcnow()},
                     "another version was uploaded at the same time: try again")  # fmt: skip
        return number

    def of_campaign(self, campaign_id: int, asset_id: int | None = None) -> list[dict[str, Any]]:
        a, o = t.assets.c, t.organizations.c
        query = (
            select(t.assets, o.slug.label("org")).join(t.organizations, o.id == a.org_id)
            .where(a.campaign_id == campaign_id).order_by(a.id)
        )  # fmt: skip
        if asset_id is not None:
            query = query.where(a.id == asset_id)
        rows = [dict(r) for r in self.session.execute(query).mappings()]
        if asset_id is not None and not rows:
            raise NotFoundError("no such asset", asset_id=asset_id)
        return rows

    def versions(self, asset_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        v = t.asset_versions.c
        rows = self.session.execute(
            select(t.asset_versions).where(v.asset_id.in_(list(asset_ids))).order_by(v.number)
        ).mappings()
        return _grouped(rows, "asset_id")

    def reviews(self, version_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        r, o = t.asset_reviews.c, t.organizations.c
        rows = self.session.execute(
            select(t.asset_reviews, o.slug.label("org"))
            .join(t.organizations, o.id == r.org_id)
            .where(r.version_id.in_(list(version_ids))).order_by(r.reviewed_at)
        ).mappings()  # fmt: skip
        return _grouped(rows, "version_id")

    def comments(self, asset_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        c, o = t.asset_comments.c, t.organizations.c
        rows = self.session.execute(
            select(t.asset_comments, o.slug.label("org"))
            .join(t.organizations, o.id == c.org_id)
            .where(c.asset_id.in_(list(asset_ids))).order_by(c.id)
        ).mappings()  # fmt: skip
        return _grouped(rows, "asset_id")

    def downloads(self, version_ids: Sequence[int]) -> dict[int, int]:
        d = t.asset_downloads.c
        rows = self.session.execute(
            select(d.version_id, func.sum(d.count)).where(d.version_id.in_(list(version_ids)))
            .group_by(d.version_id)
        )  # fmt: skip
        return {version: int(total) for version, total in rows}

    def review(self, version_id: int, org_id: int, decision: str, reviewer: str) -> None:
        self._upsert(t.asset_reviews, {
            "version_id": version_id, "org_id": org_id, "decision": decision,
            "reviewer": reviewer, "reviewed_at": utcnow(),
        }, key=["version_id", "org_id"])  # fmt: skip

    def comment(self, values: dict[str, Any]) -> int:
        return self._insert(t.asset_comments, {**values, "created_at": utcnow()}, "")

    def count_download(self, version_id: int, org_id: int) -> None:
        values = {"version_id": version_id, "org_id": org_id, "count": 1, "last_at": utcnow()}
        self._upsert(t.asset_downloads, values, key=["version_id", "org_id"], changes={
            "count": t.asset_downloads.c.count + 1, "last_at": values["last_at"],
        })  # fmt: skip

    def in_campaigns_of(self, org_id: int) -> list[dict[str, Any]]:
        """The assets of every campaign ``org_id`` takes part in, with their campaign's name."""
        a, k, p = t.assets.c, t.campaigns.c, t.campaign_parties.c
        rows = self.session.execute(
            select(a.id, a.campaign_id, k.name.label("campaign"))
            .join(t.campaigns, k.id == a.campaign_id)
            .where(a.campaign_id.in_(select(p.campaign_id).where(p.org_id == org_id)))
            .order_by(k.starts_on.desc(), a.id)
        ).mappings()  # fmt: skip
        return [dict(r) for r in rows]


class GuidelinesRepository(Repository):
    def get(self, org_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        g, o = t.brand_guidelines.c, t.organizations.c
        rows = self.session.execute(
            select(t.brand_guidelines, o.slug, o.name)
            .join(t.organizations, o.id == g.org_id).where(g.org_id.in_(list(org_ids)))
        ).mappings()  # fmt: skip
        return {r["org_id"]: dict(r) for r in rows}

    def save(self, org_id: int, values: dict[str, Any]) -> None:
        self._upsert(t.brand_guidelines, {**values, "org_id": org_id, "updated_at": utcnow()})

    def has_logo(self, digest: str) -> str | None:
        """The type of the logo kept under ``digest``, if it is some organization's logo."""
        g = t.brand_guidelines.c
        return self.session.execute(
            select(g.logo_type).where(g.logo_sha256 == digest).limit(1)
        ).scalar()


class OfferRepository(Repository):
    def add(self, values: dict[str, Any]) -> int:
        return self._insert(t.offers, {**values, "created_at": utcnow()},
                            "the campaign has an offer with this code")  # fmt: skip

    def of_campaign(self, campaign_id: int) -> list[dict[str, Any]]:
        f, o = t.offers.c, t.organizations.c
        rows = self.session.execute(
            select(t.offers, o.slug.label("org")).join(t.organizations, o.id == f.org_id)
            .where(f.campaign_id == campaign_id).order_by(f.id)
        ).mappings()  # fmt: skip
        return [dict(r) for r in rows]

    def get(self, offer_id: int) -> dict[str, Any] | None:
        row = self.session.execute(
            select(t.offers).where(t.offers.c.id == offer_id)
        ).mappings().first()  # fmt: skip
        return None if row is None else dict(row)


class LandingRepository(Repository):
    def add(self, values: dict[str, Any]) -> int:
        now = utcnow()
        return self._insert(t.landing_pages, {**values, "created_at": now, "updated_at": now},
                            "a landing page already has this address")  # fmt: skip

    def of_campaign(self, campaign_id: int) -> list[dict[str, Any]]:
        pages = t.landing_pages.c
        rows = self.session.execute(
            select(t.landing_pages).where(pages.campaign_id == campaign_id).order_by(pages.id)
        ).mappings()
        return [dict(r) for r in rows]

    def by_slug(self, slug: str) -> dict[str, Any] | None:
        row = self.session.execute(
            select(t.landing_pages).where(t.landing_pages.c.slug == slug)
        ).mappings().first()  # fmt: skip
        return None if row is None else dict(row)

    def set_published(self, campaign_id: int, page_id: int, published: bool) -> None:
        pages = t.landing_pages.c
        done = self.session.execute(
            update(t.landing_pages)
            .where(pages.id == page_id, pages.campaign_id == campaign_id)
            .values(published=published, updated_at=utcnow())
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError("no such landing page", page_id=page_id)

    def record_view(self, page_id: int, visitor: str, at: datetime, is_bot: bool) -> None:
        self.session.execute(t.landing_views.insert().values(
            page_id=page_id, visitor_hash=visitor, viewed_at=at, is_bot=is_bot,
        ))  # fmt: skip

    def views(self, page_ids: Sequence[int]) -> dict[int, int]:
        w = t.landing_views.c
        rows = self.session.execute(
            select(w.page_id, func.count())
            .where(and_(w.page_id.in_(list(page_ids)), w.is_bot.is_(False)))
            .group_by(w.page_id)
        )
        return {page: int(count) for page, count in rows}

    def links(self, campaign_id: int) -> list[dict[str, Any]]:
        """The active links of every party in the campaign, with whose product they lead to."""
        k, o = t.links.c, t.organizations.c
        rows = self.session.execute(
            select(k.code, k.org_id, o.slug.label("org"), o.name.label("org_name"))
            .join(t.organizations, o.id == k.org_id)
            .where(k.campaign_id == campaign_id, k.active.is_(True)).order_by(k.id)
        ).mappings()  # fmt: skip
        return [dict(r) for r in rows]
