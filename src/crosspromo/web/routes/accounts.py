"""Accounts: logging in and out, each side's home page (the dashboard's overview, the partner
portal), the API key's organization, and customers with their consents."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from pydantic import Field

from crosspromo.domain import ConsentPurpose, PartnershipStatus, Role, User
from crosspromo.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TooManyAttemptsError,
)
from crosspromo.services.accounts.customers import CustomerView, get_customer, record_customer
from crosspromo.services.accounts.invitations import (
    MAY_INVITE,
    accept_invitation,
    invite,
    open_invitation,
    revoke_invitation,
    sent_invitations,
)
from crosspromo.services.accounts.keys import create_api_key, list_api_keys, revoke_api_key
from crosspromo.services.accounts.logins import (
    authenticate_user,
    change_password,
    end_all_sessions,
    end_session,
    list_sessions,
    start_session,
)
from crosspromo.services.accounts.organizations import (
    OrganizationView,
    organization_choices,
    organization_slugs,
)
from crosspromo.services.accounts.overview import organization_overview
from crosspromo.services.accounts.users import parse_role, team
from crosspromo.services.agree.keys import current_key
from crosspromo.services.agree.partnerships import parse_status, partner_choices
from crosspromo.services.agree.rotation import hold_key_locally, rotate_key
from crosspromo.services.agree.terms import template
from crosspromo.services.track.links import (
    partner_code_qr,
    partner_codes,
    partner_links,
    partner_qr_code,
)
from crosspromo.services.track.stats import day_window
from crosspromo.store.database import Database
from crosspromo.web.deps import (
    DB,
    SESSION_COOKIE,
    ApiOrg,
    check_csrf,
    clear_session_cookie,
    login_session,
    session_user,
    set_session_cookie,
)
from crosspromo.web.pages import (
    AnyUser,
    Csrf,
    Editor,
    Manager,
    Partner,
    PartnerOr401,
    chosen_range,
    home,
    page,
)
from crosspromo.web.schemas import PROBLEM_RESPONSES, BigId, Body, From, LinkCode, SmallId, To

api = APIRouter(prefix="/api/v1", tags=["accounts"], responses=PROBLEM_RESPONSES)
pages = APIRouter(include_in_schema=False)


class CustomerIn(Body):
    external_id: str = Field(
        min_length=1, max_length=320, description="stored only as a keyed hash"
    )
    consents: list[ConsentPurpose] = Field(default_factory=list)
    segment: str | None = Field(default=None, max_length=64)


@api.get("/organization")
def my_organization(org: ApiOrg) -> OrganizationView:
    """The organization the API key belongs to."""
    return OrganizationView.of(org)


@api.post(
    "/customers",
    status_code=201,
    responses={200: {"model": CustomerView, "description": "an existing customer was updated"}},
)
def put_customer(body: CustomerIn, org: ApiOrg, db: DB, response: Response) -> CustomerView:
    """Create or update a customer with its consents; 201 when created, 200 when updated."""
    customer, created = record_customer(
        db, org.id, body.external_id, frozenset(body.consents), body.segment
    )
    response.status_code = 201 if created else 200
    return customer


@api.get("/customers/{customer_id}")
def read_customer(customer_id: BigId, org: ApiOrg, db: DB) -> CustomerView:
    return get_customer(db, org.id, customer_id)


@pages.get("/login")
def login_form(request: Request) -> Response:
    user = session_user(request)
    if user is not None:
        return RedirectResponse(home(user), status_code=303)
    return page(request, "accounts/login.html", email="", error=None)


@pages.post("/login")
def login(
    request: Request,
    db: DB,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    client = request.client.host if request.client else "unknown"
    try:
        user = authenticate_user(db, email, password, client)
    except (AuthenticationError, TooManyAttemptsError) as exc:
        response = page(
            request, "accounts/login.html", status_code=exc.http_status, email=email,
            error=exc.message,
        )  # fmt: skip
        if "retry_after" in exc.details:
            response.headers["Retry-After"] = str(exc.details["retry_after"])
        return response
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        end_session(db, previous)  # a new login never reuses the old token
    return _logged_in(request, db, user, home(user))


def _logged_in(request: Request, db: Database, user: User, location: str) -> Response:
    """A new login for this browser, and on to ``location``."""
    token = start_session(db, user, request.headers.get("user-agent", ""))
    redirect = RedirectResponse(location, status_code=303)
    set_session_cookie(request, redirect, token)
    return redirect


@pages.post("/logout")
def logout(request: Request, db: DB, csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(db, token)
    return _logged_out()


def _logged_out() -> Response:
    """Back to the login form, the browser's session cookie gone."""
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


