"""Plan's co-branded material: assets (upload, review, comment, download), brand guidelines,
joint offers and landing pages."""

from __future__ import annotations

from pathlib import Path

import typer

from crosspromo.cli.context import organization, settings
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, emit
from crosspromo.domain.clock import parse_day
from crosspromo.errors import InvalidInputError
from crosspromo.services.plan import assets, offers
from crosspromo.store.blobs import BlobStore

ORG = typer.Option(..., help="slug of the organization")
CAMPAIGN = typer.Option(..., help="campaign id")
ASSET = typer.Option(..., help="asset id")

assets_app = typer.Typer(no_args_is_help=True)
offers_app = typer.Typer(no_args_is_help=True)
landing_app = typer.Typer(no_args_is_help=True)


def _blobs(ctx: typer.Context) -> BlobStore:
    return BlobStore(settings(ctx).assets_url())


def _asset_rows(found: list[assets.Asset]) -> list[tuple[object, ...]]:
    return [(a.id, a.name, a.latest.number, a.latest.content_type, a.state,
             ", ".join(a.latest.waiting_on), a.org) for a in found]  # fmt: skip


_ASSET_COLUMNS = ("id", "name", "version", "type", "state", "waiting_on", "made_by")


@assets_app.command("upload")
def assets_upload(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="the file"),
    org: str = ORG,
    campaign: int = CAMPAIGN,
    name: str | None = typer.Option(None, help="the asset's name (default: the file's)"),
    asset: int | None = typer.Option(None, help="upload a new version of this asset"),
    by: str = typer.Option("CLI", help="who uploads it"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Upload a co-branded asset (or a new version): every party then reviews it."""
    db, org_id = organization(ctx, org)
    with file.open("rb") as source:
        made = assets.upload(db, _blobs(ctx), org_id, campaign, source, filename=file.name,
                             by=by, limit=settings(ctx).asset_max_bytes, name=name,
                             asset_id=asset)  # fmt: skip
    emit(made, fmt, columns=_ASSET_COLUMNS, rows=_asset_rows([made]))


@assets_app.command("list")
def assets_list(
    ctx: typer.Context, org: str = ORG, campaign: int = CAMPAIGN, fmt: OutputFormat = FORMAT_OPTION
) -> None:
    """The campaign's assets and where each stands."""
    db, org_id = organization(ctx, org)
    found = assets.list_assets(db, org_id, campaign)
    emit({"assets": found}, fmt, columns=_ASSET_COLUMNS, rows=_asset_rows(found))


@assets_app.command("review")
def assets_review(
    ctx: typer.Context,
    org: str = ORG,
    campaign: int = CAMPAIGN,
    asset: int = ASSET,
    version: int = typer.Option(..., help="the version (its latest)"),
    decision: str = typer.Option(..., help="approved or changes_requested"),
    by: str = typer.Option("CLI", help="who decides"),
    comment: str | None = typer.Option(None, help="a comment to go with it"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """The organization's decision on the asset's latest version."""
    db, org_id = organization(ctx, org)
    made = assets.review(db, org_id, campaign, asset, version, decision, by, comment or "")
    emit(made, fmt, columns=_ASSET_COLUMNS, rows=_asset_rows([made]))


@assets_app.command("download")
def assets_download(
    ctx: typer.Context,
    org: str = ORG,
    campaign: int = CAMPAIGN,
    asset: int = ASSET,
    version: int = typer.Option(..., help="the version (approved by every party)"),
    out: Path = typer.Option(..., help="where to write the file"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Download an approved version for use (counted)."""
    db, org_id = organization(ctx, org)
    found = assets.content(db, _blobs(ctx), org_id, campaign, asset, version, download=True)
    part = out.with_name(out.name + ".part")
    with part.open("wb") as sink:
        for piece in found.chunks:
            sink.write(piece)
    part.replace(out)
    emit({"path": str(out), "bytes": found.size, "content_type": str(found.media)}, fmt)


@assets_app.command("guidelines")
def assets_guidelines(
    ctx: typer.Context,
    org: str = ORG,
    colour: list[str] = typer.Option([], help="a brand colour like #1f6f4a (again for more)"),
    do: list[str] = typer.Option([], "--do", help="a rule to follow (again for more)"),
    dont: list[str] = typer.Option([], "--dont", help="a thing to avoid (again for more)"),
    voice: str = typer.Option("", help="the brand's voice in a line"),
    logo: Path | None = typer.Option(None, exists=True, dir_okay=False, help="the logo image"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Set the organization's brand guidelines, shown beside every asset under review."""
    db, org_id = organization(ctx, org)
    source = logo.open("rb") if logo else None
    try:
        made = assets.save_guidelines(db, _blobs(ctx), org_id, colours=colour, dos=do,
                                      donts=dont, voice=voice, logo=source)  # fmt: skip
    finally:
        if source is not None:
            source.close()
    emit(made, fmt)


@offers_app.command("create")
def offers_create(
    ctx: typer.Context,
    org: str = ORG,
    campaign: int = CAMPAIGN,
    title: str = typer.Option(...),
    item: list[str] = typer.Option(..., help="an item of the offer (again for more)"),
    price_minor: int = typer.Option(..., "--price-minor", help="the offer's price"),
    regular_minor: int | None = typer.Option(None, "--regular-minor", help="bought apart"),
    currency: str = typer.Option("EUR"),
    start: str = typer.Option(..., help="first day, YYYY-MM-DD"),
    end: str = typer.Option(..., help="last day, YYYY-MM-DD"),
    code: str = typer.Option(..., help="the code a customer redeems it with"),
    share: list[str] = typer.Option([], help="SLUG=BASIS_POINTS of the revenue (default equal)"),
    description: str = typer.Option(""),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """A joint offer or bundle in the campaign."""
    shares: dict[str, int] | None = None
    if share:
        try:
            shares = {k.strip(): int(v) for k, v in (s.split("=", 1) for s in share)}
        except ValueError:
            raise InvalidInputError("--share is SLUG=BASIS_POINTS", field="share") from None
    db, org_id = organization(ctx, org)
    emit(offers.create_offer(db, org_id, campaign, offers.OfferInput(
        title, item, price_minor, parse_day(start, "start"), parse_day(end, "end"), code,
        currency, description, regular_minor, shares,
    )), fmt)  # fmt: skip


@offers_app.command("list")
def offers_list(
    ctx: typer.Context, org: str = ORG, campaign: int = CAMPAIGN, fmt: OutputFormat = FORMAT_OPTION
) -> None:
    db, org_id = organization(ctx, org)
    emit({"offers": offers.list_offers(db, org_id, campaign)}, fmt)


@landing_app.command("create")
def landing_create(
    ctx: typer.Context,
    org: str = ORG,
    campaign: int = CAMPAIGN,
    slug: str = typer.Option(..., help="the page's address: /l/SLUG"),
    headline: str = typer.Option(...),
    body: str = typer.Option(""),
    offer: int | None = typer.Option(None, help="the offer it shows"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """A co-branded landing page of the campaign, published at once."""
    db, org_id = organization(ctx, org)
    made = offers.create_landing(db, org_id, campaign,
                                 offers.LandingInput(slug, headline, body, offer))  # fmt: skip
    emit(made, fmt)


@landing_app.command("list")
def landing_list(
    ctx: typer.Context, org: str = ORG, campaign: int = CAMPAIGN, fmt: OutputFormat = FORMAT_OPTION
) -> None:
    db, org_id = organization(ctx, org)
    emit({"landing_pages": offers.landing_pages(db, org_id, campaign)}, fmt)
