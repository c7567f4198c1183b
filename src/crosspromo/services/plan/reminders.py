"""Checklist reminders by e-mail: each organization's users (not its analysts) hear of the
steps on their side that fall due within a few days and are not done, once per step, through
the configured SMTP server. An item is marked reminded only after its message was accepted,
so a failed send is tried again (the server runs this every minute when SMTP is set)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from itertools import groupby
from typing import Any

from crosspromo.config import Settings
from crosspromo.domain import Role
from crosspromo.errors import ConfigError, InvalidInputError, RemoteServerError
from crosspromo.store.database import Database
from crosspromo.store.repositories import OrganizationRepository, UserRepository
from crosspromo.store.repositories.plan import ChecklistRepository

MAX_DAYS = 60


@dataclass(frozen=True, slots=True)
class DueStep:
    item_id: int
    campaign_id: int
    campaign: str
    title: str
    due_on: date


@dataclass(frozen=True, slots=True)
class Reminder:
    org: str
    to: list[str]
    steps: list[DueStep]
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Reminded:
    sent: list[Reminder]
    sent_to_nobody: list[str]  # organizations with steps due but no user to tell


def _message(settings: Settings, name: str, portal: bool, steps: list[DueStep]) -> tuple[
    str, str
]:  # fmt: skip
    base = f"{settings.public_url}{'/portal' if portal else ''}/campaigns"
    lines = [f"Hello {name},", "", "These campaign steps on your side are due soon:", ""]
    lines += [f"- {s.due_on}: {s.title} ({s.campaign}) {base}/{s.campaign_id}" for s in steps]
    lines += ["", "Tick each one on the campaign's page once it is done.", "", "crosspromo"]
    subject = f"{len(steps)} campaign step{'s' if len(steps) != 1 else ''} due soon"
    return subject, "\n".join(lines)


def due_reminders(db: Database, settings: Settings, *, days: int = 2,
                  today: date | None = None) -> tuple[list[Reminder], list[str]]:  # fmt: skip
    """What would be sent: per organization, its open steps due within ``days``."""
    if not 0 <= days <= MAX_DAYS:
        raise InvalidInputError(f"days is 0-{MAX_DAYS}", field="days")
    by = (today or date.today()) + timedelta(days=days)
    found, nobody = [], []
    with db.reading() as session:
        rows = ChecklistRepository(session).due(by)
        orgs = OrganizationRepository(session).many({r["org_id"] for r in rows})
        for org_id, group in groupby(rows, key=lambda r: r["org_id"]):
            steps = [DueStep(r["id"], r["campaign_id"], r["campaign"], r["title"], r["due_on"])
                     for r in group]  # fmt: skip
            users = [u for u in UserRepository(session).for_org(org_id) if u.role != Role.ANALYST]
            if not users:
                nobody.append(orgs[org_id].slug)
                continue
            portal = all(u.role.uses_portal for u in users)
            subject, body = _message(settings, orgs[org_id].name, portal, steps)
            found.append(Reminder(orgs[org_id].slug, [u.email for u in users], steps, subject,
                                  body))  # fmt: skip
    return found, nobody


def send_reminders(db: Database, settings: Settings, *, days: int = 2,
                   today: date | None = None) -> Reminded:  # fmt: skip
    """Send what is due (one message per organization) and mark its steps reminded."""
    if not settings.smtp_host:
        raise ConfigError("set CROSSPROMO_SMTP_HOST (and _SMTP_PORT, _SMTP_USER ...) to send")
    found, nobody = due_reminders(db, settings, days=days, today=today)
    sent = []
    for reminder in found:
        _send(settings, reminder)
        with db.transaction() as session:
            ChecklistRepository(session).reminded([s.item_id for s in reminder.steps])
        sent.append(reminder)
    return Reminded(sent, nobody)


def _send(settings: Settings, reminder: Reminder) -> None:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(reminder.to)
    message["Subject"] = reminder.subject
    message.set_content(reminder.body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            _secure(smtp, settings)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise RemoteServerError(
            f"the mail server {settings.smtp_host}:{settings.smtp_port} refused the reminder "
            f"for {reminder.org}: {exc}"
        ) from exc


def _secure(smtp: Any, settings: Settings) -> None:
    smtp.ehlo()
    if settings.smtp_starttls:
        if not smtp.has_extn("starttls"):
            raise RemoteServerError(
                f"the mail server {settings.smtp_host} offers no STARTTLS; set "
                "CROSSPROMO_SMTP_STARTTLS=false only for a server on a trusted network"
            )
        smtp.starttls()
        smtp.ehlo()
    if settings.smtp_user:
        smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
