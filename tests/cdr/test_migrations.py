"""The published schema is what the migrations build: no drift between cdr/schema.py and the versions."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from cdr.db import make_engine, migrate
from cdr.schema import CDR_TABLES, metadata


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return [d for d in compare_metadata(ctx, metadata)
            if any(f"'{t}'" in repr(d) or f"table_name={t!r}" in repr(d) for t in CDR_TABLES)]


async def test_migrations_build_exactly_the_published_schema(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        await migrate(engine)                                  # idempotent at every start
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert set(CDR_TABLES) <= tables
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()
