from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cdr.schema import metadata
from tests.recording.dbutil import make_db

RECORDING_TABLES = {"recordings", "recording_access_log", "qa_evaluations"}


async def test_migration_0002_matches_recording_schema(tmp_path: Path) -> None:
    db = await make_db(tmp_path)

    def diff(conn):  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, metadata)

    async with db.connect() as conn:
        changes = await conn.run_sync(diff)
    await db.dispose()

    def table_of(change: object) -> str | None:
        item = change[0] if isinstance(change, list) else change
        for part in item[1:]:  # type: ignore[index]
            name = getattr(part, "name", None)
            table = getattr(getattr(part, "table", None), "name", None)
            if table in RECORDING_TABLES or name in RECORDING_TABLES:
                return str(table or name)
            if isinstance(part, str) and part in RECORDING_TABLES:
                return part
        return None

    mine = [c for c in changes if table_of(c)]
    assert mine == []
