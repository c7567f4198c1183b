"""Partner profiles, mentions and scoring setups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, select

from crosspromo.domain.profiles import Mention, Profile, ScoringSetup
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


class ProfileRepository(Repository):
    def save(self, org_id: int, values: dict[str, Any]) -> None:
        self._upsert(t.profiles, {"org_id": org_id, **values, "updated_at": utcnow()})

    def delete(self, org_id: int) -> bool:
        done = self.session.execute(delete(t.profiles).where(t.profiles.c.org_id == org_id))
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def _select(self) -> Any:
        o = t.organizations.c
        return select(t.profiles, o.slug, o.name).join(t.organizations, o.id == t.profiles.c.org_id)

    def get(self, org_id: int) -> Profile:
        row = self.session.execute(self._select().where(t.profiles.c.org_id == org_id)).first()
        if row is None:
            raise NotFoundError("this organization has no profile yet", org_id=org_id)
        return _profile(row)

    def find(self, org_id: int) -> Profile | None:
        row = self.session.execute(self._select().where(t.profiles.c.org_id == org_id)).first()
        return None if row is None else _profile(row)

    def all(self) -> list[Profile]:
        rows = self.session.execute(self._select().order_by(t.organizations.c.slug))
        return [_profile(r) for r in rows]

    def add_mentions(self, rows: Sequence[dict[str, Any]]) -> int:
        """Store mentions not stored yet (by org and key); how many were new."""
        return self._insert_new(t.mentions, rows, ["org_id", "mention_key"])

    def mentions(self, org_ids: Sequence[int]) -> list[Mention]:
        m = t.mentions.c
        rows = self.session.execute(
            select(m.org_id, m.text, m.source, m.posted_at).where(m.org_id.in_(list(org_ids)))
        )
        return [Mention(r.org_id, r.text, r.source, r.posted_at) for r in rows]

    def scoring(self, org_id: int) -> ScoringSetup | None:
        row = self.session.execute(select(t.scoring).where(t.scoring.c.org_id == org_id)).first()
        if row is None:
            return None
        return ScoringSetup(dict(row.weights), row.learned, bool(row.use_learned))

    def save_scoring(self, org_id: int, setup: ScoringSetup) -> None:
        self._upsert(
            t.scoring,
            {
                "org_id": org_id,
                "weights": setup.weights,
                "learned": setup.learned,
                "use_learned": setup.use_learned,
                "updated_at": utcnow(),
            },
        )


def _profile(row: Row[Any]) -> Profile:
    return Profile(
        org_id=row.org_id,
        slug=row.slug,
        name=row.name,
        description=row.description,
        categories=tuple(row.categories),
        offerings=tuple(row.offerings),
        audience_size=row.audience_size,
        followers=row.followers,
        engagements=row.engagements,
        region=row.region,
        updated_at=row.updated_at,
    )
