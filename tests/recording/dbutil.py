"""A fresh SQLite database with the CDR and recording tables, and a way to add CDR ``calls`` rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

import recording.schema  # noqa: F401  (registers the recording tables on cdr.schema.metadata)
from cdr.db import make_engine, migrate
from cdr.schema import calls


async def make_db(tmp_path: Path) -> AsyncEngine:
    """Through the real migrations (0001 + 0002_recordings), as the daemon creates its database."""
    db = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    await migrate(db)
    return db


async def add_call(db: AsyncEngine, call_id: str, *, caller: str = "+77011234567", agent: str | None = "a1",
                   queue: str | None = "general", topic: str | None = None,
                   arrived_at: datetime | None = None) -> None:
    values: dict[str, Any] = dict(id=call_id, caller=caller, agent=agent, queue=queue, topic=topic,
                                  arrived_at=arrived_at or datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
    async with db.begin() as conn:
        await conn.execute(calls.insert().values(**values))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
