"""The campaign tables (migration ``0007_campaigns``), on the CDR's ``metadata`` like recording/schema.py.

- ``campaigns``: one row per campaign name (the YAML is the definition; the row anchors contacts).
- ``campaign_contacts``: the imported contact list, one row per canonical number and campaign, with the
  file's extra columns in ``fields`` and the dialler's state (attempts, next attempt, last outcome).
- ``campaign_attempts``: one row per dialling attempt, with its outcome and the CDR call id.
- ``campaign_answers``: the form's answers per attempt and question (``value`` is JSON: a bool, a number,
  a string or a list of options).

Timestamps are UTC (``cdr.types.UtcDateTime``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from cdr.schema import Serial, metadata
from cdr.types import JsonType, UtcDateTime
from outbound.config import OUTCOMES

__all__ = ["CAMPAIGN_TABLES", "CONTACT_STATUSES", "campaign_answers", "campaign_attempts",
           "campaign_contacts", "campaigns"]

CONTACT_STATUSES = ("pending", "in_progress", "done", "failed", "do_not_call")
CAMPAIGN_TABLES = ("campaigns", "campaign_contacts", "campaign_attempts", "campaign_answers")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


campaigns = Table(
    "campaigns", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True, comment="the YAML file's name"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("description", Text),
)

campaign_contacts = Table(
    "campaign_contacts", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("campaign_id", Serial, ForeignKey("campaigns.id"), nullable=False),
    Column("phone", String(32), nullable=False, comment="canonical number (routing.numbers)"),
    Column("name", String(255)),
    Column("language", String(8)),
    Column("fields", JsonType, nullable=False, comment="the file's other columns, shown to the agent"),
    Column("source", String(255), comment="file the contact came from"),
    Column("source_line", Integer, comment="its line (CSV) or row (XLSX)"),
    Column("imported_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime),
    Column("last_outcome", String(16)),
    Column("productive", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("campaign_id", "phone"),
    CheckConstraint(_in("status", CONTACT_STATUSES), name="status"),
    Index(None, "campaign_id", "status", "next_attempt_at"),
)

campaign_attempts = Table(
    "campaign_attempts", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("contact_id", Serial, ForeignKey("campaign_contacts.id"), nullable=False),
    Column("campaign_id", Serial, ForeignKey("campaigns.id"), nullable=False),
    Column("attempt", Integer, nullable=False, comment="1 for the first call of the contact"),
    Column("call_id", String(64), comment="calls.id of the outbound call"),
    Column("mode", String(16), nullable=False),
    Column("agent", String(64)),
    Column("started_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    Column("outcome", String(16)),
    Column("productive", Boolean, nullable=False, server_default=false()),
    CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}", name="outcome"),
    Index(None, "campaign_id", "started_at"),
    Index(None, "contact_id"),
)

campaign_answers = Table(
    "campaign_answers", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("attempt_id", Serial, ForeignKey("campaign_attempts.id"), nullable=False),
    Column("contact_id", Serial, ForeignKey("campaign_contacts.id"), nullable=False),
    Column("question", String(64), nullable=False),
    Column("value", JsonType),
    Column("saved_at", UtcDateTime, nullable=False),
    UniqueConstraint("attempt_id", "question"),
    Index(None, "contact_id"),
)

# Migration 0010_callbacks_deadlines: the durable outbox of service-desk webhooks (outbound/servicedesk.py).
# A row is written in the same transaction as the callback it announces and deleted from nobody's view:
# ``delivered_at`` is set when the service desk answered 2xx; until then the sender retries with back-off.
webhook_outbox = Table(
    "webhook_outbox", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("event", String(32), nullable=False, comment="e.g. 'escalation'"),
    Column("url", String(1024), nullable=False),
    Column("body", Text, nullable=False, comment="the JSON sent, byte for byte (the signature covers it)"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_try_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("last_error", String(512)),
    Index(None, "delivered_at", "next_try_at"),
)


async def campaign_row(conn: AsyncConnection, name: str, description: str | None, at: datetime) -> int:
    """The id of the campaign's row, made if it has none. The daemon starting a campaign and an admin
    importing its contacts may both make it at once: the second insert does nothing (no IntegrityError,
    and no savepoint, which pysqlite would turn into a commit) and both read the one row."""
    found = select(campaigns.c.id).where(campaigns.c.name == name)
    cid = (await conn.execute(found)).scalar()
    if cid is None:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        await conn.execute(insert(campaigns).values(name=name, created_at=at, description=description)
                           .on_conflict_do_nothing(index_elements=["name"]))
        cid = (await conn.execute(found)).scalar_one()
    return int(cid)
