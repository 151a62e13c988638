"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no time zones: ``DateTime(timezone=True)`` reads back naive, and asyncpg refuses aware
datetimes in ``timestamp without time zone``. ``UtcDateTime`` is ``timestamptz`` on PostgreSQL and
naive-UTC text on SQLite, and always hands back aware UTC datetimes, so report code never guesses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int | float):
            value = datetime.fromtimestamp(value, UTC)
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: CDR timestamps must be timezone-aware (UTC)")
        aware: datetime = value.astimezone(UTC)
        return aware if dialect.name == "postgresql" else aware.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - drivers hand back datetimes
            raise TypeError(f"expected a datetime, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JsonType = JSON().with_variant(JSONB(), "postgresql")
"""A JSON document: JSONB on PostgreSQL (indexable), JSON text on SQLite."""


def utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)
