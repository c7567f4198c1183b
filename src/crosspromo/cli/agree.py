"""Agree: partnerships between organizations, their terms and their signed record."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import typer
from nacl.signing import SigningKey

from crosspromo.cli.context import organization
from crosspromo.cli.output import FORMAT_OPTION, OutputFormat, emit
from crosspromo.domain.record import fingerprint, public_key_of
from crosspromo.errors import InvalidInputError
from crosspromo.services.agree import agreements, partnerships
from crosspromo.services.agree.terms import Terms, read_terms

partnerships_app = typer.Typer(no_args_is_help=True)


@partnerships_app.command("list")
def partnerships_list(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    status: str = typer.Option(None, help="only this status"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List the partnerships an organization is a party to."""
    db, org_id = organization(ctx, org)
    views = partnerships.list_partnerships(db, org_id, partnerships.parse_status(status))
    rows = [(v.id, v.name, v.partner.slug, v.status, v.role) for v in views]
    emit(views, fmt, columns=("id", "name", "partner", "status", "role"), rows=rows,
         title=f"Partnerships of {org}")  # fmt: skip


agreements_app = typer.Typer(no_args_is_help=True)


@dataclass(frozen=True, slots=True)
class KeyMade:
    public_key: str
    fingerprint: str
    key_file: str


PARTNERSHIP = typer.Option(..., "--partnership", help="the partnership's id")
TERMS = typer.Option(..., "--terms", help="a terms document (JSON; see agreements template)")
REASON = typer.Option("", help="why, kept in the record")
SIGNED_STEPS = ("proposal", "counter", "amendment", "acceptance", "decline", "pause", "resume",
                "end")  # fmt: skip


def _terms(path: Path) -> Terms:
    return read_terms(_read(path, "terms").decode("utf-8", "replace"), str(path))


