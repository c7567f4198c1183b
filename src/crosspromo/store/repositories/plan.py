"""Campaigns, who takes part in them, their checklists and calendars; blackout periods,
calendar rules and calendar feeds. An organization sees a campaign only when it takes part."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update

from crosspromo.domain.plan import Blackout, CalendarItem, CalendarRules, ItemKind
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow

MISSING = "no such campaign"
# What may be put in a campaign: each kind's table and the column that names a row of it.
ATTACHABLE: dict[str, tuple[Any, str]] = {
    "link": (t.links, "code"),
    "code": (t.partner_codes, "code"),
    "experiment": (t.experiments, "id"),
}


class CampaignRepository(Repository):
    def add(
        self, org_id: int, values: dict[str, Any], partnerships: Sequence[int],
        parties: Sequence[tuple[int, int, str]],
    ) -> int:  # fmt: skip
        """A campaign of ``org_id`` under ``partnerships``, with ``parties`` (organization,
        share of the budget in basis points, owner)."""
        now = utcnow()
        new_id = self._insert(
            t.campaigns, {**values, "org_id": org_id, "created_at": now, "updated_at": now},
            "a campaign like this exists",
        )  # fmt: skip
        self.session.execute(
            insert(t.campaign_partnerships),
            [{"campaign_id": new_id, "partnership_id": p} for p in partnerships],
        )
        self.session.execute(
            insert(t.campaign_parties),
            [{"campaign_id": new_id, "org_id": o, "share_bp": s, "owner": w}
             for o, s, w in parties],
        )  # fmt: skip
        return new_id

    def _visible(self, org_id: int) -> Any:
        p = t.campaign_parties.c
        return select(p.campaign_id).where(p.org_id == org_id)

    def get(self, org_id: int, campaign_id: int, *, lock: bool = False) -> dict[str, Any]:
        """The campaign, if ``org_id`` takes part in it (else not found)."""
        c = t.campaigns.c
        query = select(t.campaigns).where(c.id == campaign_id, c.id.in_(self._visible(org_id)))
        if lock:
            query = query.with_for_update()
        row = self.session.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(MISSING, campaign_id=campaign_id)
        return dict(row)

    def for_org(self, org_id: int) -> list[dict[str, Any]]:
        c = t.campaigns.c
        rows = self.session.execute(
            select(t.campaigns).where(c.id.in_(self._visible(org_id)))
            .order_by(c.starts_on.desc(), c.id.desc())
        ).mappings()  # fmt: skip
        return [dict(r) for r in rows]

    def parties(self, campaign_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """Per campaign, its parties (org id, slug, name, share, owner) in the order added."""
        p, o = t.campaign_parties.c, t.organizations.c
        rows = self.session.execute(
            select(p.campaign_id, p.org_id, o.slug, o.name, p.share_bp, p.owner)
            .join(t.organizations, o.id == p.org_id)
            .where(p.campaign_id.in_(list(campaign_ids)))
        ).mappings()
        found: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            found[row["campaign_id"]].append(dict(row))
        return found

    def partnerships(self, campaign_ids: Sequence[int]) -> dict[int, list[int]]:
        c = t.campaign_partnerships.c
        found: dict[int, list[int]] = defaultdict(list)
        for campaign, partnership in self.session.execute(
            select(c.campaign_id, c.partnership_id).where(c.campaign_id.in_(list(campaign_ids)))
        ):
            found[campaign].append(partnership)
        return found

    def update(self, campaign_id: int, **values: Any) -> None:
        self.session.execute(
            update(t.campaigns).where(t.campaigns.c.id == campaign_id)
            .values(**values, updated_at=utcnow())
        )  # fmt: skip

    def own(self, kind: str, org_id: int, key: str | int) -> tuple[int | None, int | None]:
        """(the partner it names, the campaign it is in) of the organization's link, code or
        experiment ``key``; not found when the organization has none by that key."""
        table, column = ATTACHABLE[kind]
        row = self.session.execute(
            select(table.c.partner_org_id, table.c.campaign_id)
            .where(table.c.org_id == org_id, table.c[column] == key)
        ).first()  # fmt: skip
        if row is None:
            raise NotFoundError(f"no {kind} {key!r}", field=kind)
        return row[0], row[1]

    def put_in(self, kind: str, org_id: int, key: str | int, campaign_id: int | None) -> None:
        """Name the campaign (None: none) of the organization's link, code or experiment."""
        table, column = ATTACHABLE[kind]
        self.session.execute(
            update(table).where(table.c.org_id == org_id, table.c[column] == key)
            .values(campaign_id=campaign_id)
        )  # fmt: skip

    def attached(self, org_id: int, campaign_id: int) -> dict[str, list[Any]]:
        """Per kind (link, code, experiment), the keys of the organization's in the campaign."""
        found: dict[str, list[Any]] = {}
        for kind, (table, column) in ATTACHABLE.items():
            key = table.c[column]
            rows = self.session.execute(
                select(key).where(table.c.org_id == org_id, table.c.campaign_id == campaign_id)
                .order_by(key)
            )  # fmt: skip
            found[kind] = [r[0] for r in rows]
        return found

    def figures(self, org_id: int, campaign_id: int) -> dict[str, Any]:
        """Clicks (not bots) on the organization's links in the campaign, and the conversions
        through those links or its codes in the campaign: per kind, count and amount per
        currency."""
        k, v = t.clicks.c, t.conversions.c
        links = select(t.links.c.id).where(
            t.links.c.org_id == org_id, t.links.c.campaign_id == campaign_id
        )
        codes = select(t.partner_codes.c.id).where(
            t.partner_codes.c.org_id == org_id, t.partner_codes.c.campaign_id == campaign_id
        )
        clicks = self.session.execute(
            select(func.count()).where(
                k.org_id == org_id, k.link_id.in_(links), k.is_bot.is_(False)
            )
        ).scalar_one()
        rows = self.session.execute(
            select(v.kind, v.currency, func.count(), func.sum(v.amount_minor))
            .where(v.org_id == org_id, or_(v.link_id.in_(links), v.code_id.in_(codes)))
            .group_by(v.kind, v.currency)
        )
        counts: dict[str, int] = defaultdict(int)
        amounts: dict[str, dict[str, int]] = defaultdict(dict)
        for kind, currency, count, amount in rows:
            counts[kind] += int(count)
            if currency:
                amounts[kind][currency] = amounts[kind].get(currency, 0) + int(amount or 0)
        return {"clicks": int(clicks), "counts": dict(counts), "amounts": dict(amounts)}


