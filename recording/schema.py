"""The recording tables: a public contract like the CDR's (migration ``0002_recordings``).

- ``recordings``: one row per recording file (a call's bridge, a voicemail, an outbound call). The file is
  named by ``path``, relative to the recordings directory; URLs carry the row's id, never the path.
- ``recording_access_log``: who listened to, downloaded, deleted, searched or evaluated what, and when (R28).
- ``qa_evaluations``: quality scores of a call by an evaluator against a versioned form (R15).

Timestamps are UTC through ``cdr.types.UtcDateTime`` (timestamptz on PostgreSQL, aware on SQLite too).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from cdr.schema import metadata
from cdr.types import JsonType, UtcDateTime

# An auto-increment key that is BIGINT on PostgreSQL and the rowid alias on SQLite (as in cdr.schema).
Serial = BigInteger().with_variant(Integer(), "sqlite")

RECORDING_KINDS = ("call", "voicemail", "outbound")
RECORDING_STATUSES = ("recording", "done", "failed", "purged", "missing")
ACCESS_ACTIONS = ("listen", "download", "delete", "search", "evaluate", "view", "hold")
DISPUTE_STATUSES = ("none", "open", "resolved")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


recordings = Table(
    "recordings", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("call_id", String(64), nullable=False, index=True),
    Column("name", String(255), nullable=False, unique=True, comment="ARI record name"),
    Column("path", String(512), nullable=False, comment="file path relative to the recordings directory"),
    Column("format", String(16), nullable=False, default="wav"),
    Column("kind", String(16), nullable=False, default="call"),
    Column("agent_id", String(64), nullable=True, index=True, comment="agent in the recorded bridge, if any"),
    Column("started_at", UtcDateTime(), nullable=False, index=True),
    Column("ended_at", UtcDateTime(), nullable=True),
    Column("duration_s", Float, nullable=True),
    Column("size_bytes", BigInteger, nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("status", String(16), nullable=False, default="recording"),
    Column("failure_reason", Text, nullable=True),
    Column("legal_hold", Boolean, nullable=False, default=False),
    Column("purged_at", UtcDateTime(), nullable=True),
    CheckConstraint(_in("kind", RECORDING_KINDS), name="kind"),
    CheckConstraint(_in("status", RECORDING_STATUSES), name="status"),
)

recording_access_log = Table(
    "recording_access_log", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
    Column("user_name", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("recording_id", Serial, nullable=True, index=True),
    Column("call_id", String(64), nullable=True, index=True),
    Column("remote", String(64), nullable=True),
    Column("detail", Text, nullable=True, comment="search filters, delete reason ..."),
    CheckConstraint(_in("action", ACCESS_ACTIONS), name="action"),
)

qa_evaluations = Table(
    "qa_evaluations", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("recording_id", Serial, ForeignKey("recordings.id"), nullable=True, index=True),
    Column("call_id", String(64), nullable=False, index=True),
    Column("agent_id", String(64), nullable=False, index=True),
    Column("evaluator", String(128), nullable=False),
    Column("form_id", String(64), nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("scores", JsonType, nullable=False, comment="criterion id -> score on its scale"),
    Column("total", Float, nullable=False, comment="weighted total, percent 0..100"),
    Column("comment", Text, nullable=True),
    Column("dispute", String(16), nullable=False, default="none"),
    Column("created_at", UtcDateTime(), nullable=False),
    CheckConstraint(_in("dispute", DISPUTE_STATUSES), name="dispute"),
)