@agreements_app.command("propose")
def agreements_propose(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the proposing organization"),
    partner: str = typer.Option(..., help="slug of the organization proposed to"),
    terms: Path = TERMS,
    name: str = typer.Option(None, help="the partnership's name (default: both names)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Propose terms to another organization: version 1 of its record, signed by ``org``."""
    db, org_id = organization(ctx, org)
    emit(agreements.propose(db, org_id, partner, _terms(terms), name=name), fmt)


@agreements_app.command("invite")
def agreements_invite(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the proposing organization"),
    slug: str = typer.Option(..., help="slug to hold for the business not here yet"),
    name: str = typer.Option(..., help="its name"),
    email: str = typer.Option(..., help="who will own it here and answer the terms"),
    terms: Path = TERMS,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Propose terms to a business not on this server yet: it is made with the proposal
    waiting, and a one-time link (printed once) makes its owner."""
    from crosspromo.services.agree.invited import propose_to_newcomer

    db, org_id = organization(ctx, org)
    emit(propose_to_newcomer(db, org_id, "crosspromo command line", slug, name, email,
                             _terms(terms)), fmt)  # fmt: skip


@agreements_app.command("counter")
@agreements_app.command("amend")
def agreements_counter(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization offering new terms"),
    partnership: int = PARTNERSHIP,
    terms: Path = TERMS,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Offer new terms: a counter while negotiating, an amendment once terms are in force
    (those stay in force until the other party accepts)."""
    db, org_id = organization(ctx, org)
    emit(agreements.offer(db, org_id, partnership, _terms(terms)), fmt)


@agreements_app.command("accept")
def agreements_accept(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the accepting organization"),
    partnership: int = PARTNERSHIP,
    version: int = typer.Option(..., help="the terms version accepted (the newest offer)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Accept the other party's newest terms; status becomes active once both accepted it."""
    db, org_id = organization(ctx, org)
    emit(agreements.accept(db, org_id, partnership, version), fmt)


@agreements_app.command("decline")
def agreements_decline(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the declining organization"),
    partnership: int = PARTNERSHIP,
    version: int = typer.Option(..., help="the terms version declined (the newest offer)"),
    reason: str = REASON,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Decline the other party's newest terms (a declined proposal or counter ends the
    negotiation; a declined amendment leaves the terms in force)."""
    db, org_id = organization(ctx, org)
    emit(agreements.decline(db, org_id, partnership, version, reason), fmt)


def _mover(kind: str) -> None:
    def command(
        ctx: typer.Context,
        org: str = typer.Option(..., help="slug of the organization taking the step"),
        partnership: int = PARTNERSHIP,
        reason: str = REASON,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        db, org_id = organization(ctx, org)
        emit(agreements.move(db, org_id, partnership, kind, reason), fmt)

    command.__doc__ = {
        "pause": "Pause an active partnership (nothing is credited while paused).",
        "resume": "Resume a paused partnership under its terms in force.",
        "end": "End the partnership; the record states when, after the terms' notice, and "
        "which terms survive.",
    }[kind]
    agreements_app.command(kind)(command)


for _kind in agreements.MOVES:
    _mover(_kind)


@agreements_app.command("statement")
def agreements_statement(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the party signing it"),
    partnership: int = PARTNERSHIP,
    month: str = typer.Option(..., help="a finished month, YYYY-MM"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Sign a finished month's statement into the record: the partner's clicks, leads, sales
    and net revenue that month, beside the terms' monthly targets."""
    from crosspromo.services.agree.performance import add_statement

    db, org_id = organization(ctx, org)
    emit(add_statement(db, org_id, partnership, month), fmt)


@agreements_app.command("export")
def agreements_export(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of a party"),
    partnership: int = PARTNERSHIP,
    out: Path = typer.Option(..., help="where to write the bundle (JSON)"),
) -> None:
    """Write the partnership's record with the public keys that check it: what `agreements
    verify` reads, anywhere, without the server."""
    db, org_id = organization(ctx, org)
    data = agreements.export_bundle(db, org_id, partnership)
    _write(out, data)
    typer.echo(f"wrote {len(data)} bytes to {out}", err=True)


@agreements_app.command("keygen")
def agreements_keygen(
    out: Path = typer.Option(..., help="where to keep the new private key (hex; mode 0600)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Make a signing key on this machine (no server, no database): keep the file, register
    its public key with `agreements hold-key`."""
    made = SigningKey.generate()
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise InvalidInputError(f"cannot create {out}: {exc.strerror}", field="out") from None
    with os.fdopen(descriptor, "w") as file:
        file.write(bytes(made).hex() + "\n")
    public = public_key_of(made)
    emit(KeyMade(public, fingerprint(public), str(out)), fmt)


@agreements_app.command("hold-key")
def agreements_hold_key(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization"),
    public_key: str = typer.Option(..., help="the public key `agreements keygen` printed"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """From now on the organization signs its entries itself: the server keeps only this public
    key, hands over to it in each record with the key it kept, and can no longer sign for it."""
    from crosspromo.services.agree.rotation import hold_key_locally

    db, org_id = organization(ctx, org)
    emit(hold_key_locally(db, org_id, public_key), fmt)


@agreements_app.command("sign")
def agreements_sign(
    ctx: typer.Context,
    org: str = typer.Option(..., help="slug of the organization signing"),
    partnership: int = PARTNERSHIP,
    key: Path = typer.Option(..., help="the private key file (`agreements keygen`)"),
    kind: str = typer.Option("acceptance", help="the step: " + ", ".join(SIGNED_STEPS)),
    version: int = typer.Option(None, help="the version accepted or declined"),
    terms: Path = typer.Option(None, help="the terms offered (proposal, counter, amendment)"),
    reason: str = REASON,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Take a step with a key kept off the server: the entry is drafted from the record,
    signed here with the key file, and added; the private key never leaves this machine."""
    text = _read(key, "key").decode("ascii", "replace").strip()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInputError(f"{key} is not a key file (64 hex digits)", field="key")
    signing_key = SigningKey(bytes.fromhex(text))
    db, org_id = organization(ctx, org)
    draft = agreements.draft_entry(db, org_id, partnership, kind, version=version,
                                   terms=None if terms is None else _terms(terms),
                                   reason=reason)  # fmt: skip
    emit(agreements.submit_entry(db, org_id, partnership, draft.signed_with(signing_key)), fmt)


@agreements_app.command("template")
def agreements_template(
    brand: str = typer.Option("your-brand", help="slug of the brand"),
    partner: str = typer.Option("your-partner", help="slug of the partner"),
    percent_of_sale: str = typer.Option(None, help="commission: this % of each sale (e.g. 12.5)"),
    per_lead_minor: int = typer.Option(None, help="commission: this flat amount per lead"),
    holding_days: int = typer.Option(30, help="days a commission is held before approval"),
    currency: str = typer.Option("EUR", help="the commission's currency"),
    start: str = typer.Option(None, help="effective start, YYYY-MM-DD (may precede acceptance)"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Print a complete, valid terms document to start from (JSON in every format: a terms
    document has no table form); with commission options, exactly those rules."""
    from decimal import Decimal, InvalidOperation

    from crosspromo.domain.clock import parse_date
    from crosspromo.services.agree.terms import CommissionChoice, template

    try:
        percent = None if percent_of_sale is None else Decimal(percent_of_sale)
    except InvalidOperation:
        raise InvalidInputError(f"--percent-of-sale {percent_of_sale!r} is not a number",
                                field="percent_of_sale") from None  # fmt: skip
    chosen = CommissionChoice(percent, per_lead_minor, holding_days, currency)
    made = template(brand, partner, chosen, parse_date(start, "start"))
    emit(made, OutputFormat.JSON if fmt is OutputFormat.TABLE else fmt)


@agreements_app.command("verify")
def agreements_verify(
    bundle: Path = typer.Argument(..., help="an exported record (agreements export)"),
    against: Path | None = typer.Option(None, help="the other side's copy, to find a fork"),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Check a partnership's record with nothing but the file: every entry in its place,
    linked to the one before, signed by its organization's key, and every byte as exported;
    with --against, that the two copies hold the same entries. Exit 0 when it holds, 1 when
    it does not (the verdict says what is wrong and where). Needs no database or server."""
    from crosspromo.domain.record import verify

    verdict = verify(
        _read(bundle, "bundle"), None if against is None else _read(against, "against")
    )
    emit(verdict, fmt)
    if not verdict.valid:
        raise typer.Exit(1)


def _read(path: Path, field: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}", field=field) from None


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror}", field="out") from None
