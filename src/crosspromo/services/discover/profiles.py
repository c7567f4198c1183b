"""Partner profiles (what an organization offers, to whom, how engaged its audience is) and
public mentions of organizations: edit, import from CSV/Parquet, read."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from crosspromo.domain.clock import aware_time
from crosspromo.domain.profiles import Profile
from crosspromo.domain.text import check_plain
from crosspromo.errors import InvalidInputError
from crosspromo.services.files.tabular import TabularFile
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, ProfileRepository

MAX_DESCRIPTION = 4000
MAX_ITEMS = 50
MAX_ITEM = 200
MAX_ROWS = 100_000
PROFILE_COLUMNS = ("org", "description", "categories", "offerings", "audience_size",
                   "followers", "engagements", "region")  # fmt: skip
MENTION_COLUMNS = ("org", "text", "source", "posted_at")


@dataclass(frozen=True, slots=True)
class ProfileInput:
    description: str = ""
    categories: tuple[str, ...] = ()
    offerings: tuple[str, ...] = ()
    audience_size: int | None = None
    followers: int | None = None
    engagements: int | None = None
    region: str = ""

    def values(self) -> dict[str, Any]:
        """The stored form, or an InvalidInputError naming the field."""
        for name in ("description", "region", "categories", "offerings"):
            value = getattr(self, name)
            check_plain(name, *(value if isinstance(value, tuple) else (value,)))
        if len(self.description) > MAX_DESCRIPTION:
            raise InvalidInputError(
                f"description: at most {MAX_DESCRIPTION} characters", field="description"
            )
        lists = {}
        for name, items in (("categories", self.categories), ("offerings", self.offerings)):
            cleaned = [i.strip() for i in items if i.strip()]
            if len(cleaned) > MAX_ITEMS or any(len(i) > MAX_ITEM for i in cleaned):
                raise InvalidInputError(
                    f"{name}: at most {MAX_ITEMS} items of at most {MAX_ITEM} characters",
                    field=name,
                )
            lists[name] = list(dict.fromkeys(cleaned))
        lists["categories"] = [c.lower() for c in lists["categories"]]
        for name in ("audience_size", "followers", "engagements"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 10**12:
                raise InvalidInputError(f"{name}: must be 0 or more", field=name)
        if len(self.region) > 64:
            raise InvalidInputError("region: at most 64 characters", field="region")
        return {
            "description": self.description.strip(),
            **lists,
            "audience_size": self.audience_size,
            "followers": self.followers,
            "engagements": self.engagements,
            "region": self.region.strip(),
        }


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A partner profile as every tenant sees it."""

    org: str
    name: str
    description: str
    categories: tuple[str, ...]
    offerings: tuple[str, ...]
    audience_size: int | None
    followers: int | None
    engagements: int | None
    engagement_rate: float | None
    region: str
    updated_at: datetime

    @classmethod
    def of(cls, p: Profile) -> ProfileView:
        return cls(
            p.slug, p.name, p.description, p.categories, p.offerings, p.audience_size,
            p.followers, p.engagements, p.engagement_rate, p.region, p.updated_at,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class MentionsAdded:
    received: int
    new: Annotated[int, Field(description="mentions not seen before (replays add nothing)")]


def save_profile(db: Database, org_id: int, given: ProfileInput) -> ProfileView:
    values = given.values()
    with db.transaction() as session:
        repo = ProfileRepository(session)
        repo.save(org_id, values)
        return ProfileView.of(repo.get(org_id))


def get_profile(db: Database, org_id: int) -> ProfileView:
    with db.transaction() as session:
        return ProfileView.of(ProfileRepository(session).get(org_id))


def delete_profile(db: Database, org_id: int) -> bool:
    with db.transaction() as session:
        return ProfileRepository(session).delete(org_id)


def list_profiles(db: Database) -> list[ProfileView]:
    with db.transaction() as session:
        return [ProfileView.of(p) for p in ProfileRepository(session).all()]


def _split(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(part for part in str(value).split(";"))


def _count(value: Any, name: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(str(value).strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise InvalidInputError(f"{name}: {value!r} is not a whole number", field=name) from None
    return number


def import_profiles(db: Database, path: Path) -> int:
    """Profiles from a file with an ``org`` column (slug) and any of the profile fields
    (lists separated by ';'); all or nothing, a bad row named by its line."""
    source = TabularFile.open(path, PROFILE_COLUMNS, ("org",), MAX_ROWS)
    with db.transaction() as session:
        orgs = OrganizationRepository(session)
        repo = ProfileRepository(session)
        for index in range(source.table.num_rows):
            row = source.row(index)
            try:
                org = orgs.by_slug(str(row["org"]).strip())
                given = ProfileInput(
                    description=str(row.get("description") or ""),
                    categories=_split(row.get("categories")),
                    offerings=_split(row.get("offerings")),
                    audience_size=_count(row.get("audience_size"), "audience_size"),
                    followers=_count(row.get("followers"), "followers"),
                    engagements=_count(row.get("engagements"), "engagements"),
                    region=str(row.get("region") or ""),
                )
                repo.save(org.id, given.values())
            except Exception as exc:
                raise _at(source, index, exc) from None
    return int(source.table.num_rows)


def _at(source: TabularFile, index: int, exc: Exception) -> InvalidInputError:
    message = getattr(exc, "message", None) or str(exc)
    where = f"{source.path.name}, {source.where} {source.position(index)}"
    return InvalidInputError(f"{where}: {message}", row=source.position(index))


def mention_key(text: str, source: str, posted_at: datetime | None) -> str:
    stamp = posted_at.isoformat() if posted_at else ""
    return hashlib.sha256(f"{source}\x1f{stamp}\x1f{text}".encode()).hexdigest()


def _mention_row(org_id: int, item: Mapping[str, Any]) -> dict[str, Any]:
    text = str(item.get("text") or "").strip()
    if not text or len(text) > 10_000:
        raise InvalidInputError("text: 1 to 10,000 characters", field="text")
    source = str(item.get("source") or "").strip()[:200]
    check_plain("text", text)
    check_plain("source", source)
    raw = item.get("posted_at")
    posted = None
    if raw not in (None, ""):
        try:
            posted = aware_time(raw)
        except ValueError as exc:
            raise InvalidInputError(f"posted_at: {exc}", field="posted_at") from None
    return {
        "org_id": org_id,
        "mention_key": mention_key(text, source, posted),
        "text": text,
        "source": source,
        "posted_at": posted,
    }


def add_mentions(db: Database, org_id: int, items: Sequence[Mapping[str, Any]]) -> MentionsAdded:
    """Mentions of ``org_id`` (``text``, ``source``, ``posted_at``); replays add nothing."""
    rows = [_mention_row(org_id, item) for item in items]
    with db.transaction() as session:
        return MentionsAdded(len(rows), ProfileRepository(session).add_mentions(rows))


def import_mentions(db: Database, path: Path) -> MentionsAdded:
    """Mentions from a file with ``org`` and ``text`` (and ``source``, ``posted_at``): all or
    nothing."""
    source = TabularFile.open(path, MENTION_COLUMNS, ("org", "text"), MAX_ROWS)
    rows = []
    with db.transaction() as session:
        orgs = OrganizationRepository(session)
        ids: dict[str, int] = {}
        for index in range(source.table.num_rows):
            item = source.row(index)
            try:
                slug = str(item["org"]).strip()
                if slug not in ids:
                    ids[slug] = orgs.by_slug(slug).id
                rows.append(_mention_row(ids[slug], item))
            except Exception as exc:
                raise _at(source, index, exc) from None
        added = ProfileRepository(session).add_mentions(rows)
    return MentionsAdded(len(rows), added)
