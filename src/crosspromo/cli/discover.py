"""Discover: partner profiles and mentions, who to partner with (ranked, with reasons),
bundles, the ecosystem graph, outreach drafts, and private audience overlap."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import typer

from crosspromo.cli.context import database, organization
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, console, emit
from crosspromo.domain.overlap import DEFAULT_REGION, IdentifierKind
from crosspromo.services.discover import profiles, ranking, remote, sessions
from crosspromo.services.discover.lists import ListOptions, local_overlap

partners_app = typer.Typer(no_args_is_help=True)
profile_app = typer.Typer(help="Your organization's partner profile.", no_args_is_help=True)
partners_app.add_typer(profile_app, name="profile")
overlap_app = typer.Typer(no_args_is_help=True)

ORG: Any = typer.Option(..., help="slug of the organization")
ENCODER: Any = typer.Option("auto", help="auto (MiniLM when installed), minilm or tfidf")
COLUMN: Any = typer.Option("email", help="the column holding the identifiers")
KIND: Any = typer.Option(IdentifierKind.EMAIL, help="email, phone (to E.164) or id")
REGION: Any = typer.Option(DEFAULT_REGION, help="country for phone numbers without +")
CONSENT: Any = typer.Option(
    None, help="a true/false column: only rows consenting to partner sharing take part"
)
SEGMENT: Any = typer.Option(None, help="a column of segments: counts per segment pair")
SKIP: Any = typer.Option(False, "--skip-invalid", help="drop (and count) invalid identifiers")
SESSION: Any = typer.Option(..., help="the overlap session's id")
SEGMENTS: Any = typer.Option(False, "--segments", help="count per segment pair")
FILE: Any = typer.Argument(..., help="your identifiers (.csv or .parquet)")


@profile_app.command("show")
def profile_show(ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Print the organization's profile."""
    emit(profiles.get_profile(*organization(ctx, org)), fmt)


@profile_app.command("set")
def profile_set(
    ctx: typer.Context,
    org: str = ORG,
    description: str = typer.Option("", help="whom you serve, and with what"),
    category: list[str] = typer.Option([], help="a category (repeat for several)"),
    offering: list[str] = typer.Option([], help="a product or service (repeat)"),
    audience_size: int | None = typer.Option(None, min=0, help="customers or subscribers"),
    followers: int | None = typer.Option(None, min=0, help="social followers"),
    engagements: int | None = typer.Option(None, min=0, help="interactions, same period"),
    region: str = typer.Option("", help="where your customers are"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Create or replace the organization's profile."""
    given = profiles.ProfileInput(
        description, tuple(category), tuple(offering), audience_size, followers, engagements,
        region,
    )  # fmt: skip
    emit(profiles.save_profile(*organization(ctx, org), given), fmt)


@profile_app.command("delete")
def profile_delete(ctx: typer.Context, org: str = ORG) -> None:
    """Remove the organization's profile: it no longer appears as a candidate."""
    removed = profiles.delete_profile(*organization(ctx, org))
    print(f"removed the profile of {org}" if removed else f"{org} had no profile")


@partners_app.command("import")
def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="profiles: org, description, categories, offerings, "
                                "audience_size, followers, engagements, region ('; ' lists)"),
) -> None:  # fmt: skip
    """Import profiles from CSV or Parquet (all or nothing)."""
    print(f"imported {profiles.import_profiles(database(ctx), file)} profiles")


@partners_app.command("mentions")
def mentions_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="mentions: org, text, and optionally source, posted_at"),
) -> None:
    """Import public mentions of organizations (replays add nothing)."""
    added = profiles.import_mentions(database(ctx), file)
    print(f"read {added.received} mentions, {added.new} new")


def parse_weights(values: list[str]) -> dict[str, float] | None:
    if not values:
        return None
    out = {}
    for item in values:
        name, _, number = item.partition("=")
        try:
            out[name.strip()] = float(number)
        except ValueError:
            raise typer.BadParameter(f"{item!r}: use FACTOR=NUMBER, e.g. overlap=0.4") from None
    return out


