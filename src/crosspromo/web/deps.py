"""Request dependencies: the database, the API caller's organization, the logged-in user."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crosspromo.domain import Organization, User
from crosspromo.errors import AuthenticationError, PermissionDeniedError
from crosspromo.services.accounts.keys import authenticate_api_key
from crosspromo.services.accounts.users import get_user
from crosspromo.store.database import Database

SESSION_USER = "user_id"
SESSION_CSRF = "csrf"


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


def session_user(request: Request, db: Database) -> User | None:
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    user = get_user(db, user_id)
    if user is None:
        request.session.clear()
    return user


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, submitted: str) -> None:
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not secrets.compare_digest(expected, submitted):
        raise PermissionDeniedError("the form expired or came from another site; reload and retry")
