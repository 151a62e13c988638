"""CDR test fixtures: a fresh database per test on SQLite, and on PostgreSQL when ACD_TEST_PG_URL is set.

PostgreSQL tests each get a schema of their own (``?search_path=``), dropped afterwards, so they never
see another test's rows (nor another engineer's tables in the same database).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from cdr.db import make_engine

PG_URL = os.environ.get("ACD_TEST_PG_URL")
PG_SKIP = "ACD_TEST_PG_URL is not set (e.g. postgresql+asyncpg://acd:acd@127.0.0.1/acd_test)"


async def aiosqlite_threads_finished(timeout_s: float = 5.0) -> None:
    """Wait, inside the test's event loop, until aiosqlite's worker threads have ended.

    aiosqlite 0.22 stops the worker thread of a failed connect without awaiting it (``Connection._connect``
    calls ``stop()`` and drops its future): the thread resolves that future a moment later, and if the
    test's event loop has ended by then it raises "Event loop is closed" in the thread (upstream
    omnilib/aiosqlite#259, unreleased fix #389). Tests that make SQLite unreachable call this last."""
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            await asyncio.to_thread(thread.join, timeout_s)


def _with_search_path(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"search_path={schema}"


async def _pg_schema(action: str, schema: str) -> None:
    assert PG_URL
    engine = make_engine(PG_URL)
    try:
        async with engine.begin() as conn:
            if action == "create":
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            else:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cdr.db'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema = f"cdr_test_{uuid.uuid4().hex[:12]}"
    await _pg_schema("create", schema)
    try:
        yield _with_search_path(PG_URL, schema)
    finally:
        await _pg_schema("drop", schema)


@pytest.fixture
def pg_url() -> str:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    return PG_URL