def _account_page(
    request: Request, user: User, db: Database, *, status_code: int = 200, **context: object
) -> Response:
    login = login_session(request)
    settings = db.settings
    return page(
        request, "accounts/account.html", user=user,
        sessions=list_sessions(db, user.id, login.session_id if login else None),
        idle_hours=_hours(settings.session_idle_seconds),
        max_hours=_hours(settings.session_max_age_seconds), status_code=status_code, **context,
    )  # fmt: skip


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:g} hours" if seconds >= 3600 else f"{seconds // 60} minutes"


@pages.get("/account")
def account(request: Request, user: AnyUser, db: DB, changed: bool = False) -> Response:
    """The user's live logins, signing out everywhere, and changing the password."""
    return _account_page(request, user, db, error=None, changed=changed)


@pages.post("/account/sign-out-everywhere")
def sign_out_everywhere(request: Request, user: AnyUser, db: DB, csrf: Csrf = "") -> Response:
    check_csrf(request, csrf)
    end_all_sessions(db, user.id)
    return _logged_out()


@pages.post("/account/password")
def new_password(
    request: Request,
    user: AnyUser,
    db: DB,
    current: Annotated[str, Form(max_length=1024)],
    new: Annotated[str, Form(max_length=1024)],
    csrf: Csrf = "",
) -> Response:
    """Change the password: every login ends, this browser gets a new one."""
    check_csrf(request, csrf)
    try:
        change_password(db, user.id, current, new)
    except (AuthenticationError, InvalidInputError) as exc:
        return _account_page(request, user, db, error=exc.message, changed=False,
                             status_code=exc.http_status)  # fmt: skip
    return _logged_in(request, db, user, "/account?changed=true")


@pages.get("/")
def overview(request: Request, user: Manager, db: DB, status: str | None = None) -> Response:
    """Partnerships by status, customers and their consents, and a form to propose one."""
    return overview_page(request, user, db, status)


def overview_page(
    request: Request, user: User, db: Database, status: str | None, *, status_code: int = 200,
    error: str | None = None, form: dict[str, str] | None = None, **extra: object,
) -> Response:  # fmt: skip
    """The Partnerships tab; ``extra``: what an invitation form gives back (the link made, or
    why it was refused)."""
    data = organization_overview(db, user.org_id, parse_status(status))
    starting = template(data.organization.slug, "their-slug").document()
    return page(
        request, "accounts/overview.html", user=user, data=data,
        statuses=list(PartnershipStatus), selected=status or "", error=error, form=form or {},
        others=organization_choices(db, user.org_id), status_code=status_code,
        invite_terms=json.dumps(starting, indent=2),
        **({"invited": None, "invite_error": None} | extra),
    )  # fmt: skip


@pages.get("/portal")
def portal(request: Request, user: Partner, db: DB, start: From = None, end: To = None) -> Response:
    """The partner's side: its partnerships, and the links it shares with their numbers for
    a range of days."""
    chosen = chosen_range(start, end)
    links = partner_links(db, user.org_id, day_window(chosen.start, chosen.end))
    return page(request, "accounts/portal.html", user=user, links=links, chosen=chosen,
                codes=partner_codes(db, user.org_id), status_code=chosen.status_code)  # fmt: skip


@pages.get("/portal/links/{code}/qr.svg")
def portal_link_qr(code: LinkCode, user: PartnerOr401, db: DB) -> Response:
    """The QR code of a link issued to the partner, for print and slides."""
    return Response(partner_qr_code(db, user.org_id, code), media_type="image/svg+xml")


@pages.get("/portal/codes/{code}/qr.svg")
def portal_code_qr(code: LinkCode, user: PartnerOr401, db: DB) -> Response:
    """The QR code of a referral or coupon code issued to the partner."""
    return Response(partner_code_qr(db, user.org_id, code), media_type="image/svg+xml")


KeyPrefix = Annotated[str, PathParam(pattern="^[0-9a-f]{10}$")]


def _slug(db: Database, org_id: int) -> str:
    return organization_slugs(db, {org_id})[org_id]


def _keys_page(
    request: Request, user: User, db: Database, *, status_code: int = 200, **context: object
) -> Response:
    keys = list_api_keys(db, _slug(db, user.org_id))
    context = {"signing_error": None, "signing": current_key(db, user.org_id)} | context
    return page(request, "accounts/keys.html", user=user, keys=keys, status_code=status_code,
                **context)  # fmt: skip


@pages.post("/settings/keys/signing/rotate")
def signing_rotate(request: Request, user: Editor, db: DB, csrf: Csrf = "") -> Response:
    """A new signing key kept on the server; the old one signs the hand-over and retires."""
    check_csrf(request, csrf)
    try:
        rotate_key(db, user.org_id)
    except ConflictError as exc:
        return _keys_page(request, user, db, signing_error=exc.message, status_code=409)
    return RedirectResponse("/settings/keys#signing", status_code=303)


@pages.post("/settings/keys/signing/hold")
def signing_hold(
    request: Request, user: Editor, db: DB,
    public_key: Annotated[str, Form(max_length=64)] = "", csrf: Csrf = "",
) -> Response:  # fmt: skip
    """From now on the organization signs with its own key; the server keeps its public key."""
    check_csrf(request, csrf)
    try:
        hold_key_locally(db, user.org_id, public_key)
    except (InvalidInputError, ConflictError) as exc:
        return _keys_page(request, user, db, signing_error=exc.message,
                          status_code=exc.http_status)  # fmt: skip
    return RedirectResponse("/settings/keys#signing", status_code=303)


@pages.get("/settings/keys")
def keys_page(request: Request, user: Manager, db: DB) -> Response:
    """The organization's API keys: create one (shown once), revoke one."""
    return _keys_page(request, user, db, issued=None, error=None)


@pages.post("/settings/keys")
def keys_create(
    request: Request, user: Editor, db: DB, name: Annotated[str, Form(max_length=200)] = "",
    csrf: Csrf = "",
) -> Response:  # fmt: skip
    check_csrf(request, csrf)
    try:
        issued = create_api_key(db, _slug(db, user.org_id), name)
    except InvalidInputError as exc:
        return _keys_page(request, user, db, issued=None, error=exc.message, status_code=422)
    return _keys_page(request, user, db, issued=issued, error=None)


@pages.post("/settings/keys/{prefix}/revoke")
def keys_revoke(request: Request, user: Editor, db: DB, prefix: KeyPrefix,
                csrf: Csrf = "") -> Response:  # fmt: skip
    check_csrf(request, csrf)
    revoke_api_key(db, _slug(db, user.org_id), prefix)
    return RedirectResponse("/settings/keys", status_code=303)


InviteToken = Annotated[str, PathParam(pattern="^[A-Za-z0-9_-]{43}$")]


def _team_page(
    request: Request, user: User, db: Database, *, status_code: int = 200, **context: object
) -> Response:
    context = {"issued": None, "error": None, "form": {}} | context
    with_partners = partner_choices(db, user.org_id)
    return page(request, "accounts/team.html", user=user, members=team(db, user.org_id),
                invitations=sent_invitations(db, user.org_id), partners=with_partners,
                may_invite=MAY_INVITE.get(user.role, ()), status_code=status_code,
                **context)  # fmt: skip


@pages.get("/settings/team")
def team_page(request: Request, user: Manager, db: DB) -> Response:
    """The organization's users and invitations; invite a colleague or a partner's user."""
    return _team_page(request, user, db)


@pages.post("/settings/team/invite")
def team_invite(
    request: Request,
    user: Editor,
    db: DB,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    partner: Annotated[str, Form(max_length=64)] = "",
    csrf: Csrf = "",
) -> Response:
    """An invitation link, shown once; a partner user is invited for one of our partners."""
    check_csrf(request, csrf)
    form = {"email": email, "role": role, "partner": partner}
    try:
        chosen = parse_role(role)
        issued = invite(db, user, email, chosen,
                        partner or None if chosen is Role.PARTNER else None)  # fmt: skip
    except (InvalidInputError, NotFoundError, ConflictError) as exc:
        return _team_page(request, user, db, error=exc.message, form=form,
                          status_code=exc.http_status)  # fmt: skip
    return _team_page(request, user, db, issued=issued)


@pages.post("/settings/team/invitations/{invitation_id}/revoke")
def team_revoke(
    request: Request, user: Editor, db: DB, invitation_id: SmallId, csrf: Csrf = ""
) -> Response:
    check_csrf(request, csrf)
    revoke_invitation(db, user.org_id, invitation_id)
    return RedirectResponse("/settings/team", status_code=303)


@pages.get("/invite/{token}")
def invitation_form(request: Request, db: DB, token: InviteToken) -> Response:
    """Whoever holds the link chooses a password and is logged in."""
    try:
        found = open_invitation(db, token)
    except AuthenticationError as exc:
        return page(request, "accounts/invite.html", invitation=None, error=exc.message,
                    status_code=exc.http_status)  # fmt: skip
    return page(request, "accounts/invite.html", invitation=found, error=None)


@pages.post("/invite/{token}")
def invitation_accept(
    request: Request,
    db: DB,
    token: InviteToken,
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Csrf = "",
) -> Response:
    check_csrf(request, csrf)
    try:
        made = accept_invitation(db, token, password)
    except (AuthenticationError, InvalidInputError, ConflictError) as exc:
        found = None if isinstance(exc, AuthenticationError) else open_invitation(db, token)
        return page(request, "accounts/invite.html", invitation=found, error=exc.message,
                    status_code=exc.http_status)  # fmt: skip
    return _logged_in(request, db, made, home(made))
