"""Database engines for the CDR: one URL, either SQLite (embedded default) or PostgreSQL (production).

``make_engine`` sets SQLite up for one writer beside many readers (WAL, busy_timeout, foreign keys), and
lets a PostgreSQL URL name a schema with ``?search_path=NAME`` (passed to the server as a setting, which
asyncpg does not take from the URL by itself). ``migrate`` runs alembic's ``upgrade head`` over all
migrations in ``cdr/migrations/versions`` on a live connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        engine = create_async_engine(u, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    search_path = u.query.get("search_path")
    if search_path:
        u = u.difference_update_query(["search_path"])
        settings = dict(connect_args.get("server_settings", {}))
        settings["search_path"] = str(search_path)
        connect_args["server_settings"] = settings
    connect_args.setdefault("timeout", 5)  # connecting: a dead server is noticed fast (then the spool)
    connect_args.setdefault("command_timeout", 30)  # a silently dropped connection does not hang the writer
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(u, connect_args=connect_args, **kwargs)


def make_sync_sqlite_engine(url: str, **kwargs: Any) -> Engine | None:
    """A synchronous engine (the stdlib's sqlite3) on the same SQLite FILE as ``url``, set up as
    ``make_engine`` does: for the CDR writer, which runs a batch's whole transaction in a thread of its own.
    None for another database or an in-memory one (a second engine would see another database)."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:") or u.query.get("mode"):
        return None
    engine = create_engine(u.set(drivername="sqlite+pysqlite"), **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (all packages' migrations). Safe to run at every start."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
