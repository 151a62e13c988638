"""Migration 0007_campaigns builds exactly the tables of outbound/schema.py (no drift), and goes back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from cdr.db import alembic_config, make_engine, migrate
from cdr.schema import metadata
from outbound.schema import CAMPAIGN_TABLES

TIMEOUT = 60


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return [d for d in compare_metadata(ctx, metadata)
            if any(f"'{t}'" in repr(d) or f"table_name={t!r}" in repr(d) for t in CAMPAIGN_TABLES)]


async def test_migration_builds_the_campaign_tables_exactly(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    try:
        await asyncio.wait_for(migrate(engine), TIMEOUT)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert set(CAMPAIGN_TABLES) <= tables
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_downgrade_removes_the_campaign_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    try:
        await asyncio.wait_for(migrate(engine), TIMEOUT)

        def down(conn: Connection) -> set[str]:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003_recording_status")
            return set(inspect(conn).get_table_names())

        async with engine.begin() as conn:
            tables = await conn.run_sync(down)
        assert not set(CAMPAIGN_TABLES) & tables
        assert "calls" in tables
    finally:
        await engine.dispose()
