"""`crosspromo partners`: profiles, mentions, and who to partner with (ranked, with reasons),
bundles, the ecosystem graph and outreach drafts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from crosspromo.cli.context import FORMAT_OPTION, OutputFormat, organization, state
from crosspromo.cli.output import console, emit

partners_app = typer.Typer(help="Partner discovery: profiles, ranking, bundles, outreach.")
profile_app = typer.Typer(help="Your organization's partner profile.")
partners_app.add_typer(profile_app, name="profile")
ORG: Any = typer.Option(..., help="slug of the organization")
ENCODER: Any = typer.Option("auto", help="auto (MiniLM when installed), minilm or tfidf")


@profile_app.command("show")
def profile_show(ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Print the organization's profile."""
    from crosspromo.services.discover.profiles import get_profile, profile_dict

    db, org_id = organization(ctx, org)
    emit(profile_dict(get_profile(db, org_id)), fmt)


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
    from crosspromo.services.discover.profiles import ProfileInput, profile_dict, save_profile

    db, org_id = organization(ctx, org)
    given = ProfileInput(description, tuple(category), tuple(offering), audience_size, followers,
                         engagements, region)  # fmt: skip
    emit(profile_dict(save_profile(db, org_id, given)), fmt)


@profile_app.command("delete")
def profile_delete(ctx: typer.Context, org: str = ORG) -> None:
    """Remove the organization's profile: it no longer appears as a candidate."""
    from crosspromo.services.discover.profiles import delete_profile

    db, org_id = organization(ctx, org)
    removed = delete_profile(db, org_id)
    print(f"removed the profile of {org}" if removed else f"{org} had no profile")


@partners_app.command("import")
def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="profiles: org, description, categories, offerings, "
                                "audience_size, followers, engagements, region ('; ' lists)"),
) -> None:  # fmt: skip
    """Import profiles from CSV or Parquet (all or nothing)."""
    from crosspromo.services.discover.profiles import import_profiles

    print(f"imported {import_profiles(state(ctx).database(), file)} profiles")


@partners_app.command("mentions")
def mentions_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="mentions: org, text, and optionally source, posted_at"),
) -> None:
    """Import public mentions of organizations (replays add nothing)."""
    from crosspromo.services.discover.profiles import import_mentions

    rows, added = import_mentions(state(ctx).database(), file)
    print(f"read {rows} mentions, {added} new")


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
    from crosspromo.services.discover.ranking import rank, ranking_dict

    db, org_id = organization(ctx, org)
    ranking = rank(db, org_id, top=top, weights=parse_weights(weight),
                   encoder=encoder, include_partners=not new_only)  # fmt: skip
    data = ranking_dict(ranking)
    rows = [
        (c["org"], f"{c['score']:.3f}", c["relation"],
         "-" if c["overlap"] is None else f"{c['overlap']['rate_ours']:.1%}",
         " ".join(f"{k}:{v:+.2f}" for k, v in c["parts"].items()), c["partnership"] or "")
        for c in data["candidates"]
    ]  # fmt: skip
    columns = ("candidate", "score", "relation", "overlap", "parts", "partnership")
    emit(data, fmt, columns=columns, rows=rows, title=f"partners for {org} ({ranking.method})")
    if fmt is OutputFormat.TABLE:
        for c in data["candidates"][:3]:
            console.print(f"[bold]{c['org']}[/bold]: " + "; ".join(c["reasons"]))
        for b in data["bundles"][:3]:
            console.print(f"bundle: {' + '.join(b['members'])} ({b['strength']:.2f})")


@partners_app.command("weights")
def weights_command(
    ctx: typer.Context,
    org: str = ORG,
    weight: list[str] = typer.Option([], help="FACTOR=WEIGHT (repeat); the rest keep defaults"),
    use_learned: bool = typer.Option(False, "--use-learned", help="score with the learned model"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Set how candidates are scored: your weights, or the learned model."""
    from crosspromo.services.discover.ranking import set_weights

    db, org_id = organization(ctx, org)
    setup = set_weights(db, org_id, parse_weights(weight) or {}, use_learned)
    emit({"weights": setup.weights, "use_learned": setup.use_learned}, fmt)


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
    from crosspromo.services.discover.ranking import learn_weights

    db, org_id = organization(ctx, org)
    model = learn_weights(db, org_id, outcomes, penalty, encoder)
    emit(model.as_dict(), fmt)


@partners_app.command("graph")
def graph_command(
    ctx: typer.Context,
    org: str = ORG,
    out: Path = typer.Option(..., help="where to write the GraphML file"),
    encoder: str = ENCODER,
) -> None:
    """Export the ecosystem graph (organizations, overlaps, complementarity) as GraphML."""
    from crosspromo.services.discover.ranking import ecosystem_graphml

    db, org_id = organization(ctx, org)
    out.write_text(ecosystem_graphml(db, org_id, encoder))
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
    from crosspromo.services.discover.ranking import outreach_draft

    db, org_id = organization(ctx, org)
    text = template.read_text() if template else None
    print(outreach_draft(db, org_id, candidate, text, encoder))
