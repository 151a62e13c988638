"""The recording tables: a public contract like the CDR's (migration ``0002_recordings``).

- ``recordings``: one row per recording file (a call's bridge, a voicemail, an outbound call). The file is
  named by ``path``, relative to the recordings directory; URLs carry the row's id, never the path. It is
  defined in ``cdr.schema`` (re-exported here) because the CDR writer keeps it, through the same journal
  and spool as the CDR, so that no row is lost in an outage or a restart.
- ``recording_access_log``: who listened to, downloaded, deleted, searched or evaluated what, and when (R28).
- ``qa_evaluations``: quality scores of a call by an evaluator against a versioned form (R15).

Timestamps are UTC through ``cdr.types.UtcDateTime`` (timestamptz on PostgreSQL, aware on SQLite too).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from cdr.schema import RECORDING_KINDS, RECORDING_STATUSES, Serial, metadata, recordings
from cdr.types import JsonType, UtcDateTime

__all__ = ["ACCESS_ACTIONS", "DISPUTE_STATUSES", "RECORDING_KINDS", "RECORDING_STATUSES", "qa_evaluations",
           "recording_access_log", "recordings"]

ACCESS_ACTIONS = ("listen", "download", "delete", "search", "evaluate", "view", "hold")
DISPUTE_STATUSES = ("none", "open", "resolved")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


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
