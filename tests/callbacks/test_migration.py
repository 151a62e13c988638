"""Migration 0010_callbacks_deadlines builds the new callback columns and the webhook outbox exactly as
declared (no drift), and goes back to 0007_campaigns."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from cdr.db import alembic_config, make_engine, migrate
from cdr.schema import metadata

TIMEOUT = 60
TABLES = ("callbacks", "webhook_outbox")


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return [d for d in compare_metadata(ctx, metadata)
            if any(f"'{t}'" in repr(d) or f"table_name={t!r}" in repr(d) for t in TABLES)]


async def test_upgrade_matches_the_schema_and_downgrade_goes_back(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await asyncio.wait_for(migrate(engine), TIMEOUT)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []

        def down(conn: Connection) -> tuple[set[str], set[str]]:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0007_campaigns")
            insp = inspect(conn)
            return set(insp.get_table_names()), {c["name"] for c in insp.get_columns("callbacks")}

        async with engine.begin() as conn:
            tables, columns = await conn.run_sync(down)
        assert "webhook_outbox" not in tables and "campaigns" in tables
        assert "ticket_id" not in columns and "due_at" in columns
    finally:
        await engine.dispose()
