"""Checklist reminders through a real SMTP server (aiosmtpd on a free port): each side's users
(not its analysts) get one message listing their steps due soon, each step once; a refused
message marks nothing, so the next run tries again; a mail server without STARTTLS is refused
unless that is switched off."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from crosspromo.config import Settings
from crosspromo.domain import OrgKind, Role
from crosspromo.errors import ConfigError, RemoteServerError
from crosspromo.services.accounts.organizations import create_organization
from crosspromo.services.accounts.users import create_user
from crosspromo.services.plan import campaigns
from crosspromo.services.plan.campaigns import CampaignInput
from crosspromo.services.plan.reminders import due_reminders, send_reminders
from crosspromo.store.database import Database
from tests.conftest import agreed

START = date(2026, 3, 2)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 not today"
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        yield inbox, port
    finally:
        server.stop()


@pytest.fixture
def plan(sqlite_db: Database) -> dict[str, int]:
    db = sqlite_db
    acme = create_organization(db, "acme", "Acme Gear", OrgKind.BRAND).id
    create_organization(db, "beans", "Beans Coffee", OrgKind.PARTNER)
    for email, org, role in [("owner@acme.test", "acme", Role.OWNER),
                             ("numbers@acme.test", "acme", Role.ANALYST),
                             ("pat@beans.test", "beans", Role.PARTNER)]:  # fmt: skip
        create_user(db, org, email, "a-long-password-1", role)
    made = campaigns.create_campaign(
        db,
        acme,
        CampaignInput(
            "Spring swap", "email_swap", START, date(2026, 3, 31), [agreed(db, acme, "beans")]
        ),
    )
    return {"acme": acme, "campaign": made.id}


def _settings(db: Database, port: int, **more: object) -> Settings:
    return db.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port,
                                          "smtp_starttls": False, **more})  # fmt: skip


def test_each_side_hears_of_its_steps_once(
    sqlite_db: Database, plan: dict[str, int], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = _settings(sqlite_db, port)
    view = campaigns.get_campaign(sqlite_db, plan["acme"], plan["campaign"])
    first_day = [c for c in view.checklist if c.due_on == START]
    assert {c.org for c in first_day} == {"acme", "beans"}
    done = next(c for c in first_day if c.org == "acme")
    campaigns.mark_step(sqlite_db, plan["acme"], plan["campaign"], done.id, "owner@acme.test")
    made = send_reminders(sqlite_db, settings, days=1, today=date(2026, 3, 1))
    assert [r.org for r in made.sent] == ["acme", "beans"]
    by_to = {tuple(to): message for to, message in inbox.messages}
    assert set(by_to) == {("owner@acme.test",), ("pat@beans.test",)}  # not the analyst
    acme_mail = by_to[("owner@acme.test",)].get_content()
    due = [c for c in view.checklist if c.due_on <= date(2026, 3, 2)]
    assert acme_mail.count("\n- ") == sum(c.org == "acme" for c in due) - 1  # one was done
    assert f"http://127.0.0.1:8000/campaigns/{plan['campaign']}" in acme_mail
    assert "/portal/campaigns/" in by_to[("pat@beans.test",)].get_content()
    assert by_to[("pat@beans.test",)]["Subject"].endswith("due soon")
    again = send_reminders(sqlite_db, settings, days=1, today=date(2026, 3, 1))
    assert again.sent == []
    assert len(inbox.messages) == 2  # each step once
    later = send_reminders(sqlite_db, settings, days=30, today=date(2026, 3, 1))
    assert {r.org for r in later.sent} == {"acme", "beans"}
    assert all(s.due_on > START for r in later.sent for s in r.steps)


def test_a_refused_message_is_sent_again_next_time(
    sqlite_db: Database, plan: dict[str, int], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = _settings(sqlite_db, port)
    inbox.refuse = True
    with pytest.raises(RemoteServerError, match="refused the reminder for acme"):
        send_reminders(sqlite_db, settings, days=1, today=date(2026, 3, 1))
    waiting, _ = due_reminders(sqlite_db, settings, days=1, today=date(2026, 3, 1))
    assert [r.org for r in waiting] == ["acme", "beans"]  # nothing marked
    inbox.refuse = False
    assert len(send_reminders(sqlite_db, settings, days=1, today=date(2026, 3, 1)).sent) == 2


def test_mail_settings_are_required_and_starttls_is_the_default(
    sqlite_db: Database, plan: dict[str, int], smtp: tuple[Inbox, int]
) -> None:
    with pytest.raises(ConfigError, match="CROSSPROMO_SMTP_HOST"):
        send_reminders(sqlite_db, sqlite_db.settings)
    strict = _settings(sqlite_db, smtp[1], smtp_starttls=True)
    with pytest.raises(RemoteServerError, match="offers no STARTTLS"):
        send_reminders(sqlite_db, strict, days=1, today=date(2026, 3, 1))
    assert smtp[0].messages == []
