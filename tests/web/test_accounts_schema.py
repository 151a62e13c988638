"""Migration 0005_users builds exactly the tables acd.web.accounts queries (SQLite, and PostgreSQL when
ACD_TEST_PG_URL is set)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from acd.web.accounts import metadata
from cdr.db import make_engine, migrate
from tests.cdr.conftest import db_url  # noqa: F401 - the SQLite/PostgreSQL fixture, shared

pytestmark = pytest.mark.timeout(120)
TABLES = ("web_users", "web_sessions", "web_login_log")


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return [d for d in compare_metadata(ctx, metadata) if any(f"'{t}'" in repr(d) for t in TABLES)
            and not any(k in repr(d) for k in ("remove_index", "add_index", "modify_comment"))]


async def test_the_accounts_migration_matches_the_tables_the_code_uses(db_url: str) -> None:  # noqa: F811
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


async def test_accounts_and_sessions_work_on_each_database(db_url: str) -> None:  # noqa: F811
    from acd.web.accounts import SESSION_TTL, AccountStore

    now = [1795400000.0]
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        store = AccountStore(engine, lambda: now[0])
        await store.add("aigerim", "agent", "agent1", "long-enough-1")
        account, outcome = await store.verify("aigerim", "long-enough-1")
        assert account is not None and outcome == "ok"
        token, csrf = await store.open_session(account, "10.0.0.7")
        session = await store.session(token)
        assert session is not None and session.csrf == csrf and session.principal.agent == "agent1"
        now[0] += SESSION_TTL.total_seconds() + 1
        assert await store.session(token) is None  # expired
        await store.audit("aigerim", "ok", "10.0.0.7")
        assert await store.close_all_sessions("aigerim") == 1
    finally:
        await engine.dispose()
