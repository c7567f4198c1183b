"""Co-branded assets of a campaign: uploads (images, PDF, HTML, video; the type told from the
content, the size held to a limit while it is read), each upload a new version, comments, and
an approval by every party of the campaign before a version is usable. A new version starts
its review afresh, so an asset is offered for use (and downloads are counted) only while its
latest version is approved by all. Each organization's brand guidelines stand beside the asset
under review."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy.orm import Session

from crosspromo.domain.media import ALLOWED, HEAD_BYTES, MediaType, sniff
from crosspromo.domain.plan import AssetState, Decision
from crosspromo.domain.text import one_line, paragraphs
from crosspromo.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
)
from crosspromo.store.blobs import CHUNK, BlobStore
from crosspromo.store.database import Database
from crosspromo.store.repositories.plan import CampaignRepository
from crosspromo.store.repositories.plan_assets import AssetRepository, GuidelinesRepository

MAX_COMMENT = 2000
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class Review:
    org: str
    decision: str
    reviewer: str
    reviewed_at: datetime


@dataclass(frozen=True, slots=True)
class Version:
    number: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime
    state: str
    reviews: list[Review]
    waiting_on: list[str]  # the parties that have not approved it
    downloads: int


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    version: int
    org: str
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Asset:
    id: int
    campaign_id: int
    name: str
    org: str  # the side that made it
    created_at: datetime
    state: str  # of its latest version
    usable: int | None  # the version offered for use: the latest, once all approved it
    versions: list[Version]  # oldest first
    comments: list[Comment]

    @property
    def latest(self) -> Version:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class Upload:
    """An upload read through once: its digest, size and type; ``source`` rewound."""

    source: IO[bytes]
    sha256: str
    size: int
    media: MediaType


def take_upload(source: IO[bytes], limit: int, allowed: Sequence[MediaType] = ()) -> Upload:
    """Read ``source`` to its end (at most ``limit`` bytes, else refused as it is read),
    hashing it and telling its type from its first bytes."""
    digest, size, head = hashlib.sha256(), 0, b""
    while piece := source.read(CHUNK):
        size += len(piece)
        if size > limit:
            raise PayloadTooLargeError(f"the file is larger than the limit of {limit} bytes")
        if len(head) < HEAD_BYTES:
            head += piece[: HEAD_BYTES - len(head)]
        digest.update(piece)
    if not size:
        raise InvalidInputError("the file is empty", field="file")
    media = sniff(head)
    kinds = allowed or list(MediaType)
    if media is None or media not in kinds:
        said = "images" if allowed and all(m.is_image for m in kinds) else ALLOWED
        raise InvalidInputError(
            f"the file's content is not one of the types taken ({said}), whatever its name",
            field="file",
        )
    source.seek(0)
    return Upload(source, digest.hexdigest(), size, media)


def upload(
    db: Database, blobs: BlobStore, org_id: int, campaign_id: int, source: IO[bytes], *,
    filename: str, by: str, limit: int, name: str | None = None, asset_id: int | None = None,
) -> Asset:  # fmt: skip
    """A new asset in the campaign (``name``, default the file's name), or a new version of
    ``asset_id``; every party of the campaign reviews it afresh."""
    shown = one_line(filename.replace("\\", "/").rsplit("/", 1)[-1] or "upload", "filename", 200)
    title = one_line(name or shown, "name", 200)
    taken = take_upload(source, limit)
    with db.transaction() as session:  # the file is kept last: a refusal leaves nothing
        CampaignRepository(session).get(org_id, campaign_id, lock=True)
        repo = AssetRepository(session)
        if asset_id is None:
            asset_id = repo.add(campaign_id, org_id, title)
        else:
            repo.of_campaign(campaign_id, asset_id)
        repo.add_version(asset_id, {
            "filename": shown, "content_type": str(taken.media), "size": taken.size,
            "sha256": taken.sha256, "uploaded_by": by[:320],
        })  # fmt: skip
        blobs.put(taken.sha256, taken.source)
        return _assets(session, campaign_id, asset_id)[0]


def _assets(session: Session, campaign_id: int, asset_id: int | None = None) -> list[Asset]:
    repo = AssetRepository(session)
    rows = repo.of_campaign(campaign_id, asset_id)
    ids = [r["id"] for r in rows]
    versions = repo.versions(ids)
    version_ids = [v["id"] for vs in versions.values() for v in vs]
    reviews, downloads = repo.reviews(version_ids), repo.downloads(version_ids)
    comments = repo.comments(ids)
    parties = {p["slug"] for p in CampaignRepository(session).parties([campaign_id])[campaign_id]}
    found = []
    for row in rows:
        made = []
        for v in versions[row["id"]]:
            said = [Review(r["org"], r["decision"], r["reviewer"], r["reviewed_at"])
                    for r in reviews[v["id"]]]  # fmt: skip
            state = AssetState.of(parties, {r.org: r.decision for r in said})
            approved = {r.org for r in said if r.decision == Decision.APPROVED}
            made.append(Version(
                v["number"], v["filename"], v["content_type"], v["size"], v["sha256"],
                v["uploaded_by"], v["created_at"], str(state), said,
                sorted(parties - approved), downloads.get(v["id"], 0),
            ))  # fmt: skip
        latest = made[-1]
        usable = latest.number if latest.state == AssetState.APPROVED else None
        found.append(Asset(
            row["id"], campaign_id, row["name"], row["org"], row["created_at"], latest.state,
            usable, made,
            [Comment(c["id"], c["version"], c["org"], c["author"], c["body"], c["created_at"])
             for c in comments[row["id"]]],
        ))  # fmt: skip
    return found


def list_assets(db: Database, org_id: int, campaign_id: int) -> list[Asset]:
    with db.reading() as session:
        CampaignRepository(session).get(org_id, campaign_id)
        return _assets(session, campaign_id)


def get_asset(db: Database, org_id: int, campaign_id: int, asset_id: int) -> Asset:
    with db.reading() as session:
        CampaignRepository(session).get(org_id, campaign_id)
        return _assets(session, campaign_id, asset_id)[0]


def _version_id(session: Session, asset_id: int, number: int) -> int:
    for v in AssetRepository(session).versions([asset_id])[asset_id]:
        if v["number"] == number:
            return int(v["id"])
    raise NotFoundError("no such version", version=number)


def review(
    db: Database, org_id: int, campaign_id: int, asset_id: int, version: int, decision: str,
    reviewer: str, comment: str = "",
) -> Asset:  # fmt: skip
    """The organization's decision on the asset's latest version (an earlier one is past
    deciding), with a comment if given, both or neither kept; its earlier decision on that
    version is replaced."""
    try:
        said = Decision(decision)
    except ValueError:
        raise InvalidInputError(
            f"decision {decision!r} is not one of {', '.join(d.value for d in Decision)}",
            field="decision",
        ) from None
    text = paragraphs(comment, "comment", MAX_COMMENT)
    with db.transaction() as session:
        CampaignRepository(session).get(org_id, campaign_id, lock=True)
        asset = _assets(session, campaign_id, asset_id)[0]
        if version != asset.latest.number:
            if not any(v.number == version for v in asset.versions):
                raise NotFoundError("no such version", version=version)
            raise ConflictError(
                f"version {version} has been replaced by version {asset.latest.number}: "
                "review the latest",
                version=version,
            )
        repo = AssetRepository(session)
        repo.review(_version_id(session, asset_id, version), org_id, str(said), reviewer[:320])
        if text:
            _comment(session, asset_id, version, org_id, reviewer, text)
        return _assets(session, campaign_id, asset_id)[0]


def _comment(
    session: Session, asset_id: int, version: int, org_id: int, author: str, text: str
) -> None:
    AssetRepository(session).comment({"asset_id": asset_id, "version": version,
                                      "org_id": org_id, "author": author[:320],
                                      "body": text})  # fmt: skip


def comment(
    db: Database, org_id: int, campaign_id: int, asset_id: int, version: int | None,
    author: str, body: str,
) -> Asset:  # fmt: skip
    """A comment on a version of the asset (default: its latest)."""
    text = paragraphs(body, "body", MAX_COMMENT)
    if not text:
        raise InvalidInputError("a comment says something", field="body")
    with db.transaction() as session:
        CampaignRepository(session).get(org_id, campaign_id)
        asset = _assets(session, campaign_id, asset_id)[0]
        number = asset.latest.number if version is None else version
        _version_id(session, asset_id, number)
        _comment(session, asset_id, number, org_id, author, text)
        return _assets(session, campaign_id, asset_id)[0]


@dataclass(frozen=True, slots=True)
class Content:
    """A version's bytes, streamed, with what to say about them."""

    filename: str
    media: MediaType
    size: int
    chunks: Iterator[bytes]


def content(
    db: Database, blobs: BlobStore, org_id: int, campaign_id: int, asset_id: int,
    version: int, *, download: bool,
) -> Content:  # fmt: skip
    """A version's bytes: for review by any party (``download`` False), or to use
    (``download``: only the usable version, and the download is counted)."""
    with db.transaction() as session:
        CampaignRepository(session).get(org_id, campaign_id)
        asset = _assets(session, campaign_id, asset_id)[0]
        chosen = next((v for v in asset.versions if v.number == version), None)
        if chosen is None:
            raise NotFoundError("no such version", version=version)
        if download:
            if asset.usable != version:
                raise ConflictError(
                    f"version {version} is not approved by every party: it is not offered "
                    f"for use (waiting on {', '.join(chosen.waiting_on) or 'a newer version'})",
                    version=version,
                )
            AssetRepository(session).count_download(_version_id(session, asset_id, version), org_id)
    stem = chosen.filename.rsplit(".", 1)[0] or "asset"
    media = MediaType(chosen.content_type)
    return Content(f"{stem}.{media.extension}", media, chosen.size, blobs.chunks(chosen.sha256))


@dataclass(frozen=True, slots=True)
class Offered:
    campaign_id: int
    campaign: str
    asset: Asset


def offered(db: Database, org_id: int) -> list[Offered]:
    """The assets ready for use in every campaign the organization takes part in."""
    with db.reading() as session:
        found = []
        rows = AssetRepository(session).in_campaigns_of(org_id)
        for campaign_id in dict.fromkeys(r["campaign_id"] for r in rows):
            name = next(r["campaign"] for r in rows if r["campaign_id"] == campaign_id)
            found += [Offered(campaign_id, name, a) for a in _assets(session, campaign_id)
                      if a.usable is not None]  # fmt: skip
    return found


@dataclass(frozen=True, slots=True)
class Guidelines:
    org: str
    name: str
    colours: list[str]
    dos: list[str]
    donts: list[str]
    voice: str
    logo: str | None  # the logo's digest: served at /logos/{digest}


def _lines(values: Sequence[str], field: str) -> list[str]:
    found = [one_line(v, field, 200) for v in values if v.strip()]
    if len(found) > 20:
        raise InvalidInputError(f"{field}: at most 20 lines", field=field)
    return found


def save_guidelines(
    db: Database, blobs: BlobStore, org_id: int, *, colours: Sequence[str] | None = None,
    dos: Sequence[str] | None = None, donts: Sequence[str] | None = None,
    voice: str | None = None, logo: IO[bytes] | None = None, limit: int = 2 * 1024 * 1024,
) -> Guidelines:  # fmt: skip
    """The organization's brand guidelines: what is given replaces what was kept (a logo, an
    image, replaces the logo); what is not given stays as it was."""
    values: dict[str, Any] = {}
    if colours is not None:
        shades = [c.strip() for c in colours if c.strip()]
        if len(shades) > 12 or not all(_COLOUR.match(c) for c in shades):
            raise InvalidInputError("colours are up to 12 like #1f6f4a", field="colours")
        values["colours"] = [c.lower() for c in shades]
    for field, lines in (("dos", dos), ("donts", donts)):
        if lines is not None:
            values[field] = _lines(lines, field)
    if voice is not None:
        values["voice"] = one_line(voice, "voice", 500, 0)
    if logo is not None:
        taken = take_upload(logo, limit, [m for m in MediaType if m.is_image])
        values |= {"logo_sha256": taken.sha256, "logo_type": str(taken.media)}
    with db.transaction() as session:
        repo = GuidelinesRepository(session)
        kept = repo.get([org_id]).get(org_id, {})
        empty: dict[str, Any] = {"colours": [], "dos": [], "donts": [], "voice": "",
                                 "logo_sha256": None, "logo_type": None}  # fmt: skip
        repo.save(org_id, {k: values.get(k, kept.get(k, v)) for k, v in empty.items()})
        if logo is not None:
            blobs.put(taken.sha256, taken.source)
        return guidelines_of(session, [org_id])[0]


def guidelines_of(session: Session, org_ids: Sequence[int]) -> list[Guidelines]:
    rows = GuidelinesRepository(session).get(org_ids)
    return [
        Guidelines(r["slug"], r["name"], list(r["colours"]), list(r["dos"]), list(r["donts"]),
                   r["voice"], r["logo_sha256"])
        for o in org_ids if (r := rows.get(o)) is not None
    ]  # fmt: skip


def campaign_guidelines(db: Database, org_id: int, campaign_id: int) -> list[Guidelines]:
    """The guidelines of every party of the campaign (those that have set them)."""
    with db.reading() as session:
        repo = CampaignRepository(session)
        repo.get(org_id, campaign_id)
        parties = repo.parties([campaign_id])[campaign_id]
        return guidelines_of(session, [p["org_id"] for p in parties])


def own_guidelines(db: Database, org_id: int) -> Guidelines | None:
    with db.reading() as session:
        found = guidelines_of(session, [org_id])
    return found[0] if found else None


def logo(db: Database, blobs: BlobStore, digest: str) -> tuple[MediaType, Iterator[bytes]]:
    """A logo some organization's guidelines name (public: landing pages show it)."""
    with db.reading() as session:
        kind = GuidelinesRepository(session).has_logo(digest)
    if kind is None:
        raise NotFoundError("no such logo")
    return MediaType(kind), blobs.chunks(digest)
