"""Recordings whose row still says ``recording`` although their call is over: find them, so they can be
finished from the file on disk.

A row is finished by a ``RecordingFinished`` (or ``RecordingFailed``) event. That event can be lost: the
daemon was killed between the event and its row, Asterisk destroyed the bridge before sending it (issue 11
§3), a WebSocket gap. Left alone, such a row stays ``recording`` forever: the API answers 409 "still
recording", retention never purges it (R14), ``calls.recording_status`` never settles.

Decision (docs/decisions/recording-01-stuck-rows.md): a row is stuck when its call ended more than
``grace_s`` ago (Asterisk has closed the file by then), or, for a row whose call has no end (no CDR row,
or a call that never ended in the CDR), when it started more than ``max_age_s`` ago. The daemon looks at
start-up and then periodically; the row is finished from the file (``done`` with its size, hash and
duration, or ``missing``) through the CDR writer, like any other finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.schema import calls, recordings

GRACE_S = 120.0
"""After its call ended, a recording has this long to report its end before it is reconciled."""
MAX_AGE_S = 24 * 3600.0
"""A recording whose call never ended in the CDR is reconciled this long after it started."""


@dataclass(frozen=True)
class StuckRecording:
    name: str
    call_id: str
    path: str
    fmt: str
    started_at: datetime
    call_ended_at: datetime | None

    @property
    def ended_at(self) -> datetime:
        """The best end time known: the call's end, else the start (the file's duration tells the rest)."""
        return self.call_ended_at or self.started_at


async def stuck_recordings(db: AsyncEngine, now: datetime, *, grace_s: float = GRACE_S,
                           max_age_s: float = MAX_AGE_S, limit: int = 1000) -> list[StuckRecording]:
    """Rows at ``recording`` whose call ended more than ``grace_s`` before ``now``, or that started more
    than ``max_age_s`` before it; oldest first."""
    r = recordings.c
    call_over = and_(calls.c.ended_at.is_not(None), calls.c.ended_at < now - timedelta(seconds=grace_s))
    query = (select(r.name, r.call_id, r.path, r.format, r.started_at, calls.c.ended_at)
             .select_from(recordings.outerjoin(calls, calls.c.id == r.call_id))
             .where(r.status == "recording",
                    or_(call_over, r.started_at < now - timedelta(seconds=max_age_s)))
             .order_by(r.started_at).limit(limit))
    async with db.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [StuckRecording(name, call_id, path, fmt, started, ended)
            for name, call_id, path, fmt, started, ended in rows]
