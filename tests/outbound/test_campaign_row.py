"""The campaign's row is made once, whoever comes first: the daemon starting the campaign and an admin
importing its contacts at the same moment both get its id (an IntegrityError once failed one of them)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cdr.db import make_engine, migrate
from outbound.schema import campaign_row, campaigns

AT = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


async def test_the_loser_of_the_insert_reads_the_winners_row(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    db, other = make_engine(url), make_engine(url)
    inserting = asyncio.Event()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO campaigns"):
            inserting.set()  # the loser looked, found nothing, and now inserts

    event.listen(other.sync_engine, "before_cursor_execute", before)
    try:
        async with asyncio.timeout(60):
            await migrate(db)
            async with db.connect() as winner:
                await winner.begin()
                await winner.execute(campaigns.insert().values(name="survey", created_at=AT))
                loser = asyncio.create_task(_row(other))
                await inserting.wait()  # its insert now waits for the winner's transaction
                await winner.commit()
            lost = await loser
            async with db.connect() as conn:
                assert (await conn.execute(select(campaigns.c.id))).scalars().all() == [lost]
                assert (await conn.execute(select(func.count()).select_from(campaigns))).scalar() == 1
    finally:
        await db.dispose()
        await other.dispose()


async def _row(db: AsyncEngine) -> int:
    async with db.begin() as conn:
        return await campaign_row(conn, "survey", "a survey", AT)
