"""What every dashboard and portal page shares: who may see it, and rendering a template with
the header's organization and the form token. A page that needs a login sends the visitor to
the login form, and a user of the wrong kind to their own home, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crosspromo.domain import Role, User
from crosspromo.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from crosspromo.services.accounts.overview import organization_overview
from crosspromo.services.track.stats import date_range
from crosspromo.web.deps import csrf_token, session_user, set_cookies

EDITORS = frozenset({Role.OWNER, Role.MANAGER})


class Redirect(Exception):
    """Answer with a 303 to ``location`` (raised by the page guards below)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def home(user: User) -> str:
    return "/portal" if user.role.uses_portal else "/"


def _manager(request: Request) -> User:
    """A logged-in dashboard user (owner, manager, analyst); others are sent home."""
    user = session_user(request)
    if user is None or user.role.uses_portal:
        raise Redirect("/login" if user is None else "/portal")
    return user


def _partner(request: Request) -> User:
    """A logged-in partner-portal user; others are sent home."""
    user = session_user(request)
    if user is None or not user.role.uses_portal:
        raise Redirect("/login" if user is None else "/")
    return user


def _editor(request: Request) -> User:
    """A dashboard user who may change things (owner, manager); an analyst sees but is
    refused (403) any change."""
    user = _manager(request)
    if user.role not in EDITORS:
        raise PermissionDeniedError(f"an {user.role.value} can look but not change anything")
    return user


def _manager_or_refuse(request: Request) -> User:
    """A dashboard user, or 401: for downloads and fragments, where a redirect would be read
    as the content."""
    user = session_user(request)
    if user is None or user.role.uses_portal:
        raise AuthenticationError("log in to the dashboard first")
    return user


def _partner_or_refuse(request: Request) -> User:
    """A partner-portal user, or 401 (downloads)."""
    user = session_user(request)
    if user is None or not user.role.uses_portal:
        raise AuthenticationError("log in to the partner portal first")
    return user


def _anyone(request: Request) -> User:
    user = session_user(request)
    if user is None:
        raise AuthenticationError("log in first")
    return user


Manager = Annotated[User, Depends(_manager)]
Editor = Annotated[User, Depends(_editor)]
Partner = Annotated[User, Depends(_partner)]
ManagerOr401 = Annotated[User, Depends(_manager_or_refuse)]
PartnerOr401 = Annotated[User, Depends(_partner_or_refuse)]
AnyUser = Annotated[User, Depends(_anyone)]
Csrf = Annotated[str, Form(max_length=100)]  # the form token every form posts back


def page(
    request: Request, name: str, *, user: User | None = None, status_code: int = 200,
    **context: object,
) -> HTMLResponse:  # fmt: skip
    """Render template ``name``; for a logged-in ``user`` the header shows their organization."""
    templates = request.app.state.templates
    context = _header(request, user, given=context) | context
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    assert isinstance(response, HTMLResponse)
    set_cookies(request, response)
    return response


def header_context(request: Request) -> dict[str, object]:
    """What base.html's header and tabs need for the request's logged-in user (error pages,
    which have no page guard); nothing for a visitor."""
    user = session_user(request)
    return {} if user is None else _header(request, user)


def _header(
    request: Request, user: User | None, given: Mapping[str, object] | None = None
) -> dict[str, object]:
    """The header's context: the user, the form token, the organization, what may be edited;
    the organization's figures only when the page has not ``given`` its own."""
    header: dict[str, object] = {"user": user, "csrf": csrf_token(request),
                                 "can_edit": user is not None and user.role in EDITORS}  # fmt: skip
    if user is not None and "data" not in (given or {}):
        header["data"] = organization_overview(request.app.state.db, user.org_id)
    return header


def install_redirects(app: FastAPI) -> None:
    async def on_redirect(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Redirect)
        return RedirectResponse(exc.location, status_code=303)

    app.add_exception_handler(Redirect, on_redirect)


def range_presets(today: date | None = None) -> list[tuple[str, date, date]]:
    """Date ranges a page offers in one click, each ending today (UTC)."""
    end = today or datetime.now(UTC).date()
    return [(label, end - timedelta(days=days - 1), end)
            for label, days in (("7 days", 7), ("30 days", 30), ("90 days", 90),
                                ("12 months", 365))]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ChosenRange:
    """The days a page shows: those asked for, or, when they cannot be shown (reversed, too
    long, out of bounds), the default range with the reason, which the page shows beside
    its date fields (status 422) instead of an error page."""

    start: date
    end: date
    error: str | None = None

    @property
    def status_code(self) -> int:
        return 200 if self.error is None else 422

    @property
    def presets(self) -> list[tuple[str, date, date]]:
        return range_presets()


def chosen_range(start: date | None, end: date | None, default_days: int = 30) -> ChosenRange:
    try:
        return ChosenRange(*date_range(start, end, default_days))
    except InvalidInputError as exc:
        return ChosenRange(*date_range(None, None, default_days), error=exc.message)


@dataclass(frozen=True, slots=True)
class AllTime:
    """No range chosen: every day (pages whose default is all of the data)."""

    start: None = None
    end: None = None
    error: None = None

    @property
    def presets(self) -> list[tuple[str, date, date]]:
        return range_presets()
