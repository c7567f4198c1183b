"""Assets, guidelines, offers and landing pages from the command line: an upload reviewed by
both sides and downloaded once approved, a file refused by its content, an offer and a page."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from crosspromo.domain import OrgKind
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.plan import campaigns
from crosspromo.store.database import Database
from tests.cli.test_cli import cli_here
from tests.conftest import agreed
from tests.web.conftest import PNG


def _run(*args: str, db: Database, code: int = 0) -> object:
    done = cli_here(*args, "--format", "json", db_url=str(db.settings.database_url),
                    CROSSPROMO_ASSET_STORE_URL=db.settings.assets_url())  # fmt: skip
    assert done.returncode == code, done.stderr
    return json.loads(done.stdout) if code == 0 else done.stderr


def test_assets_offers_and_pages_from_the_command_line(sqlite_db: Database, tmp_path: Path) -> None:
    db = sqlite_db
    acme = create_organization(db, "acme", "Acme", OrgKind.BRAND).id
    create_organization(db, "beans", "Beans", OrgKind.PARTNER)
    campaign = campaigns.create_campaign(db, acme, campaigns.CampaignInput(
        "Spring", "bundle", date(2026, 3, 1), date(2026, 3, 31), [agreed(db, acme, "beans")],
    )).id  # fmt: skip
    banner = tmp_path / "banner.pdf"  # a PNG, whatever its name says
    banner.write_bytes(PNG)
    where = ("--campaign", str(campaign))
    made = _run("assets", "upload", str(banner), "--org", "acme", *where, "--name", "Banner",
                db=db)  # fmt: skip
    assert isinstance(made, dict)
    assert (made["state"], made["versions"][0]["content_type"]) == ("in_review", "image/png")
    asset = ("--asset", str(made["id"]), "--version", "1")
    out = tmp_path / "got.png"
    refused = _run("assets", "download", "--org", "beans", *where, *asset, "--out", str(out),
                   db=db, code=6)  # fmt: skip
    assert "not approved by every party" in str(refused)
    assert not out.exists()
    for org in ("acme", "beans"):
        said = _run("assets", "review", "--org", org, *where, *asset, "--decision", "approved",
                    "--comment", f"fine by {org}", db=db)  # fmt: skip
    assert isinstance(said, dict)
    assert said["state"] == "approved"
    assert [c["org"] for c in said["comments"]] == ["acme", "beans"]
    got = _run("assets", "download", "--org", "beans", *where, *asset, "--out", str(out), db=db)
    assert got == {"path": str(out), "bytes": len(PNG), "content_type": "image/png"}
    assert out.read_bytes() == PNG
    text = tmp_path / "note.png"
    text.write_text("not an image at all")
    refused = _run("assets", "upload", str(text), "--org", "acme", *where, db=db, code=5)
    assert "whatever its name" in str(refused)
    offer = _run("offers", "create", "--org", "acme", *where, "--title", "Camp kit", "--item",
                 "Tent", "--item", "Coffee", "--price-minor", "9900", "--regular-minor",
                 "12900", "--start", "2026-03-01", "--end", "2026-03-31", "--code", "CAMPKIT",
                 "--share", "acme=7000", "--share", "beans=3000", db=db)  # fmt: skip
    assert isinstance(offer, dict)
    assert (offer["shares"], offer["items"]) == ({"acme": 7000, "beans": 3000}, ["Tent", "Coffee"])
    page = _run("landing", "create", "--org", "beans", *where, "--slug", "camp-kit",
                "--headline", "Everything for the first night out", "--offer", str(offer["id"]),
                db=db)  # fmt: skip
    assert isinstance(page, dict)
    assert (page["path"], page["published"]) == ("/l/camp-kit", True)
    guidelines = _run("assets", "guidelines", "--org", "beans", "--colour", "#6B3E26", "--do",
                      "Show the roast date", "--logo", str(banner), db=db)  # fmt: skip
    assert isinstance(guidelines, dict)
    assert (guidelines["colours"], guidelines["logo"] is not None) == (["#6b3e26"], True)
    planned = _run("campaigns", "remind", "--dry-run", db=db)  # no user to tell, no SMTP needed
    assert planned == {"sent": [], "sent_to_nobody": ["acme", "beans"]}
    unset = _run("campaigns", "remind", db=db, code=3)
    assert "CROSSPROMO_SMTP_HOST" in str(unset)
