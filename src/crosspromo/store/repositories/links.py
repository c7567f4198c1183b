"""Allow-listed destination domains, tracking links, clicks and daily visitor salts."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from crosspromo.domain.links import Link
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow
from crosspromo.store.repositories.rows import add_rows, add_values
from crosspromo.store.repositories.stats import Window


class DomainRepository(Repository):
    def add(self, org_id: int, domain: str) -> bool:
        """Allow ``domain``; False when it was allowed already."""
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(t.allowed_domains).values(
                        org_id=org_id, domain=domain, created_at=utcnow()
                    )
                )
        except IntegrityError:
            return False
        return True

    def remove(self, org_id: int, domain: str) -> None:
        result = self.session.execute(
            delete(t.allowed_domains).where(
                t.allowed_domains.c.org_id == org_id, t.allowed_domains.c.domain == domain
            )
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError(f"{domain!r} is not on this organization's allow-list")

    def list(self, org_id: int) -> frozenset[str]:
        rows = self.session.execute(
            select(t.allowed_domains.c.domain).where(t.allowed_domains.c.org_id == org_id)
        )
        return frozenset(r[0] for r in rows)


class LinkRepository(Repository):
    def add(
        self, org_id: int, partner_org_id: int, code: str, destination: str, campaign: str
    ) -> Link:
        """Insert a link; ConflictError (from the base) when the code is taken."""
        now = utcnow()
        values = {
            "org_id": org_id,
            "partner_org_id": partner_org_id,
            "code": code,
            "destination": destination,
            "campaign": campaign,
            "active": True,
            "created_at": now,
        }
        link_id = self._insert(t.links, values, f"the code {code!r} is already taken")
        return Link(link_id, org_id, partner_org_id, code, destination, campaign, now)

    def by_code(self, code: str) -> Link | None:
        """Any organization's link by code: the redirect path needs no tenant."""
        row = self.session.execute(select(t.links).where(t.links.c.code == code)).first()
        return None if row is None else _link(row)

    def get_for_org(self, org_id: int, code: str) -> Link:
        row = self.session.execute(
            select(t.links).where(t.links.c.code == code, t.links.c.org_id == org_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no link with code {code!r}")
        return _link(row)

    def set_active(self, org_id: int, code: str, active: bool) -> Link:
        """Pause (inactive: its short URL answers 404) or resume the organization's link."""
        self._set_active(t.links, org_id, code, active, f"no link with code {code!r}")
        return self.get_for_org(org_id, code)

    def for_partner(self, partner_org_id: int) -> list[Link]:
        """Links any brand issued to this partner."""
        rows = self.session.execute(
            select(t.links).where(t.links.c.partner_org_id == partner_org_id).order_by(t.links.c.id)
        )
        return [_link(r) for r in rows]

    def for_org(self, org_id: int) -> list[Link]:
        rows = self.session.execute(
            select(t.links).where(t.links.c.org_id == org_id).order_by(t.links.c.id)
        )
        return [_link(r) for r in rows]


class ClickRepository(Repository):
    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store clicks; one whose click id is stored already is left out (a click read twice
        from a journal, were its position ever lost, is stored once all the same)."""
        add_rows(self.session, t.clicks, rows, skip_duplicates_of=("click_id",))

    def add_values(self, columns: tuple[str, ...], values: Sequence[Sequence[Any]]) -> None:
        """``add_many`` for clicks given as their values in ``columns`` order, the time as ISO
        8601 text (the click journal's lines, ``rows.add_values``)."""
        add_values(self.session, t.clicks, columns, values, skip_duplicates_of=("click_id",))

    def by_click_ids(self, click_ids: set[str]) -> dict[str, tuple[int, int, int]]:
        """(link id, organization id, partner organization id) of each known click id."""
        c = t.clicks.c
        found: dict[str, tuple[int, int, int]] = {}
        wanted = sorted(click_ids)
        for start in range(0, len(wanted), 500):
            rows = self.session.execute(
                select(c.click_id, c.link_id, c.org_id, c.partner_org_id).where(
                    c.click_id.in_(wanted[start : start + 500])
                )
            )
            found.update({r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows})
        return found

    def count_by_click_ids(self, click_ids: Sequence[str]) -> dict[str, int]:
        """How many rows each click id has (a test of exactly-once storage)."""
        found: dict[str, int] = {}
        for start in range(0, len(click_ids), 500):
            chunk = click_ids[start : start + 500]
            rows = self.session.execute(
                select(t.clicks.c.click_id, func.count())
                .where(t.clicks.c.click_id.in_(chunk))
                .group_by(t.clicks.c.click_id)
            )
            found.update({r[0]: int(r[1]) for r in rows})
        return found

    def link_counts(self, link_id: int, window: Window | None = None) -> tuple[int, int, int]:
        """(human clicks, unique human clicks, bot clicks) of one link, in [start, end) of
        ``window`` if given."""
        c = t.clicks.c
        human = c.is_bot.is_(False)
        within = [] if window is None else [c.clicked_at >= window[0], c.clicked_at < window[1]]
        row = self.session.execute(
            select(
                func.count().filter(human),
                func.count(c.visit_key.distinct()).filter(human),
                func.count().filter(c.is_bot.is_(True)),
            ).where(c.link_id == link_id, *within)
        ).one()
        return int(row[0]), int(row[1]), int(row[2])


class SaltRepository(Repository):
    def for_day(self, day: str) -> str:
        """The visitor salt of ``day`` (YYYY-MM-DD), created on first use; older ones are
        deleted so yesterday's hashes can no longer be recomputed."""
        row = self.session.execute(
            select(t.visitor_salts.c.salt).where(t.visitor_salts.c.day == day)
        ).first()
        if row is not None:
            return str(row[0])
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(t.visitor_salts).values(day=day, salt=secrets.token_hex(32))
                )
        except IntegrityError:
            pass  # another worker made it first
        self.session.execute(delete(t.visitor_salts).where(t.visitor_salts.c.day < day))
        row = self.session.execute(
            select(t.visitor_salts.c.salt).where(t.visitor_salts.c.day == day)
        ).one()
        return str(row[0])


def _link(row: Row[Any]) -> Link:
    return Link(
        row.id,
        row.org_id,
        row.partner_org_id,
        row.code,
        row.destination,
        row.campaign,
        row.created_at,
        bool(row.active),
    )


class ClickJournalRepository(Repository):
    """How far each click journal is stored (``tracking.mover``)."""

    def positions(self, names: Sequence[str]) -> dict[str, int]:
        c = t.click_journals.c
        rows = self.session.execute(select(c.name, c.position).where(c.name.in_(list(names))))
        return {name: int(position) for name, position in rows}

    def set_positions(self, positions: dict[str, int]) -> None:
        c = t.click_journals.c
        for name, position in positions.items():
            moved = self.session.execute(
                update(t.click_journals).where(c.name == name).values(position=position)
            )
            if not moved.rowcount:  # type: ignore[attr-defined]
                self.session.execute(insert(t.click_journals).values(name=name, position=position))

    def forget(self, name: str) -> None:
        self.session.execute(delete(t.click_journals).where(t.click_journals.c.name == name))