@partners_app.command("rank")
def rank_command(
    ctx: typer.Context,
    org: str = ORG,
    top: int = typer.Option(10, min=1, help="how many candidates"),
    weight: list[str] = typer.Option([], help="FACTOR=WEIGHT for this run (repeat)"),
    new_only: bool = typer.Option(False, "--new-only", help="leave out existing partners"),
    encoder: str = ENCODER,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Candidate partners, best first, each factor's part of the score and the reasons."""
    found = ranking.rank(
        *organization(ctx, org), top=top, weights=parse_weights(weight), encoder=encoder,
        include_partners=not new_only,
    )  # fmt: skip
    rows = [
        (c.org, f"{c.score:.3f}", c.relation,
         "-" if c.overlap is None else f"{c.overlap.rate_ours:.1%}",
         " ".join(f"{k}:{v:+.2f}" for k, v in c.parts.items()), c.partnership or "")
        for c in found.candidates
    ]  # fmt: skip
    columns = ("candidate", "score", "relation", "overlap", "parts", "partnership")
    emit(found, fmt, columns=columns, rows=rows, title=f"partners for {org} ({found.method})")
    if fmt is OutputFormat.TABLE:
        for c in found.candidates[:3]:
            console.print(f"[bold]{c.org}[/bold]: " + "; ".join(c.reasons))
        for b in found.bundles[:3]:
            console.print(f"bundle: {' + '.join(b.members)} ({b.strength:.2f})")


@partners_app.command("weights")
def weights_command(
    ctx: typer.Context,
    org: str = ORG,
    weight: list[str] = typer.Option([], help="FACTOR=WEIGHT (repeat); the rest keep defaults"),
    use_learned: bool = typer.Option(False, "--use-learned", help="score with the learned model"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Set how candidates are scored: your weights, or the learned model."""
    setup = ranking.set_weights(*organization(ctx, org), parse_weights(weight) or {}, use_learned)
    emit(setup, fmt, fields=("weights", "use_learned"))


@partners_app.command("learn")
def learn_command(
    ctx: typer.Context,
    outcomes: Path = typer.Argument(..., help="past partnerships: partner, success (true/false)"),
    org: str = ORG,
    penalty: float = typer.Option(1.0, min=0.0, help="L2 strength (0: plain maximum likelihood)"),
    encoder: str = ENCODER,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Learn the score's weights from past partnerships' outcomes (logistic regression); the
    ranking then uses it."""
    emit(ranking.learn_weights(*organization(ctx, org), outcomes, penalty, encoder), fmt)


@partners_app.command("graph")
def graph_command(
    ctx: typer.Context,
    org: str = ORG,
    out: Path = typer.Option(..., help="where to write the GraphML file"),
    encoder: str = ENCODER,
) -> None:
    """Export the ecosystem graph (organizations, overlaps, complementarity) as GraphML."""
    out.write_text(ranking.ecosystem_graphml(*organization(ctx, org), encoder))
    print(f"wrote {out}")


@partners_app.command("outreach")
def outreach_command(
    ctx: typer.Context,
    org: str = ORG,
    candidate: str = typer.Option(..., help="slug of the candidate"),
    template: Path | None = typer.Option(
        None, help="a text with $our_name, $their_name, $evidence"
    ),
    encoder: str = ENCODER,
) -> None:
    """Draft an introduction to a candidate that cites the evidence."""
    text = template.read_text() if template else None
    print(ranking.outreach_draft(*organization(ctx, org), candidate, text, encoder))


@overlap_app.command("local")
def local(
    a: Path = typer.Argument(..., help="first list (.csv or .parquet)"),
    b: Path = typer.Argument(..., help="second list (.csv or .parquet)"),
    column: str = COLUMN,
    kind: IdentifierKind = KIND,
    region: str = REGION,
    consent_column: str | None = CONSENT,
    segment_column: str | None = SEGMENT,
    skip_invalid: bool = SKIP,
    sketch: bool = typer.Option(
        False, "--sketch", help="approximate, for very large lists: adds error_bound (99%)"
    ),
    workers: int | None = typer.Option(None, min=1, help="threads for blinding (all cores)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Run both sides of the overlap protocol in this process on two identifier files."""
    options = ListOptions(column, kind, region, consent_column, segment_column, skip_invalid)
    found = local_overlap(a, b, options, sketch=sketch, workers=workers)
    numbers = [(f.name, getattr(found, f.name)) for f in fields(found)][1:]
    shown = [(k, f"{v:,.4f}" if isinstance(v, float) else f"{v:,}")
             for k, v in numbers if isinstance(v, int | float)]  # fmt: skip
    emit(found, fmt, columns=("", "value"), rows=shown, title=found.lists)


@overlap_app.command("sharing")
def sharing(
    ctx: typer.Context,
    org: str = ORG,
    level: str | None = typer.Option(None, help="hidden, counts or records; omit to show"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show or set what others may learn of your audience (hidden until you opt in)."""
    emit(sessions.sharing(*organization(ctx, org), level), fmt)


@overlap_app.command("offer")
def offer(
    ctx: typer.Context,
    file: Path = FILE,
    org: str = ORG,
    partner: str | None = typer.Option(None, help="a tenant of this server; omit for a remote"),
    disclosure: str = typer.Option("counts", help="counts, or records (active partnership)"),
    hours: float = typer.Option(24.0, help="how long the offer stays open (up to 168)"),
    segments: bool = SEGMENTS,
    column: str = COLUMN,
    kind: IdentifierKind = KIND,
    region: str = REGION,
    skip_invalid: bool = SKIP,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Offer an overlap with your consented customers among FILE; prints the session and the
    token to hand to the requester (shown once)."""
    options = ListOptions(column, kind, region, skip_invalid=skip_invalid)
    made = sessions.offer_overlap(
        *organization(ctx, org), file, options, partner=partner, disclosure=disclosure,
        hours=hours, segments=segments,
    )  # fmt: skip
    emit(made, fmt)


@overlap_app.command("join")
def join(
    ctx: typer.Context,
    file: Path = FILE,
    org: str = ORG,
    session: str = SESSION,
    segments: bool = SEGMENTS,
    column: str = COLUMN,
    kind: IdentifierKind = KIND,
    region: str = REGION,
    skip_invalid: bool = SKIP,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Answer an offer another tenant of this server made to you."""
    options = ListOptions(column, kind, region, skip_invalid=skip_invalid)
    emit(sessions.answer_offer(*organization(ctx, org), session, file, options, segments), fmt)


@overlap_app.command("request")
def request(
    ctx: typer.Context,
    file: Path = FILE,
    url: str = typer.Option(..., help="the other crosspromo server, e.g. https://crosspromo.b.com"),
    session: str = SESSION,
    token: str = typer.Option(..., help="the session's token, from the offerer"),
    org: str | None = typer.Option(None, help="your organization here: its consents apply"),
    consent_column: str | None = CONSENT,
    disclosure: str = typer.Option("counts", help="as the offer says: counts or records"),
    column: str = COLUMN,
    kind: IdentifierKind = KIND,
    region: str = REGION,
    skip_invalid: bool = SKIP,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Answer an offer on another crosspromo server: your side runs here and only three sealed
    messages travel. Your consented customers take part: from --org's records, or a column."""
    options = ListOptions(column, kind, region, consent_column, skip_invalid=skip_invalid)
    here = organization(ctx, org) if org is not None else None
    found = remote.request_overlap(url, session, token, file, options, disclosure, here)
    emit(found, fmt)


@overlap_app.command("sessions")
def list_sessions(ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Your overlap sessions, newest first, with their counts once done."""
    views = sessions.session_views(*organization(ctx, org))
    columns = ("session", "role", "partner", "status", "disclosure", "size", "intersection")
    rows = [[getattr(v, c) or "" for c in columns] for v in views]
    emit(views, fmt, columns=columns, rows=rows)


@overlap_app.command("revoke")
def revoke(ctx: typer.Context, org: str = ORG, session: str = SESSION) -> None:
    """Revoke an unfinished session; its blinded values are deleted."""
    sessions.revoke(*organization(ctx, org), session)
    print(f"revoked {session}")
