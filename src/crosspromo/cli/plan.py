"""Plan: strategies recommended for a goal, campaigns, and the shared calendar with its
conflicts, blackout periods and feeds."""

from __future__ import annotations

import typer

from crosspromo.cli.context import database, organization, settings
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, emit
from crosspromo.domain.clock import parse_day
from crosspromo.errors import InvalidInputError
from crosspromo.services.plan import calendar, campaigns, feeds, reminders
from crosspromo.services.plan.strategies import partner_fit, recommend

ORG = typer.Option(..., help="slug of the organization")

strategies_app = typer.Typer(no_args_is_help=True)
campaigns_app = typer.Typer(no_args_is_help=True)
calendar_app = typer.Typer(no_args_is_help=True)


@strategies_app.command("recommend")
def strategies_recommend(
    ctx: typer.Context,
    goal: str = typer.Option(..., help="leads, sales, awareness or retention"),
    budget_minor: int = typer.Option(..., "--budget-minor", help="budget in minor units"),
    currency: str = typer.Option("EUR", help="currency of the budget"),
    weeks: int = typer.Option(..., help="weeks until results are wanted"),
    org: str | None = typer.Option(None, help="your organization (with --partner)"),
    partner: str | None = typer.Option(None, help="the partner, judged by Discover"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Every strategy ranked for the goal, budget and time, with the reasons."""
    fit = None
    if partner is not None:
        if org is None:
            raise InvalidInputError("--partner is judged from an organization: give --org")
        db, org_id = organization(ctx, org)
        fit = partner_fit(db, org_id, partner)
    found = recommend(goal, budget_minor, currency, weeks, fit)
    emit(
        found,
        fmt,
        columns=("strategy", "score", "reasons"),
        rows=[(r.strategy, f"{r.score:.3f}", "; ".join(r.reasons)) for r in found.strategies],
        title=f"Strategies for {found.goal}",
    )


@campaigns_app.command("create")
def campaigns_create(
    ctx: typer.Context,
    org: str = ORG,
    partnership: list[int] = typer.Option(..., help="partnership id (again for several)"),
    name: str = typer.Option(...),
    strategy: str = typer.Option(..., help="e.g. email_swap, bundle, co_hosted_event"),
    start: str = typer.Option(..., help="first day, YYYY-MM-DD"),
    end: str = typer.Option(..., help="last day, YYYY-MM-DD"),
    objective: str | None = typer.Option(None, help="leads, sales, awareness or retention"),
    budget_minor: int = typer.Option(0, "--budget-minor"),
    currency: str = typer.Option("EUR"),
    channel: list[str] = typer.Option([], help="a channel (again for several)"),
    segment: list[str] = typer.Option([], help="an audience segment (again for several)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Plan a draft campaign under one partnership or several, with its strategy's
    checklist."""
    db, org_id = organization(ctx, org)
    given = campaigns.CampaignInput(
        name, strategy, parse_day(start, "start"), parse_day(end, "end"), partnership,
        objective, budget_minor, currency, channel, segment,
    )  # fmt: skip
    emit(campaigns.create_campaign(db, org_id, given), fmt)


@campaigns_app.command("list")
def campaigns_list(ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION) -> None:
    """The campaigns the organization takes part in."""
    db, org_id = organization(ctx, org)
    found = campaigns.list_campaigns(db, org_id)
    emit(
        {"campaigns": found},
        fmt,
        columns=("id", "name", "strategy", "status", "starts_on", "ends_on", "parties"),
        rows=[
            (
                c.id,
                c.name,
                c.strategy,
                c.status,
                c.starts_on,
                c.ends_on,
                ", ".join(p.org for p in c.parties),
            )
            for c in found
        ],
    )


@campaigns_app.command("status")
def campaigns_status(
    ctx: typer.Context,
    org: str = ORG,
    campaign: int = typer.Option(..., help="campaign id"),
    to: str = typer.Option(..., help="scheduled, live, done, cancelled or draft"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Move a campaign along its lifecycle."""
    db, org_id = organization(ctx, org)
    emit(campaigns.set_status(db, org_id, campaign, to), fmt)


@campaigns_app.command("attach")
def campaigns_attach(
    ctx: typer.Context,
    org: str = ORG,
    campaign: int = typer.Option(..., help="campaign id"),
    link: str | None = typer.Option(None, help="a link's code"),
    code: str | None = typer.Option(None, help="a referral or coupon code"),
    experiment: int | None = typer.Option(None, help="an experiment's id"),
    detach: bool = typer.Option(False, "--detach", help="take it out of the campaign"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Put one of the organization's links, codes or experiments in a campaign."""
    given = [(k, v) for k, v in (("link", link), ("code", code), ("experiment", experiment))
             if v is not None]  # fmt: skip
    if len(given) != 1:
        raise InvalidInputError("name one of --link, --code or --experiment")
    db, org_id = organization(ctx, org)
    kind, key = given[0]
    emit(campaigns.attach(db, org_id, campaign, kind, key, detach=detach), fmt)


@campaigns_app.command("figures")
def campaigns_figures(
    ctx: typer.Context,
    org: str = ORG,
    campaign: int = typer.Option(..., help="campaign id"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """What the organization's links and codes in the campaign brought."""
    db, org_id = organization(ctx, org)
    emit(campaigns.campaign_figures(db, org_id, campaign), fmt)


@calendar_app.command("add")
def calendar_add(
    ctx: typer.Context,
    org: str = ORG,
    campaign: int = typer.Option(..., help="campaign id"),
    at: str = typer.Option(..., help="ISO date-time; without an offset, in --timezone"),
    channel: str = typer.Option(...),
    audience: str = typer.Option(..., help="the audience segment"),
    kind: str = typer.Option(..., help="send, post, publish, launch, event or webinar"),
    title: str = typer.Option(...),
    timezone: str | None = typer.Option(None, help="IANA zone (default: the organization's)"),
    check: bool = typer.Option(False, "--check", help="only show the conflicts; save nothing"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Put an item in a campaign's calendar; prints its id and the conflicts it is in."""
    db, org_id = organization(ctx, org)
    given = calendar.ItemInput(campaign, at, kind, channel, audience, title, timezone)
    saved = calendar.add_item(db, org_id, given, check_only=check)
    emit(
        {"id": saved.id, "item": saved.item, "conflicts": saved.conflicts},
        fmt,
        columns=("kind", "items", "reason"),
        rows=[(str(c.kind), ", ".join(map(str, c.items)), c.reason) for c in saved.conflicts],
        title=f"Item {saved.id}: {len(saved.conflicts)} conflicts",
    )


@calendar_app.command("blackout")
def calendar_blackout(
    ctx: typer.Context,
    org: str = ORG,
    start: str = typer.Option(..., "--from", help="first day, YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="last day (included), YYYY-MM-DD"),
    reason: str = typer.Option(...),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Days the organization promotes nothing."""
    db, org_id = organization(ctx, org)
    first, last = parse_day(start, "from"), parse_day(end, "to")
    emit(calendar.add_blackout(db, org_id, first, last, reason), fmt)


@calendar_app.command("conflicts")
def calendar_conflicts(
    ctx: typer.Context, org: str = ORG, fmt: OutputFormat = FORMAT_OPTION
) -> None:
    """Every conflict in the organization's calendar."""
    db, org_id = organization(ctx, org)
    found = calendar.conflicts(db, org_id)
    emit(
        {"conflicts": found},
        fmt,
        columns=("kind", "items", "reason"),
        rows=[(str(c.kind), ", ".join(map(str, c.items)), c.reason) for c in found],
    )


@calendar_app.command("feed")
def calendar_feed(
    ctx: typer.Context,
    org: str = ORG,
    campaign: int | None = typer.Option(None, help="only this campaign's items"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """A new secret iCal address of the calendar (shown once; revoke it in the dashboard)."""
    db, org_id = organization(ctx, org)
    made = feeds.create_feed(db, org_id, settings(ctx).public_url, campaign)
    emit({"url": made.url, "id": made.id}, fmt)


@campaigns_app.command("remind")
def campaigns_remind(
    ctx: typer.Context,
    days: int = typer.Option(2, help="steps due within this many days"),
    dry_run: bool = typer.Option(False, "--dry-run", help="show what would be sent"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """E-mail each organization's users the checklist steps on their side due soon (once
    each), through CROSSPROMO_SMTP_HOST; `crosspromo serve` does this every minute when set."""
    db, given = database(ctx), settings(ctx)
    if dry_run:
        found, nobody = reminders.due_reminders(db, given, days=days)
        result = reminders.Reminded(found, nobody)
    else:
        result = reminders.send_reminders(db, given, days=days)
    emit(result, fmt, columns=("org", "to", "steps"), rows=[
        (r.org, ", ".join(r.to), len(r.steps)) for r in result.sent])  # fmt: skip
