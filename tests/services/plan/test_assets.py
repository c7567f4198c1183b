"""Co-branded assets on SQLite and PostgreSQL: a version is offered for use only once every
party approved it, a new version starts the review again, the type is told from the content
(not the name), the size limit holds while the file is read, and a refused upload keeps
nothing."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from crosspromo.domain import OrgKind
from crosspromo.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
)
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.plan import assets, campaigns
from crosspromo.services.plan.campaigns import CampaignInput
from crosspromo.store.blobs import CHUNK, BlobStore
from crosspromo.store.database import Database
from tests.conftest import agreed

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the signature is what counts
PDF = b"%PDF-1.7\n" + b"1 0 obj\n" * 8
LIMIT = 10_000


@pytest.fixture
def party(db: Database, tmp_path: Path) -> dict[str, object]:
    ids = {slug: create_organization(db, slug, slug.title(), kind).id
           for slug, kind in [("acme", OrgKind.BRAND), ("beans", OrgKind.PARTNER),
                              ("other", OrgKind.BRAND)]}  # fmt: skip
    made = campaigns.create_campaign(db, ids["acme"], CampaignInput(
        "Spring", "content_collaboration", date(2026, 3, 1), date(2026, 3, 31),
        [agreed(db, ids["acme"], "beans")],
    ))  # fmt: skip
    return {**ids, "campaign": made.id, "blobs": BlobStore(str(tmp_path / "assets"))}


def _upload(db: Database, p: dict, org: str, data: bytes, filename: str = "banner.png",
            **extra: object) -> assets.Asset:  # fmt: skip
    return assets.upload(db, p["blobs"], p[org], p["campaign"], io.BytesIO(data),  # type: ignore[arg-type]
                         filename=filename, by=f"someone@{org}", limit=LIMIT,
                         **extra)  # type: ignore[arg-type]  # fmt: skip


def _files(p: dict) -> list[Path]:
    return [f for f in Path(p["blobs"].root).rglob("*") if f.is_file()]


def test_offered_only_once_both_sides_approve(db: Database, party: dict) -> None:
    acme, beans, campaign = party["acme"], party["beans"], party["campaign"]
    made = _upload(db, party, "acme", PNG, name="Spring banner")
    assert (made.name, made.state, made.usable) == ("Spring banner", "in_review", None)
    assert made.latest.content_type == "image/png"
    assert made.latest.waiting_on == ["acme", "beans"]
    with pytest.raises(ConflictError, match="not approved by every party"):
        assets.content(db, party["blobs"], beans, campaign, made.id, 1, download=True)
    # for review, every party sees the file
    shown = assets.content(db, party["blobs"], beans, campaign, made.id, 1, download=False)
    assert b"".join(shown.chunks) == PNG
    after = assets.review(db, acme, campaign, made.id, 1, "approved", "ann@acme")
    assert (after.state, after.usable, after.latest.waiting_on) == ("partly_approved", None,
                                                                    ["beans"])  # fmt: skip
    assert assets.offered(db, beans) == []
    done = assets.review(db, beans, campaign, made.id, 1, "approved", "bob@beans")
    assert (done.state, done.usable) == ("approved", 1)
    assert [o.asset.id for o in assets.offered(db, beans)] == [made.id]
    got = assets.content(db, party["blobs"], beans, campaign, made.id, 1, download=True)
    assert b"".join(got.chunks) == PNG
    assert got.filename == "banner.png"
    assets.content(db, party["blobs"], acme, campaign, made.id, 1, download=True)
    assert assets.get_asset(db, beans, campaign, made.id).latest.downloads == 2
    # someone outside the campaign learns nothing of it
    with pytest.raises(NotFoundError):
        assets.get_asset(db, party["other"], campaign, made.id)
    with pytest.raises(NotFoundError):
        assets.content(db, party["blobs"], party["other"], campaign, made.id, 1, download=False)
    assert assets.offered(db, party["other"]) == []


def test_a_new_version_starts_the_review_again(db: Database, party: dict) -> None:
    acme, beans, campaign = party["acme"], party["beans"], party["campaign"]
    made = _upload(db, party, "acme", PNG)
    for org in (acme, beans):
        assets.review(db, org, campaign, made.id, 1, "approved", "someone")
    assert assets.offered(db, beans) != []
    second = _upload(db, party, "beans", PDF, filename="brochure.pdf", asset_id=made.id)
    assert [v.number for v in second.versions] == [1, 2]
    assert (second.state, second.usable, second.latest.reviews) == ("in_review", None, [])
    assert second.versions[0].state == "approved"  # the record of version 1 stays
    assert assets.offered(db, beans) == []  # version 1 is no longer offered
    with pytest.raises(ConflictError, match="not approved"):
        assets.content(db, party["blobs"], beans, campaign, made.id, 1, download=True)
    with pytest.raises(ConflictError, match="replaced by version 2"):  # its comment not kept
        assets.review(db, acme, campaign, made.id, 1, "approved", "ann", "Fine as it was")
    asked = assets.review(db, acme, campaign, made.id, 2, "changes_requested", "ann")
    assert asked.state == "changes_requested"
    assets.comment(db, acme, campaign, made.id, None, "ann", "Bigger logo, please")
    assert [(c.version, c.org) for c in assets.get_asset(db, beans, campaign, made.id).comments] \
        == [(2, "acme")]  # fmt: skip
    # a decision can be changed: approving replaces the request for changes
    assets.review(db, acme, campaign, made.id, 2, "approved", "ann")
    final = assets.review(db, beans, campaign, made.id, 2, "approved", "bob")
    assert (final.state, final.usable) == ("approved", 2)


def test_the_type_comes_from_the_content_and_a_refusal_keeps_nothing(
    db: Database, party: dict
) -> None:
    renamed = _upload(db, party, "acme", PDF, filename="looks-like.png")
    assert renamed.latest.content_type == "application/pdf"  # the name is not believed
    got = assets.content(db, party["blobs"], party["acme"], party["campaign"], renamed.id, 1,
                         download=False)  # fmt: skip
    assert got.filename == "looks-like.pdf"
    kept = _files(party)
    for data in (b"MZ\x90\x00 a Windows program", b'<svg xmlns="http://www.w3.org/2000/svg">',
                 b"just some text", b"\x89PNX not quite"):  # fmt: skip
        with pytest.raises(InvalidInputError, match="not one of the types taken"):
            _upload(db, party, "acme", data, filename="banner.png")
    with pytest.raises(InvalidInputError, match="empty"):
        _upload(db, party, "acme", b"")
    for field, extra in (("filename", {"filename": "a\x00.png"}), ("name", {"name": "x\x01"})):
        with pytest.raises(InvalidInputError, match=f"{field}: must not contain NUL"):
            _upload(db, party, "acme", PNG, **extra)  # type: ignore[arg-type]
    assert _files(party) == kept
    assert [a.id for a in assets.list_assets(db, party["acme"], party["campaign"])] == [renamed.id]
    html = _upload(db, party, "beans", b"\xef\xbb\xbf\n  <!DOCTYPE html><p>Hi</p>", "x.txt")
    assert html.latest.content_type == "text/html"


class Endless(io.RawIOBase):
    """A file that never ends, counting what was read of it."""

    def __init__(self, head: bytes) -> None:
        self.head, self.read_bytes = head, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        piece = (self.head if self.read_bytes == 0 else b"\x00" * CHUNK)[: max(size, 1)]
        self.read_bytes += len(piece)
        return piece


def test_the_size_limit_holds_while_reading(db: Database, party: dict) -> None:
    endless = Endless(PNG)
    with pytest.raises(PayloadTooLargeError, match=f"limit of {LIMIT} bytes"):
        assets.upload(db, party["blobs"], party["acme"], party["campaign"], endless,  # type: ignore[arg-type]
                      filename="huge.png", by="ann", limit=LIMIT)  # fmt: skip
    assert endless.read_bytes <= LIMIT + CHUNK  # refused as it was read, not at its end
    assert _files(party) == []
    exact = PNG + b"\x00" * (LIMIT - len(PNG))
    assert _upload(db, party, "acme", exact).latest.size == LIMIT


def test_brand_guidelines_stand_beside_the_asset(db: Database, party: dict) -> None:
    blobs = party["blobs"]
    saved = assets.save_guidelines(db, blobs, party["beans"], colours=["#1F6F4A", " "],
                                   dos=["Logo on white", ""], donts=["Stretch the logo"],
                                   voice="warm", logo=io.BytesIO(PNG))  # fmt: skip
    assert (saved.colours, saved.dos) == (["#1f6f4a"], ["Logo on white"])
    assert saved.logo is not None
    kind, chunks = assets.logo(db, blobs, saved.logo)
    assert (str(kind), b"".join(chunks)) == ("image/png", PNG)
    with pytest.raises(InvalidInputError, match="images"):
        assets.save_guidelines(db, blobs, party["acme"], colours=[], dos=[], donts=[],
                               logo=io.BytesIO(PDF))  # fmt: skip
    with pytest.raises(InvalidInputError, match="colours"):
        assets.save_guidelines(db, blobs, party["acme"], colours=["red"], dos=[], donts=[])
    again = assets.save_guidelines(db, blobs, party["beans"], colours=[], dos=[], donts=[])
    assert again.logo == saved.logo  # kept when none is sent
    shown = assets.campaign_guidelines(db, party["acme"], party["campaign"])
    assert [g.org for g in shown] == ["beans"]
    with pytest.raises(NotFoundError):
        assets.campaign_guidelines(db, party["other"], party["campaign"])
    with pytest.raises(NotFoundError):
        assets.logo(db, blobs, "0" * 64)
