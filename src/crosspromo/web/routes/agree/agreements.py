"""Agreements: terms proposed, countered, accepted or declined, and the partnership paused,
resumed or ended, each a signed entry of its record; the record as a bundle. The same steps in
the REST API, in the dashboard (owners and managers) and in the partner portal."""

# No ``from __future__ import annotations`` here: the dashboard's and the portal's forms are
# made in one function, and FastAPI reads their parameters' annotations as evaluated objects.
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import Field

from crosspromo.domain import User
from crosspromo.errors import ConflictError, InvalidInputError, NotFoundError
from crosspromo.services.agree import agreements, invited, performance
from crosspromo.services.agree.agreement_view import AgreementView, agreement_view
from crosspromo.services.agree.invited import InvitedProposal
from crosspromo.services.agree.records import AgreementStep
from crosspromo.services.agree.terms import parse_terms, read_terms
from crosspromo.store.database import Database
from crosspromo.web.deps import DB, ApiOrg, check_csrf
from crosspromo.web.pages import Csrf, Editor, Partner
from crosspromo.web.schemas import PROBLEM_RESPONSES, Body, SmallId

api = APIRouter(prefix="/api/v1", tags=["agree"], responses=PROBLEM_RESPONSES)
pages = APIRouter(include_in_schema=False)
BUNDLE_TYPE = "application/json"
Version = Annotated[int, Field(ge=1, le=100_000)]
Reason = Annotated[str, Field(max_length=500)]


class Proposal(Body):
    partner: str = Field(min_length=1, max_length=64, description="slug of the other organization")
    terms: dict[str, Any] = Field(description="a terms document (see `agreements template`)")
    name: str | None = Field(None, max_length=200, description="the partnership's name")


class Offer(Body):
    terms: dict[str, Any] = Field(description="the new terms: a counter, or an amendment")


class Answer(Body):
    version: Version
    reason: Reason = ""


class Move(Body):
    reason: Reason = ""


class DraftRequest(Body):
    kind: str = Field(description="the step to sign: proposal ... end")
    version: Version | None = None
    terms: dict[str, Any] | None = None
    reason: Reason = ""


class SignedEntry(Body):
    entry: dict[str, Any] = Field(description="the drafted entry with its signature")


@api.post("/agreements", status_code=201)
def propose(body: Proposal, org: ApiOrg, db: DB) -> AgreementStep:
    """Propose terms to another organization: a partnership negotiating on version 1."""
    return agreements.propose(db, org.id, body.partner, parse_terms(body.terms), name=body.name)


class NewcomerProposal(Body):
    slug: str = Field(min_length=1, max_length=64, description="slug held for the newcomer")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320, description="who will own it and answer")
    terms: dict[str, Any]


@api.post("/agreements/invitations", status_code=201)
def propose_to_newcomer(body: NewcomerProposal, org: ApiOrg, db: DB) -> InvitedProposal:
    """Propose terms to a business not on this server yet; the answer holds the one-time link
    that makes its owner (shown once)."""
    return invited.propose_to_newcomer(db, org.id, "API", body.slug, body.name, body.email,
                                       parse_terms(body.terms))  # fmt: skip


@api.get("/partnerships/{partnership_id}/agreement")
def get_agreement(partnership_id: SmallId, org: ApiOrg, db: DB) -> AgreementView:
    """Every terms version with its changes and standing, the record's entries, the verdict."""
    return agreement_view(db, org.id, partnership_id)


@api.post("/partnerships/{partnership_id}/agreement/terms")
def offer(partnership_id: SmallId, body: Offer, org: ApiOrg, db: DB) -> AgreementStep:
    """New terms: a counter while negotiating, an amendment once terms are in force."""
    return agreements.offer(db, org.id, partnership_id, parse_terms(body.terms))


@api.post("/partnerships/{partnership_id}/agreement/accept")
def accept(partnership_id: SmallId, body: Answer, org: ApiOrg, db: DB) -> AgreementStep:
    """Accept the other party's newest version; both accepted: it is in force."""
    return agreements.accept(db, org.id, partnership_id, body.version)


@api.post("/partnerships/{partnership_id}/agreement/decline")
def decline(partnership_id: SmallId, body: Answer, org: ApiOrg, db: DB) -> AgreementStep:
    return agreements.decline(db, org.id, partnership_id, body.version, body.reason)


@api.get("/partnerships/{partnership_id}/agreement/record",
         responses={200: {"content": {BUNDLE_TYPE: {}}}})  # fmt: skip
def record(partnership_id: SmallId, org: ApiOrg, db: DB) -> Response:
    """The record as a bundle (`crosspromo agreements verify` checks it offline)."""
    return _bundle(db, org.id, partnership_id)


@api.post("/partnerships/{partnership_id}/agreement/draft")
def draft(partnership_id: SmallId, body: DraftRequest, org: ApiOrg, db: DB) -> dict[str, Any]:
    """The next entry, unsigned, for an organization that signs with its own key."""
    terms = None if body.terms is None else parse_terms(body.terms)
    made = agreements.draft_entry(db, org.id, partnership_id, body.kind, version=body.version,
                                  terms=terms, reason=body.reason)  # fmt: skip
    return made.document()


@api.post("/partnerships/{partnership_id}/agreement/entries")
def submit(partnership_id: SmallId, body: SignedEntry, org: ApiOrg, db: DB) -> AgreementStep:
    """Add an entry the organization signed with its own key."""
    return agreements.submit_entry(db, org.id, partnership_id, agreements.entry_from(body.entry))


