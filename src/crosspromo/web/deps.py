"""Request dependencies: the database, the API caller's organization, the logged-in user and
the form token (CSRF), and the cookies that carry them."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crosspromo.domain import Organization, User
from crosspromo.errors import AuthenticationError, PermissionDeniedError
from crosspromo.services.accounts.keys import authenticate_api_key
from crosspromo.services.accounts.logins import CurrentSession, current_session
from crosspromo.store.database import Database

SESSION_COOKIE = "crosspromo_session"  # a login's random token; the store keeps its hash
CSRF_COOKIE = "crosspromo_csrf"  # the form token before logging in (double submit)
CSRF_MAX_AGE = 12 * 3600


def get_db(request: Request) -> Database:
    db = request.app.state.db
    assert isinstance(db, Database)
    return db


DB = Annotated[Database, Depends(get_db)]


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An organization's API key, from `crosspromo keys create --org SLUG`.",
)


def api_organization(
    db: DB, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Organization:
    """The organization whose API key is in ``Authorization: Bearer ...``."""
    if credentials is None or not credentials.credentials.strip():
        raise AuthenticationError("send an API key as 'Authorization: Bearer <key>'")
    return authenticate_api_key(db, credentials.credentials.strip())


ApiOrg = Annotated[Organization, Depends(api_organization)]


def login_session(request: Request) -> CurrentSession | None:
    """The request's live login (looked up once a request), or None."""
    if not hasattr(request.state, "login"):
        token = request.cookies.get(SESSION_COOKIE, "")
        request.state.login = current_session(get_db(request), token) if token else None
    login: CurrentSession | None = request.state.login
    return login


def session_user(request: Request) -> User | None:
    login = login_session(request)
    return None if login is None else login.user


def csrf_token(request: Request) -> str:
    """The form token: the login's own, or before logging in the one in the form cookie
    (a new one is set on the page's response: see ``set_cookies``)."""
    login = login_session(request)
    if login is not None:
        return login.csrf
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def check_csrf(request: Request, submitted: str) -> None:
    login = login_session(request)
    expected = login.csrf if login is not None else request.cookies.get(CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, submitted):
        raise PermissionDeniedError("the form expired or came from another site; reload and retry")


def _cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
        secure=settings.environment == "production",
    )  # fmt: skip


def set_cookies(request: Request, response: Response) -> None:
    """Put a form token made for this page into its cookie."""
    token = getattr(request.state, "new_csrf", None)
    if token:
        _cookie(request, response, CSRF_COOKIE, token, CSRF_MAX_AGE)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    _cookie(request, response, SESSION_COOKIE, token,
            request.app.state.settings.session_max_age_seconds)  # fmt: skip


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
