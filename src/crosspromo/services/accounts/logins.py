"""Signing in and staying signed in: throttled password checks and server-side sessions.

Throttling counts failed checks under three keys: the account and client address together,
the account alone, and the client address alone. Each allows some failures free, then asks
for a delay that doubles with every further failure, up to a cap; a success clears the
account's counts (not the address's: logging into one's own account must not reset a
spray). Taking a try and counting it are single statements, so concurrent tries cannot slip
past the count, and only one check of an account from one address runs at a time. A
stranger who fails on someone's account delays only their own address at first; the
account's own delay starts much later and never exceeds a minute: a slow-down, not a
lockout anyone can trigger.

A login is a row in ``user_sessions``; the browser's cookie holds only a random token whose
SHA-256 finds the row. Logging out, changing or resetting the password, and "sign out
everywhere" delete rows, which ends those logins at once; a login also ends after
``session_idle_seconds`` without a request and ``session_max_age_seconds`` after it began.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from crosspromo.domain import User
from crosspromo.errors import AuthenticationError, TooManyAttemptsError
from crosspromo.security import dummy_verify, hash_password, token_digest, verify_password
from crosspromo.services.accounts.users import check_password
from crosspromo.store.database import Database
from crosspromo.store.repositories import (
    LoginSessionRepository,
    LoginThrottleRepository,
    UserRepository,
    utcnow,
)

CHECK_HOLD = timedelta(seconds=10)  # a check's hold on its key, should its process die
SEEN_EVERY = timedelta(minutes=1)  # how often a session's last request is written down


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str
    free: int  # failures without a delay
    cap_seconds: int  # the longest delay
    exclusive: bool  # one check at a time

    def delay(self, failures: int) -> float:
        """Seconds before the next try may be checked after ``failures`` failures."""
        if failures <= self.free:
            return 0.0
        return float(min(self.cap_seconds, 2 ** min(failures - self.free, 20)))


PAIR = Limit("pair", free=5, cap_seconds=15 * 60, exclusive=True)
ACCOUNT = Limit("account", free=20, cap_seconds=60, exclusive=False)
CLIENT = Limit("client", free=30, cap_seconds=15 * 60, exclusive=False)


def _key(kind: str, *parts: str) -> str:
    return f"{kind}:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def authenticate_user(db: Database, email: str, password: str, client: str = "local") -> User:
    """The user whose password matches; one AuthenticationError for any mismatch, and
    TooManyAttemptsError (with ``retry_after`` seconds) while a delay runs. ``client`` is
    the address the try comes from. Unknown addresses are counted like known ones."""
    email = email.strip().lower()
    keys = [(PAIR, _key("pair", email, client)), (ACCOUNT, _key("account", email)),
            (CLIENT, _key("client", client))]  # fmt: skip
    now = utcnow()
    wait: float | None = None
    with db.transaction() as session:
        throttle = LoginThrottleRepository(session)
        entered = []
        for limit, key in keys:
            hold = now + CHECK_HOLD if limit.exclusive else None
            if not throttle.enter(key, now, hold_until=hold):
                wait = throttle.wait(key, now)
                break
            entered.append((limit, key))
        if wait is not None:
            for limit, key in entered:
                if limit.exclusive:
                    throttle.release(key)
        found = None if wait is not None else UserRepository(session).credentials(email)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise TooManyAttemptsError(
            f"too many failed logins; try again in {seconds} seconds", retry_after=seconds
        )
    if found is None:
        dummy_verify()
        user = None
    else:
        user = found[0] if verify_password(password, found[1]) else None
    with db.transaction() as session:  # the password check above ran outside any lock
        throttle = LoginThrottleRepository(session)
        later = utcnow()
        for limit, key in keys:
            if user is None:
                delay = limit.delay(throttle.failed(key))
                if delay:
                    throttle.delay(key, later + timedelta(seconds=delay))
            elif limit is CLIENT:
                throttle.release(key)
            else:
                throttle.forget(key)
        if user is not None:
            UserRepository(session).touch_login(user.id)
    if user is None:
        raise AuthenticationError("wrong e-mail or password")
    return user


def start_session(db: Database, user: User, user_agent: str = "") -> str:
    """A new login for ``user``: the token for the browser's cookie (its hash is stored)."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(seconds=db.settings.session_max_age_seconds)
    with db.transaction() as session:
        sessions = LoginSessionRepository(session)
        sessions.purge(utcnow(), utcnow() - timedelta(seconds=db.settings.session_idle_seconds))
        sessions.add(user.id, token_digest(token), secrets.token_urlsafe(32), user_agent, expires)
    return token


@dataclass(frozen=True, slots=True)
class CurrentSession:
    """The login a request comes with: its user, its id and its form token."""

    user: User
    session_id: int
    csrf: str


def current_session(db: Database, token: str) -> CurrentSession | None:
    """The live login of ``token``; None (and the row gone) when it has ended."""
    if not token or len(token) > 100:
        return None
    now = utcnow()
    idle = timedelta(seconds=db.settings.session_idle_seconds)
    with db.transaction() as session:
        sessions = LoginSessionRepository(session)
        row = sessions.find(token_digest(token))
        if row is None:
            return None
        user = UserRepository(session).get(row.user_id)
        if user is None or row.ends_at(idle) <= now:
            sessions.end(row.id)
            return None
        if now - row.last_seen_at >= SEEN_EVERY:
            sessions.seen(row.id, now)
    return CurrentSession(user, row.id, row.csrf)


def end_session(db: Database, token: str) -> None:
    with db.transaction() as session:
        sessions = LoginSessionRepository(session)
        row = sessions.find(token_digest(token))
        if row is not None:
            sessions.end(row.id)


def end_all_sessions(db: Database, user_id: int) -> int:
    """Sign out everywhere: every login of the user ends; how many there were."""
    with db.transaction() as session:
        return LoginSessionRepository(session).end_all(user_id)


@dataclass(frozen=True, slots=True)
class SessionView:
    """A login as its user sees it in the list of their sessions."""

    id: int
    user_agent: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool

    @property
    def browser(self) -> str:
        """ "Firefox on Windows" and the like, from the user agent."""
        return browser_name(self.user_agent)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("HeadlessChrome/", "Headless Chrome"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"), ("curl/", "curl"))  # fmt: skip
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))  # fmt: skip


def browser_name(user_agent: str) -> str:
    name = next((n for token, n in _BROWSERS if token in user_agent), "a browser")
    system = next((n for token, n in _SYSTEMS if token in user_agent), None)
    return f"{name} on {system}" if system else name if user_agent else "an unknown browser"


def list_sessions(db: Database, user_id: int, current_id: int | None = None) -> list[SessionView]:
    """The user's live logins, the most recently used first."""
    now = utcnow()
    idle = timedelta(seconds=db.settings.session_idle_seconds)
    with db.transaction() as session:
        rows = LoginSessionRepository(session).for_user(user_id, now)
    views = [
        SessionView(
            r.id, r.user_agent, r.created_at, r.last_seen_at, r.ends_at(idle), r.id == current_id
        )
        for r in rows
    ]
    return [v for v in views if v.expires_at > now]


def change_password(db: Database, user_id: int, current: str, new: str) -> None:
    """Set a new password after checking the current one; every login of the user ends."""
    check_password(new, "the new password", "new_password")
    with db.transaction() as session:
        stored = UserRepository(session).password_hash(user_id)
    if stored is None or not verify_password(current, stored):
        raise AuthenticationError("the current password is wrong")
    new_hash = hash_password(new)
    with db.transaction() as session:
        UserRepository(session).set_password(user_id, new_hash)