class StatementRequest(Body):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", description="a finished month, YYYY-MM")


@api.post("/partnerships/{partnership_id}/agreement/statements")
def statement(
    partnership_id: SmallId, body: StatementRequest, org: ApiOrg, db: DB
) -> AgreementStep:
    """Sign a finished month's statement into the record: the figures and monthly targets."""
    return performance.add_statement(db, org.id, partnership_id, body.month)


@api.post("/partnerships/{partnership_id}/agreement/{kind}")
def move(
    partnership_id: SmallId, kind: Literal["pause", "resume", "end"], body: Move, org: ApiOrg,
    db: DB,
) -> AgreementStep:  # fmt: skip
    """Pause, resume or end the partnership (declared after the other steps, whose names the
    ``{kind}`` of its path would otherwise take)."""
    return agreements.move(db, org.id, partnership_id, kind, body.reason)


def _bundle(db: Database, org_id: int, partnership_id: int) -> Response:
    data = agreements.export_bundle(db, org_id, partnership_id)
    disposition = f'attachment; filename="partnership-{partnership_id}-record.json"'
    return Response(data, media_type=BUNDLE_TYPE,
                    headers={"Content-Disposition": disposition})  # fmt: skip


# The dashboard (owners, managers) and the portal (partner users) take the same steps.
_SIDES: tuple[tuple[str, Any], ...] = (("", Editor), ("/portal", Partner))
_REFUSED = (InvalidInputError, ConflictError, NotFoundError)


def _add_side(prefix: str, Actor: Any) -> None:
    base = prefix + "/partnerships/{partnership_id}"

    def back(request: Request, user: User, db: Database, partnership_id: int,
             exc: InvalidInputError | ConflictError | NotFoundError) -> Response:  # fmt: skip
        from crosspromo.web.routes.agree.partnerships import partnership_view

        return partnership_view(request, user, db, partnership_id, portal=bool(prefix),
                                error=exc.message, status_code=exc.http_status)  # fmt: skip

    def act(request: Request, user: User, db: Database, partnership_id: int, csrf: str,
            take: Callable[[], object]) -> Response:  # fmt: skip
        """Take the step (after the form token's check): back to the agreement, or the page
        with the reason it was refused."""
        check_csrf(request, csrf)
        try:
            take()
        except _REFUSED as exc:
            return back(request, user, db, partnership_id, exc)
        return RedirectResponse(f"{prefix}/partnerships/{partnership_id}#agreement", 303)

    @pages.post(base + "/agreement/terms")
    def terms_form(
        request: Request, user: Actor, db: DB, partnership_id: SmallId,
        terms: Annotated[str, Form(max_length=100_000)] = "", csrf: Csrf = "",
    ) -> Response:  # fmt: skip
        """Propose terms (no record yet), counter them, or propose an amendment."""
        return act(
            request,
            user,
            db,
            partnership_id,
            csrf,
            lambda: agreements.offer(
                db, user.org_id, partnership_id, read_terms(terms, "the terms"), actor=user.email
            ),
        )

    @pages.post(base + "/agreement/answer")
    def answer_form(
        request: Request, user: Actor, db: DB, partnership_id: SmallId,
        version: Annotated[int, Form(ge=1, le=100_000)],
        answer: Annotated[Literal["accept", "decline"], Form()],
        reason: Annotated[str, Form(max_length=500)] = "", csrf: Csrf = "",
    ) -> Response:  # fmt: skip
        """Accept or decline the other party's newest version."""
        if answer == "accept":
            return act(
                request,
                user,
                db,
                partnership_id,
                csrf,
                lambda: agreements.accept(
                    db, user.org_id, partnership_id, version, actor=user.email
                ),
            )
        return act(
            request,
            user,
            db,
            partnership_id,
            csrf,
            lambda: agreements.decline(
                db, user.org_id, partnership_id, version, reason, actor=user.email
            ),
        )

    @pages.post(base + "/agreement/move")
    def move_form(
        request: Request, user: Actor, db: DB, partnership_id: SmallId,
        kind: Annotated[Literal["pause", "resume", "end"], Form()],
        reason: Annotated[str, Form(max_length=500)] = "", csrf: Csrf = "",
    ) -> Response:  # fmt: skip
        """Pause, resume or end the partnership, with a reason."""
        return act(
            request,
            user,
            db,
            partnership_id,
            csrf,
            lambda: agreements.move(
                db, user.org_id, partnership_id, kind, reason, actor=user.email
            ),
        )

    @pages.post(base + "/agreement/statement")
    def statement_form(
        request: Request, user: Actor, db: DB, partnership_id: SmallId,
        month: Annotated[str, Form(max_length=7)] = "", csrf: Csrf = "",
    ) -> Response:  # fmt: skip
        """Sign a finished month's statement into the record."""
        return act(
            request,
            user,
            db,
            partnership_id,
            csrf,
            lambda: performance.add_statement(
                db, user.org_id, partnership_id, month, actor=user.email
            ),
        )

    @pages.get(base + "/record.json")
    def record_download(partnership_id: SmallId, user: Actor, db: DB) -> Response:
        """The record as a bundle, to keep or to check with `crosspromo agreements verify`."""
        return _bundle(db, user.org_id, partnership_id)


for _prefix, _guard in _SIDES:
    _add_side(_prefix, _guard)
