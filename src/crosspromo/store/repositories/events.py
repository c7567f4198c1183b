"""The append-only event log, and the record of the sample ecosystem built into a database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from crosspromo.domain import Event
from crosspromo.errors import ConflictError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow


class EventRepository(Repository):
    def append(
        self,
        org_id: int,
        kind: str,
        idempotency_key: str,
        occurred_at: datetime,
        payload: dict[str, Any],
    ) -> tuple[Event, bool]:
        """Append an event once. A replay with the same key and payload returns the stored
        event (created False); the same key with another kind or payload is a ConflictError."""
        stored = self._by_key(org_id, idempotency_key)
        if stored is None:
            values = {
                "org_id": org_id,
                "kind": kind,
                "idempotency_key": idempotency_key,
                "occurred_at": occurred_at,
                "recorded_at": utcnow(),
                "payload": payload,
            }
            try:
                self._insert(t.events, values, "")
                created = True
            except ConflictError:  # lost a race with the same key: compare with the winner
                created = False
            stored = self._by_key(org_id, idempotency_key)
        else:
            created = False
        assert stored is not None
        if not created and (stored.kind != kind or stored.payload != payload):
            raise ConflictError(
                f"idempotency key {idempotency_key!r} was already used for a different event",
                idempotency_key=idempotency_key,
            )
        return stored, created

    def list(self, org_id: int, kind: str | None = None, limit: int = 100) -> list[Event]:
        query = select(t.events).where(t.events.c.org_id == org_id)
        if kind is not None:
            query = query.where(t.events.c.kind == kind)
        rows = self.session.execute(query.order_by(t.events.c.id.desc()).limit(limit))
        return [_event(r) for r in rows]

    def keyed(self, org_ids: Iterable[int], kind: str, key_prefix: str) -> tuple[Event, ...]:
        """Events of ``kind`` recorded by any of ``org_ids`` whose key starts with
        ``key_prefix``, oldest first (a partnership's steps, by either party)."""
        pattern = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.session.execute(
            select(t.events)
            .where(
                t.events.c.org_id.in_(list(org_ids)),
                t.events.c.kind == kind,
                t.events.c.idempotency_key.like(f"{pattern}%", escape="\\"),
            )
            .order_by(t.events.c.occurred_at, t.events.c.id)
        )
        return tuple(_event(r) for r in rows)

    def _by_key(self, org_id: int, key: str) -> Event | None:
        row = self.session.execute(
            select(t.events).where(t.events.c.org_id == org_id, t.events.c.idempotency_key == key)
        ).first()
        return None if row is None else _event(row)


class SampleRunRepository(Repository):
    def add(self, seed: int, scale: int, truth: dict[str, Any], notes: str = "") -> int:
        return self._insert(
            t.sample_runs,
            {"seed": seed, "scale": scale, "truth": truth, "notes": notes, "created_at": utcnow()},
            f"a sample ecosystem with seed {seed} and scale {scale} already exists",
        )

    def latest(self) -> tuple[int, int, dict[str, Any]] | None:
        """(seed, scale, truth) of the sample built into this database, if any."""
        row = self.session.execute(
            select(t.sample_runs).order_by(t.sample_runs.c.id.desc()).limit(1)
        ).first()
        return None if row is None else (row.seed, row.scale, dict(row.truth))


def _event(row: Row[Any]) -> Event:
    return Event(
        row.id,
        row.org_id,
        row.kind,
        row.idempotency_key,
        row.occurred_at,
        row.recorded_at,
        dict(row.payload),
    )
