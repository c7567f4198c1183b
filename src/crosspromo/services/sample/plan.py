"""Plan in the sample: the first brand's campaigns of several strategies with its partners
(and a second coffee roaster it is only talking to), a December calendar holding one conflict
of each kind, co-branded assets in every approval state with both brands' guidelines, a joint
offer and its landing page. Written through the Plan services, as a user would."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from crosspromo.services.agree.partnerships import list_partnerships, propose_partnership
from crosspromo.services.plan import assets, calendar, campaigns, offers
from crosspromo.services.plan.campaigns import CampaignInput
from crosspromo.services.track.links import list_links
from crosspromo.store.blobs import BlobStore
from crosspromo.store.database import Database

ZONE = "America/Los_Angeles"  # the brand's calendar is kept on the US west coast
COFFEE = "summit-coffee"  # the brand's coffee partner
SECOND_ROASTER = "brewhaus-coffee"  # its competitor, whom the brand is only talking to
LANDING_SLUG = "trail-and-brew"
LIMIT = 5 * 1024 * 1024


def png(width: int, height: int, bands: Sequence[tuple[int, int, int]]) -> bytes:
    """A PNG of horizontal colour bands (sample artwork; the format's chunks written out)."""
    rows = b"".join(
        b"\x00" + bytes(bands[min(y * len(bands) // height, len(bands) - 1)]) * width
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(
        b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")  # fmt: skip


def _flyer() -> bytes:
    from fpdf import FPDF  # loaded when a sample is built

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", "B", 24)
    pdf.cell(0, 16, "Trail & Brew: breakfast above the clouds")
    pdf.ln(20)
    pdf.set_font("helvetica", size=14)
    for line in ("Ultralight camp stove", "Summit Trail Roast, 340 g", "Enamel mug",
                 "EUR 89.00 with the code TRAILBREW"):  # fmt: skip
        pdf.cell(0, 10, line)
        pdf.ln(10)
    return bytes(pdf.output())


_NEWSLETTER = (
    b"<!doctype html><html><body style='font-family:sans-serif'><h1>Trail &amp; Brew</h1>"
    b"<p>Our winter breakfast bundle: a stove, fresh coffee and a mug for the first light "
    b"at camp.</p><p><a href='https://trailhead.example/bundle'>Get the bundle</a></p>"
    b"</body></html>"
)


def plant_plan(db: Database, brand: str, ids: dict[str, int], partners: Sequence[str]) -> dict[
    str, Any
]:  # fmt: skip
    """The brand's plan with its first two active partners; what was made, for the summary."""
    if COFFEE not in partners or len(partners) < 2 or SECOND_ROASTER not in ids:
        return {}
    blobs = BlobStore(db.settings.assets_url())
    me = ids[brand]
    coffee, bikes = COFFEE, next(p for p in partners if p != COFFEE)
    calendar.save_rules(db, me, timezone=ZONE)
    calendar.add_blackout(db, me, date(2026, 12, 24), date(2026, 12, 26),
                          "Holiday shutdown: no promotions")  # fmt: skip
    propose_partnership(db, me, SECOND_ROASTER, "Second roaster trial")
    by_partner = {p.partner.slug: p.id for p in list_partnerships(db, me)}

    def campaign(name: str, strategy: str, end: date, partner: str, budget: int) -> int:
        given = CampaignInput(name, strategy, date(2026, 12, 1), end, [by_partner[partner]],
                              budget_minor=budget, segments=["all", "regular", "vip"])  # fmt: skip
        return campaigns.create_campaign(db, me, given).id

    bundle = campaign("Trail & Brew winter bundle", "bundle", date(2026, 12, 31), coffee, 150_000)
    referral = campaign("Ride the Ridge referral push", "referral_program", date(2027, 1, 15),
                        bikes, 80_000)  # fmt: skip
    trial = campaign("Roaster's pick trial", "content_collaboration", date(2026, 12, 20),
                     SECOND_ROASTER, 0)  # fmt: skip
    for made in (bundle, referral):
        campaigns.set_status(db, me, made, "scheduled")
    items: list[tuple[int, int, str, str, str, str, str]] = [
        (me, bundle, "2026-12-01T09:00", "launch", "website", "all", "Winter bundle goes live"),
        (me, bundle, "2026-12-02T08:00", "send", "newsletter", "regular", "Bundle announcement"),
        (ids[coffee], bundle, "2026-12-03T12:00", "post", "instagram", "regular",
         "Camp breakfast reel"),
        # two days after the announcement, to the same segment by e-mail: same_audience_channel
        (me, referral, "2026-12-04T08:00", "send", "newsletter", "regular",
         "Refer a riding buddy"),
        # the fourth promotion to "regular" that week: overload
        (me, referral, "2026-12-05T10:00", "post", "social", "regular", "Ride & win giveaway"),
        # the competing roaster's launch three days after the bundle's: competing_launch
        (ids[SECOND_ROASTER], trial, "2026-12-04T09:00", "launch", "website", "all",
         "Espresso drop"),
        (me, referral, "2026-12-24T07:00", "send", "newsletter", "vip",
         "Last-minute gift guide"),  # in the holiday shutdown: blackout
        (me, referral, "2027-01-08T08:00", "send", "newsletter", "vip", "Ride into the new year"),
    ]  # fmt: skip
    for org, in_campaign, at, kind, channel, audience, title in items:
        calendar.add_item(db, org, calendar.ItemInput(
            in_campaign, at, kind, channel, audience, title, ZONE))  # fmt: skip
    _assets(db, blobs, me, ids[coffee], bundle)
    code = next((k.code for k in list_links(db, me) if k.partner == coffee and k.active), None)
    if code is not None:
        campaigns.attach(db, me, bundle, "link", code)
    offer = offers.create_offer(db, me, bundle, offers.OfferInput(
        "Trail & Brew breakfast bundle",
        ["Ultralight camp stove", "Summit Trail Roast, 340 g", "Enamel mug"], 8_900,
        date(2026, 12, 1), date(2026, 12, 31), "TRAILBREW", regular_minor=11_250,
        description="Everything for a hot breakfast at camp, from both of us.",
    ))  # fmt: skip
    offers.create_landing(db, me, bundle, offers.LandingInput(
        LANDING_SLUG, "Breakfast above the clouds",
        "Fresh coffee and a stove that fits in your pack.\n\nOrder by December 20 for the "
        "holidays.", offer.id,
    ))  # fmt: skip
    conflicts = calendar.conflicts(db, me)
    return {
        "campaigns": [bundle, referral, trial],
        "conflicts": sorted({c.kind for c in conflicts}),
        "landing": LANDING_SLUG,
    }


def _assets(db: Database, blobs: BlobStore, me: int, partner: int, bundle: int) -> None:
    """An asset in each state: approved, partly approved, changes requested, and a second
    version in review after the first was approved."""
    assets.save_guidelines(
        db, blobs, me, colours=["#1f6f4a", "#f2c14e"], voice="Plain, warm, outdoorsy",
        dos=["Logo on a calm background", "Show real trails"],
        donts=["Stretch or recolour the logo", "Use stock mountain photos"],
        logo=io.BytesIO(png(240, 80, [(31, 111, 74), (242, 193, 78)])),
    )  # fmt: skip
    assets.save_guidelines(
        db, blobs, partner, colours=["#6b3e26", "#f5efe6"], voice="Cosy, early-morning",
        dos=["Name the roast", "Show the roast date"], donts=["Coffee cups on gear photos"],
        logo=io.BytesIO(png(240, 80, [(107, 62, 38), (245, 239, 230)])),
    )  # fmt: skip

    def upload(data: bytes, filename: str, name: str, by: int = me, **more: Any) -> int:
        return assets.upload(db, blobs, by, bundle, io.BytesIO(data), filename=filename,
                             by="sample", limit=LIMIT, name=name, **more).id  # fmt: skip

    banner = upload(png(600, 240, [(31, 111, 74), (245, 239, 230), (107, 62, 38)]),
                    "winter-bundle-banner.png", "Winter bundle banner")  # fmt: skip
    flyer = upload(_flyer(), "bundle-flyer.pdf", "Bundle flyer", by=partner)
    block = upload(_NEWSLETTER, "december-newsletter.html", "December newsletter block")
    cover = upload(png(400, 400, [(242, 193, 78), (31, 111, 74)]), "reel-cover.png",
                   "Camp breakfast reel cover", by=partner)  # fmt: skip
    for org in (me, partner):
        assets.review(db, org, bundle, banner, 1, "approved", "sample")
        assets.review(db, org, bundle, cover, 1, "approved", "sample")
    assets.review(db, partner, bundle, flyer, 1, "approved", "sample")
    assets.comment(db, partner, bundle, block, 1, "sample",
                   "Please name the roast: Summit Trail Roast.")  # fmt: skip
    assets.review(db, partner, bundle, block, 1, "changes_requested", "sample")
    upload(png(400, 400, [(242, 193, 78), (107, 62, 38)]), "reel-cover-v2.png", "",
           by=partner, asset_id=cover)  # fmt: skip
