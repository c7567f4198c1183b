"""Sharing levels and overlap protocol sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, or_, select, update

from crosspromo.domain.overlap import OverlapSession, SessionStatus, SharingLevel
from crosspromo.errors import NotFoundError
from crosspromo.store import tables as t
from crosspromo.store.repositories.base import Repository, utcnow

_SUMMARY = [c for c in t.overlap_sessions.c if c.name != "points"]


class OverlapRepository(Repository):
    def level(self, org_id: int) -> SharingLevel:
        found = self.session.execute(
            select(t.overlap_sharing.c.level).where(t.overlap_sharing.c.org_id == org_id)
        ).scalar_one_or_none()
        return SharingLevel(found) if found else SharingLevel.HIDDEN

    def set_level(self, org_id: int, level: SharingLevel) -> None:
        values = {"org_id": org_id, "level": str(level), "updated_at": utcnow()}
        self._upsert(t.overlap_sharing, values)

    def add(self, values: dict[str, Any]) -> None:
        self.session.execute(t.overlap_sessions.insert().values(**values))

    def get(self, session_id: str) -> OverlapSession:
        row = self.session.execute(
            select(*_SUMMARY).where(t.overlap_sessions.c.id == session_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no overlap session {session_id!r}", session=session_id)
        return _session(row)

    def points(self, session_id: str) -> bytes:
        return bytes(
            self.session.execute(
                select(t.overlap_sessions.c.points).where(t.overlap_sessions.c.id == session_id)
            ).scalar_one()
        )

    def move(
        self,
        session_id: str,
        current: SessionStatus,
        target: SessionStatus,
        result: dict[str, Any] | None = None,
    ) -> bool:
        """Move the session from ``current`` to ``target``; False when another request got
        there first (a replayed or concurrent message)."""
        s = t.overlap_sessions.c
        values: dict[str, Any] = {"status": str(target)}
        if result is not None:
            values["result"] = result
        if target in (SessionStatus.DONE, SessionStatus.REVOKED):
            values["finished_at"] = utcnow()
            values["points"] = b""  # nothing blinded is kept once it is of no more use
        done = self.session.execute(
            update(t.overlap_sessions)
            .where(s.id == session_id, s.status == str(current))
            .values(**values)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def revoke_open(self, org_id: int) -> int:
        s = t.overlap_sessions.c
        done = self.session.execute(
            update(t.overlap_sessions)
            .where(
                or_(s.org_id == org_id, s.partner_org_id == org_id),
                s.status.in_([str(SessionStatus.OPEN), str(SessionStatus.ANSWERED)]),
            )
            .values(status=str(SessionStatus.REVOKED), finished_at=utcnow(), points=b"")
        )
        return int(done.rowcount)  # type: ignore[attr-defined]

    def for_org(self, org_id: int, since: datetime | None = None) -> list[OverlapSession]:
        s = t.overlap_sessions.c
        query = select(*_SUMMARY).where(or_(s.org_id == org_id, s.partner_org_id == org_id))
        if since is not None:
            query = query.where(s.created_at >= since)
        return [_session(r) for r in self.session.execute(query.order_by(s.created_at.desc()))]


def _session(row: Row[Any]) -> OverlapSession:
    return OverlapSession(
        id=row.id,
        org_id=row.org_id,
        partner_org_id=row.partner_org_id,
        disclosure=row.disclosure,
        groups=tuple((str(a), int(b)) for a, b in row.groups),
        status=SessionStatus(row.status),
        max_bytes=int(row.max_bytes),
        result=row.result,
        created_at=row.created_at,
        expires_at=row.expires_at,
        finished_at=row.finished_at,
    )
