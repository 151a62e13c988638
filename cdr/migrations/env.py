"""Alembic environment for every migration in ``versions/`` (CDR's and other packages' alike).

Normally run programmatically by ``cdr.db.migrate`` with a live connection in ``config.attributes``;
from the command line (``alembic -c cdr/migrations/alembic.ini upgrade head``) it reads the URL from
``ACD_DB_URL`` or the ini's ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os

from alembic import context
from sqlalchemy.engine import Connection

from cdr.schema import metadata

# Other packages register their tables on the same metadata; import them if present so autogenerate
# sees everything. Missing ones are simply skipped.
for _module in ("recording.schema", "outbound.schema"):
    with contextlib.suppress(ImportError):
        importlib.import_module(_module)

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True,
                      render_as_batch=_url().startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    return os.environ.get("ACD_DB_URL") or config.get_main_option("sqlalchemy.url") or ""


async def _run_async() -> None:
    from cdr.db import make_engine

    engine = make_engine(_url())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    _run_offline()
elif (connection := config.attributes.get("connection")) is not None:
    _configure(connection)
else:
    asyncio.run(_run_async())
