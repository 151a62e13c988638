"""The access trail of personal data (R28): every listen, download, delete, search, evaluation.

Written in the same request that serves the data, before the data goes out: an access the trail cannot
record is refused by the caller rather than served unaudited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from recording.schema import ACCESS_ACTIONS, recording_access_log


async def record_access(db: AsyncEngine, *, user: str, role: str, action: str, at: datetime,
                        recording_id: int | None = None, call_id: str | None = None,
                        remote: str | None = None, detail: str | None = None) -> None:
    if action not in ACCESS_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    async with db.begin() as conn:
        await conn.execute(recording_access_log.insert().values(
            user_name=user, role=role, action=action, at=at, recording_id=recording_id, call_id=call_id,
            remote=remote, detail=detail))


async def access_log(db: AsyncEngine, *, recording_id: int | None = None,
                     limit: int = 1000) -> list[dict[str, Any]]:
    query = select(recording_access_log).order_by(recording_access_log.c.id.desc()).limit(limit)
    if recording_id is not None:
        query = query.where(recording_access_log.c.recording_id == recording_id)
    async with db.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]
