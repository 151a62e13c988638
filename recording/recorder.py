"""The daemon's side of recording: the name to give ARI, the row, and what ARI's recording events mean.

Flow (the engine calls these; ARI does the recording):
1. caller and agent are in the bridge: ``name = recorder.name_for(call_id, now)``;
   ``await recorder.started(call_id, name, now, agent_id=...)``; ARI ``bridges.record(bridge, name, fmt)``.
2. ``RecordingFinished`` (its ``recording.name``): ``await recorder.finished(name, now)`` measures the file.
3. ``RecordingFailed``: ``await recorder.failed(name, cause, now)``.

A database outage must not cost a call or a recording (R27): ``started`` remembers what it was told, so
if its insert failed, ``finished`` inserts the row then. A failure of ``finished`` itself is raised to the
caller, which retries or logs; the file is on disk either way and a later ``finished`` fills the row in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from recording import store
from recording.layout import recording_name
from recording.schema import recordings

log = structlog.get_logger("recording")


@dataclass(frozen=True)
class _Started:
    call_id: str
    started_at: float
    kind: str
    agent_id: str | None


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class Recorder:
    def __init__(self, db: AsyncEngine, *, root: Path, tz: tzinfo, fmt: str = "wav") -> None:
        self.db = db
        self.root = root
        self.tz = tz
        self.fmt = fmt
        self._pending: dict[str, _Started] = {}

    def name_for(self, call_id: str, started_at: float, suffix: str = "") -> str:
        return recording_name(call_id, started_at, self.tz, suffix=suffix)

    async def started(self, call_id: str, name: str, started_at: float, *, kind: str = "call",
                      agent_id: str | None = None) -> int | None:
        """Register the recording; None (logged) when the database is unreachable right now."""
        self._pending[name] = _Started(call_id, started_at, kind, agent_id)
        try:
            return await store.register_started(self.db, call_id=call_id, name=name, fmt=self.fmt,
                                                started_at=_dt(started_at), kind=kind, agent_id=agent_id)
        except SQLAlchemyError as exc:
            log.warning("recording_register_failed", call_id=call_id, recording=name, error=str(exc))
            return None

    async def _id_of(self, name: str) -> int | None:
        async with self.db.connect() as conn:
            value = (await conn.execute(select(recordings.c.id).where(recordings.c.name == name))).scalar()
        if value is not None:
            return int(value)
        known = self._pending.get(name)
        if known is None:
            return None
        return await store.register_started(self.db, call_id=known.call_id, name=name, fmt=self.fmt,
                                            started_at=_dt(known.started_at), kind=known.kind,
                                            agent_id=known.agent_id)

    async def finished(self, name: str, ended_at: float) -> dict[str, Any] | None:
        """Measure the file and mark the row done (or missing); None for a recording we never started."""
        rec_id = await self._id_of(name)
        if rec_id is None:
            log.warning("recording_unknown", recording=name)
            return None
        row = await store.finish(self.db, rec_id, root=self.root, ended_at=_dt(ended_at))
        self._pending.pop(name, None)
        return row

    async def failed(self, name: str, reason: str, ended_at: float | None = None) -> None:
        rec_id = await self._id_of(name)
        if rec_id is None:
            log.warning("recording_unknown", recording=name, reason=reason)
            return
        await store.mark_failed(self.db, rec_id, reason, ended_at=_dt(ended_at) if ended_at else None)
        self._pending.pop(name, None)
