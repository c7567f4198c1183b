"""Everything `crosspromo demo` prepares before serving: schema, sample, demo logins."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from crosspromo.config import Settings
from crosspromo.domain import Role
from crosspromo.services.accounts.users import create_user
from crosspromo.services.admin.database import open_database, upgrade_database
from crosspromo.services.sample.build import Progress, SampleSummary, build_sample

DEMO_BRAND = "trailhead-outfitters"
DEMO_PARTNER = "summit-coffee"
DEMO_OWNER_EMAIL = "demo@crosspromo.local"
DEMO_PARTNER_EMAIL = "partner@crosspromo.local"
LOCAL_SECRET_FILE = Path(".crosspromo-secret")  # git-ignored


def local_secret(path: Path = LOCAL_SECRET_FILE) -> str:
    """The secret key kept in ``path`` (readable by its owner only), made once from 32 random
    bytes: the demo never runs on the public development default."""
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    organization: str
    role: Role


@dataclass(frozen=True, slots=True)
class DemoSetup:
    sample: SampleSummary
    logins: tuple[DemoLogin, ...]


def prepare_demo(
    settings: Settings,
    *,
    seed: int,
    scale: int = 100,
    password: str | None = None,
    progress: Progress | None = None,
) -> DemoSetup:
    """Migrate, build (or reuse) the sample, and (re)set the demo logins' password.

    Without ``password`` a fresh random one is set on every run and returned.
    """
    upgrade_database(settings)
    db = open_database(settings)
    try:
        sample = build_sample(db, seed=seed, scale=scale, progress=progress)
        secret = password or secrets.token_urlsafe(12)
        logins = (
            DemoLogin(DEMO_OWNER_EMAIL, secret, DEMO_BRAND, Role.OWNER),
            DemoLogin(DEMO_PARTNER_EMAIL, secret, DEMO_PARTNER, Role.PARTNER),
        )
        for login in logins:
            create_user(db, login.organization, login.email, login.password, login.role, reset=True)
    finally:
        db.dispose()
    return DemoSetup(sample, logins)
