"""`crosspromo overlap`: how many customers two lists share, without either list being
revealed to the other side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from crosspromo.cli.context import FORMAT_OPTION, OutputFormat, organization
from crosspromo.cli.output import emit
from crosspromo.domain.overlap import DEFAULT_REGION, IdentifierKind

overlap_app = typer.Typer(help="Private audience overlap between two organizations.")

COLUMN: Any = typer.Option("email", help="the column holding the identifiers")
KIND: Any = typer.Option(IdentifierKind.EMAIL, help="email, phone (to E.164) or id")
REGION: Any = typer.Option(DEFAULT_REGION, help="country for phone numbers without +")
CONSENT: Any = typer.Option(
    None, help="a true/false column: only rows consenting to partner sharing take part"
)
SEGMENT: Any = typer.Option(None, help="a column of segments: counts per segment pair")
SKIP: Any = typer.Option(False, "--skip-invalid", help="drop (and count) invalid identifiers")


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
    from crosspromo.services.discover.lists import ListOptions, overlap_files

    options = ListOptions(column, kind, region, consent_column, segment_column, skip_invalid)
    result, left, right = overlap_files(a, b, options, sketch=sketch, workers=workers)
    data = result.summary()
    if segment_column:
        data["segments"] = [
            {"segment_a": s.a_segment, "segment_b": s.b_segment, "size_a": s.size_a,
             "size_b": s.size_b, "intersection": s.intersection}
            for s in result.segments
        ]  # fmt: skip
    rows = [(k, f"{v:,.4f}" if isinstance(v, float) else f"{v:,}") for k, v in data.items()
            if k != "segments"]  # fmt: skip
    emit(data, fmt, columns=("", "value"), rows=rows, title=f"{left.name} and {right.name}")


ORG: Any = typer.Option(..., help="slug of your organization")
SESSION: Any = typer.Option(..., help="the overlap session's id")


@overlap_app.command("sharing")
def sharing(
    ctx: typer.Context,
    org: str = ORG,
    level: str | None = typer.Option(None, help="hidden, counts or records; omit to show"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show or set what others may learn of your audience (hidden until you opt in)."""
    from crosspromo.services.discover.sessions import get_sharing, set_sharing

    db, org_id = organization(ctx, org)
    chosen = set_sharing(db, org_id, level) if level else get_sharing(db, org_id)
    emit({"org": org, "level": str(chosen)}, fmt)


@overlap_app.command("offer")
def offer(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="your identifiers (.csv or .parquet)"),
    org: str = ORG,
    partner: str | None = typer.Option(None, help="a tenant of this server; omit for a remote"),
    disclosure: str = typer.Option("counts", help="counts, or records (active partnership)"),
    hours: float = typer.Option(24.0, help="how long the offer stays open (up to 168)"),
    segments: bool = typer.Option(False, "--segments", help="count per segment pair"),
    column: str = COLUMN,
    kind: IdentifierKind = KIND,
    region: str = REGION,
    skip_invalid: bool = SKIP,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Offer an overlap with your consented customers among FILE; prints the session and the
    token to hand to the requester (shown once)."""
    from crosspromo.services.discover.lists import ListOptions
    from crosspromo.services.discover.sessions import open_offer

    db, org_id = organization(ctx, org)
    options = ListOptions(column, kind, region, skip_invalid=skip_invalid)
    made = open_offer(
        db, org_id, file, options, partner=partner, disclosure=disclosure, hours=hours,
        segments=segments, max_bytes=db.settings.overlap_max_bytes,
    )  # fmt: skip
    data = {
        "session": made.session.id,
        "token": made.token,
        "partner": partner,
        "disclosure": made.session.disclosure,
        "size": made.session.size,
        "rows": made.presented.rows,
        "invalid": made.presented.invalid,
        "not_sharing": made.presented.not_sharing,
        "expires_at": made.session.expires_at.isoformat(),
    }
    emit(data, fmt)


def _result_data(result: Any, session: str, shared: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"session": session, **result.summary()}
    data["segments"] = [
        {"segment_a": s.a_segment, "segment_b": s.b_segment, "intersection": s.intersection}
        for s in result.segment_pairs()
    ]
    if shared is not None:
        data["shared"] = shared
    return data


@overlap_app.command("join")
def join(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="your identifiers (.csv or .parquet)"),
    org: str = ORG,
    session: str = SESSION,
    segments: bool = typer.Option(False, "--segments", help="count per segment pair"),
    column: str = COLUMN,
    kind: IdentifierKind = KIND,
    region: str = REGION,
    skip_invalid: bool = SKIP,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Answer an offer another tenant of this server made to you (a is you, b the offerer)."""
    from crosspromo.services.discover.lists import ListOptions
    from crosspromo.services.discover.sessions import join_offer

    db, org_id = organization(ctx, org)
    options = ListOptions(column, kind, region, skip_invalid=skip_invalid)
    result, shared = join_offer(db, org_id, session, file, options, segments)
    emit(_result_data(result, session, shared), fmt)


@overlap_app.command("request")
def request(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="your identifiers (.csv or .parquet)"),
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
    from crosspromo.analytics.overlap import Audience
    from crosspromo.services.discover.lists import ListOptions, read_identifiers
    from crosspromo.services.discover.sessions import present, request_remote

    options = ListOptions(column, kind, region, consent_column, skip_invalid=skip_invalid)
    if org is not None:
        db, org_id = organization(ctx, org)
        audience = present(db, org_id, file, options, False).audience
    else:
        if consent_column is None:
            raise typer.BadParameter("give --org (its consents apply) or --consent-column")
        audience = Audience(read_identifiers(file, options).values.to_pylist())
    result = request_remote(url, session, token, audience, disclosure)
    emit(_result_data(result, session), fmt)


@overlap_app.command("sessions")
def list_sessions(ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """Your overlap sessions, newest first, with their counts once done."""
    from crosspromo.services.discover.sessions import list_sessions as sessions_of
    from crosspromo.services.discover.sessions import session_views

    db, org_id = organization(ctx, org)
    rows = session_views(db, org_id, sessions_of(db, org_id))
    columns = ("session", "role", "partner", "status", "disclosure", "size", "intersection")
    emit(rows, fmt, columns=columns, rows=[[r[c] for c in columns] for r in rows])


@overlap_app.command("revoke")
def revoke(ctx: typer.Context, org: str = ORG, session: str = SESSION) -> None:
    """Revoke an unfinished session; its blinded values are deleted."""
    from crosspromo.services.discover.sessions import revoke as revoke_session

    db, org_id = organization(ctx, org)
    revoke_session(db, org_id, session)
    print(f"revoked {session}")