class ChecklistRepository(Repository):
    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(t.checklist_items), list(rows))

    def for_campaign(self, campaign_id: int) -> list[dict[str, Any]]:
        c, o = t.checklist_items.c, t.organizations.c
        rows = self.session.execute(
            select(t.checklist_items, o.slug.label("org"))
            .join(t.organizations, o.id == c.org_id)
            .where(c.campaign_id == campaign_id)
            .order_by(c.position)
        ).mappings()
        return [dict(r) for r in rows]

    def mark(self, campaign_id: int, item_id: int, done_by: str | None) -> None:
        c = t.checklist_items.c
        done = self.session.execute(
            update(t.checklist_items)
            .where(c.id == item_id, c.campaign_id == campaign_id)
            .values(done_at=utcnow() if done_by else None, done_by=done_by)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError("no such checklist item", item_id=item_id)

    def due(self, by: date, org_id: int | None = None) -> list[dict[str, Any]]:
        """Open items (of ``org_id``'s side, or every side) due by ``by`` and not reminded of
        yet, in campaigns still running, with the campaign's name; by side, then due day."""
        c, k = t.checklist_items.c, t.campaigns.c
        query = (
            select(t.checklist_items, k.name.label("campaign"))
            .join(t.campaigns, k.id == c.campaign_id)
            .where(c.done_at.is_(None), c.reminded_at.is_(None), c.due_on <= by,
                   k.status.not_in(("done", "cancelled")))
            .order_by(c.org_id, c.due_on, c.id)
        )  # fmt: skip
        if org_id is not None:
            query = query.where(c.org_id == org_id)
        return [dict(r) for r in self.session.execute(query).mappings()]

    def reminded(self, item_ids: Sequence[int]) -> int:
        """Mark the items reminded of (those not marked already); how many were."""
        c = t.checklist_items.c
        done = self.session.execute(
            update(t.checklist_items)
            .where(c.id.in_(list(item_ids)), c.reminded_at.is_(None))
            .values(reminded_at=utcnow())
        )
        return int(done.rowcount)  # type: ignore[attr-defined]


class CalendarRepository(Repository):
    def add(self, values: dict[str, Any]) -> int:
        now = utcnow()
        return self._insert(t.calendar_items, {**values, "created_at": now, "updated_at": now},
                            "such a calendar item exists")  # fmt: skip

    def remove(self, campaign_id: int, item_id: int) -> None:
        c = t.calendar_items.c
        done = self.session.execute(
            delete(t.calendar_items).where(c.id == item_id, c.campaign_id == campaign_id)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError("no such calendar item", item_id=item_id)

    def visible(self, org_id: int, campaign_id: int | None = None) -> list[CalendarItem]:
        """The items of every campaign ``org_id`` takes part in (or of one of them), with
        their campaigns' parties."""
        c, k, o = t.calendar_items.c, t.campaigns.c, t.organizations.c
        p = t.campaign_parties.c
        query = (
            select(t.calendar_items, k.name.label("campaign"), o.slug.label("org"))
            .join(t.campaigns, k.id == c.campaign_id)
            .join(t.organizations, o.id == c.org_id)
            .where(c.campaign_id.in_(select(p.campaign_id).where(p.org_id == org_id)))
            .order_by(c.starts_at, c.id)
        )
        if campaign_id is not None:
            query = query.where(c.campaign_id == campaign_id)
        rows = [dict(r) for r in self.session.execute(query).mappings()]
        parties: dict[int, list[str]] = defaultdict(list)
        ids = sorted({r["campaign_id"] for r in rows})
        for campaign, slug in self.session.execute(
            select(p.campaign_id, o.slug).join(t.organizations, o.id == p.org_id)
            .where(p.campaign_id.in_(ids))
        ):  # fmt: skip
            parties[campaign].append(slug)
        return [
            CalendarItem(
                r["id"],
                r["campaign_id"],
                r["campaign"],
                r["org"],
                ItemKind(r["kind"]),
                r["title"],
                r["starts_at"],
                r["timezone"],
                r["channel"],
                r["audience"],
                tuple(sorted(parties[r["campaign_id"]])),
            )
            for r in rows
        ]


class BlackoutRepository(Repository):
    def add(self, org_id: int, starts_on: date, ends_on: date, reason: str) -> int:
        return self._insert(t.blackouts, {"org_id": org_id, "starts_on": starts_on,
                                          "ends_on": ends_on, "reason": reason,
                                          "created_at": utcnow()}, "")  # fmt: skip

    def for_org(self, org_id: int) -> list[Blackout]:
        b = t.blackouts.c
        rows = self.session.execute(
            select(b.id, b.starts_on, b.ends_on, b.reason).where(b.org_id == org_id)
            .order_by(b.starts_on, b.id)
        )  # fmt: skip
        return [Blackout(*r) for r in rows]

    def remove(self, org_id: int, blackout_id: int) -> None:
        b = t.blackouts.c
        done = self.session.execute(
            delete(t.blackouts).where(b.id == blackout_id, b.org_id == org_id)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError("no such blackout", blackout_id=blackout_id)


class PlanSettingsRepository(Repository):
    def get(self, org_id: int) -> CalendarRules:
        s = t.plan_settings.c
        row = self.session.execute(
            select(s.min_gap_days, s.weekly_max, s.launch_days, s.timezone).where(
                s.org_id == org_id
            )
        ).first()
        return CalendarRules() if row is None else CalendarRules(*row)

    def save(self, org_id: int, rules: CalendarRules) -> None:
        self._upsert(t.plan_settings, {
            "org_id": org_id, "min_gap_days": rules.min_gap_days,
            "weekly_max": rules.weekly_max, "launch_days": rules.launch_days,
            "timezone": rules.timezone, "updated_at": utcnow(),
        })  # fmt: skip


class FeedRepository(Repository):
    def add(self, org_id: int, campaign_id: int | None, digest: str) -> int:
        return self._insert(t.calendar_feeds, {"org_id": org_id, "campaign_id": campaign_id,
                                               "token_digest": digest,
                                               "created_at": utcnow()}, "")  # fmt: skip

    def by_digest(self, digest: str) -> dict[str, Any] | None:
        f = t.calendar_feeds.c
        row = self.session.execute(
            select(t.calendar_feeds).where(f.token_digest == digest, f.revoked_at.is_(None))
        ).mappings().first()  # fmt: skip
        return None if row is None else dict(row)

    def for_org(self, org_id: int) -> list[dict[str, Any]]:
        f = t.calendar_feeds.c
        rows = self.session.execute(
            select(t.calendar_feeds).where(f.org_id == org_id, f.revoked_at.is_(None))
            .order_by(f.id)
        ).mappings()  # fmt: skip
        return [dict(r) for r in rows]

    def revoke(self, org_id: int, feed_id: int) -> None:
        f = t.calendar_feeds.c
        done = self.session.execute(
            update(t.calendar_feeds)
            .where(f.id == feed_id, f.org_id == org_id, f.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise NotFoundError("no such calendar feed", feed_id=feed_id)
