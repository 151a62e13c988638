"""The CDR tables: a published contract read by downstream reporting (columns in docs/cdr.md).

Change it only together with a new migration in ``cdr/migrations/versions/``; never edit an applied one.
Other packages (``recording/``) add their tables to this same ``metadata`` and ship their own migrations.
All timestamps are UTC (``UtcDateTime``); durations are seconds as floats.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

from cdr.types import JsonType, UtcDateTime

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# An auto-increment key that is BIGINT on PostgreSQL and the rowid alias on SQLite.
Serial = BigInteger().with_variant(Integer(), "sqlite")

OUTCOMES = ("answered", "abandoned", "short_abandoned", "handled_in_ivr", "missed_in_ivr", "voicemail",
            "overflowed", "transferred", "callback_requested")

calls = Table(
    "calls", metadata,
    Column("id", String(64), primary_key=True, comment="the call id (caller channel's id)"),
    Column("linked_id", String(64)),
    Column("direction", String(16), nullable=False, server_default="inbound"),
    Column("dialled", String(64), comment="normalised dialled number"),
    Column("caller", String(64), comment="caller's number, normalised"),
    Column("caller_name", String(128)),
    Column("region", String(64), comment="from config/regions.yaml; 'mobile' for mobile prefixes"),
    Column("carrier", String(64), comment="mobile operator for mobile prefixes"),
    Column("language", String(8)),
    Column("scenario", String(64)),
    Column("scenario_version", String(64)),
    Column("service", String(128)),
    Column("call_type", String(128)),
    Column("topic", String(255)),
    Column("comment", Text),
    Column("result", String(128), comment="the agent's result of the call, from the queue's results (R16)"),
    Column("topic_missing", Boolean, nullable=False, server_default=false(),
           comment="the queue requires a topic and wrap-up ended without one"),
    Column("queue", String(64)),
    Column("arrived_at", UtcDateTime),
    Column("answered_at", UtcDateTime, comment="the system answered the channel"),
    Column("queued_at", UtcDateTime),
    Column("offered_at", UtcDateTime, comment="first offer to an agent"),
    Column("connected_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    Column("wait_s", Float, comment="queue wait: queued to connected, or to hang-up"),
    Column("wait_since_answer_s", Float, comment="system answer to operator answer, or to hang-up"),
    Column("ring_s", Float),
    Column("talk_s", Float),
    Column("hold_s", Float),
    Column("wrapup_s", Float),
    Column("outcome", String(24)),
    Column("transferred_to", String(128)),
    Column("overflow_target", String(128)),
    Column("agent", String(64)),
    Column("recording", String(255)),
    # also "missing" (a file not found at the end; docs/cdr.md): the comment is migration 0003's
    Column("recording_status", String(16), comment="recording, done, failed; NULL: none was made"),
    Column("end_estimated", Boolean, nullable=False, server_default=false(),
           comment="ended_at is an estimate: the end happened during a gap in ARI events"),
    Column("hangup_by", String(16)),
    Column("hangup_cause", String(16)),
    Column("offers", Integer, nullable=False, server_default="0"),
    Column("ring_no_answers", Integer, nullable=False, server_default="0"),
    Column("updated_at", UtcDateTime),
    Index(None, "arrived_at"),
    Index(None, "agent", "connected_at"),
    Index(None, "caller"),
    Index(None, "queue", "arrived_at"),
    # covering index of the reports' aggregates (cdr/reports/aggregate.py; migration 0006_report_index)
    Index("ix_calls_report", "arrived_at", "direction", "queue", "queued_at", "outcome", "wait_s", "talk_s",
          "hold_s", "wrapup_s", "id"),
)

call_events = Table(
    "call_events", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("call_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("data", JsonType, nullable=False),
    Index(None, "call_id", "at"),
    Index(None, "at"),
)

agent_state_log = Table(
    "agent_state_log", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("agent", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("previous", String(16)),
    Column("reason", String(64)),
    Column("by_user", String(64), comment="supervisor who forced the change; NULL: agent or system"),
    Column("call_id", String(64)),
    Column("at", UtcDateTime, nullable=False),
    Column("duration_s", Float, comment="filled when the agent's next state arrives"),
    Index(None, "agent", "at"),
    Index(None, "at"),
)

callbacks = Table(
    "callbacks", metadata,
    Column("id", String(64), primary_key=True),
    Column("call_id", String(64)),
    Column("number", String(64)),
    Column("reason", String(32), nullable=False, comment="the kind: voicemail, second_line, requested, api"),
    Column("recording", String(255)),
    Column("due_at", UtcDateTime),
    Column("status", String(16), nullable=False, server_default="open", comment="open, done, failed"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("notes", Text),
    Column("updated_at", UtcDateTime),
    # 0010_callbacks_deadlines (outbound/callbacks.py, docs/outbound.md "Callbacks"); ``reason`` is the kind
    Column("ticket_id", String(64), comment="the service desk's ticket"),
    Column("topic", String(255)),
    Column("comment", Text),
    Column("agent", String(64), comment="assigned agent (the escalating one, or who took it)"),
    Column("created_by", String(64), comment="API user who created it; NULL: the engine (voicemail)"),
    Column("next_attempt_at", UtcDateTime, comment="when to call again after a failed attempt"),
    Column("outcome", String(16), comment="last attempt: reached, no_answer, busy, wrong_number"),
    Column("closed_at", UtcDateTime),
    Index(None, "status", "due_at"),
    Index(None, "created_at"),
)

queue_log = Table(
    "queue_log", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("event_id", String(96), nullable=False, unique=True, comment="source event id + ':' + event"),
    Column("time", String(32), nullable=False, comment="epoch seconds as Asterisk writes them"),
    Column("at", UtcDateTime, nullable=False),
    Column("callid", String(64), nullable=False),
    Column("queuename", String(64), nullable=False),
    Column("agent", String(64), nullable=False),
    Column("event", String(32), nullable=False),
    Column("data1", String(128), nullable=False, server_default=""),
    Column("data2", String(128), nullable=False, server_default=""),
    Column("data3", String(128), nullable=False, server_default=""),
    Column("data4", String(128), nullable=False, server_default=""),
    Column("data5", String(128), nullable=False, server_default=""),
    Column("data", String(512), nullable=False, server_default="", comment="data1..data5 joined with '|'"),
    Index(None, "at"),
    Index(None, "callid"),
)

cdr = Table(
    "cdr", metadata,
    Column("uniqueid", String(150), primary_key=True),
    Column("calldate", UtcDateTime, nullable=False),
    Column("clid", String(80), nullable=False, server_default=""),
    Column("src", String(80), nullable=False, server_default=""),
    Column("dst", String(80), nullable=False, server_default=""),
    Column("dcontext", String(80), nullable=False, server_default=""),
    Column("channel", String(80), nullable=False, server_default=""),
    Column("dstchannel", String(80), nullable=False, server_default=""),
    Column("lastapp", String(80), nullable=False, server_default=""),
    Column("lastdata", String(80), nullable=False, server_default=""),
    Column("duration", Integer, nullable=False, server_default="0"),
    Column("billsec", Integer, nullable=False, server_default="0"),
    Column("disposition", String(45), nullable=False, server_default=""),
    Column("amaflags", Integer, nullable=False, server_default="3"),
    Column("accountcode", String(20), nullable=False, server_default=""),
    Column("userfield", String(255), nullable=False, server_default=""),
    Column("linkedid", String(150), nullable=False, server_default=""),
    Index(None, "calldate"),
)

# Supervisors' listening (R23, migration 0009_hold): one row per period in one mode, from the CDR event
# ``listen`` (so it goes through the journal and the spool like the CDR). Agents are not told; this is the
# trace of who listened to whom (docs/call-control.md).
LISTEN_MODES = ("listen", "whisper", "barge")
listen_audit = Table(
    "listen_audit", metadata,
    Column("id", Serial, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("session_id", String(64), nullable=False, comment="one listening session (modes switch in it)"),
    Column("supervisor", String(64), nullable=False, comment="the user who listened"),
    Column("agent", String(64), comment="the agent listened to"),
    Column("call_id", String(64), nullable=False, index=True),
    Column("mode", String(16), nullable=False),
    Column("from_at", UtcDateTime, nullable=False, index=True),
    Column("to_at", UtcDateTime, nullable=False),
    CheckConstraint("mode IN ('listen', 'whisper', 'barge')", name="mode"),
)

CDR_TABLES = ("calls", "call_events", "agent_state_log", "callbacks", "queue_log", "cdr", "listen_audit")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


RECORDING_KINDS = ("call", "voicemail", "outbound")
RECORDING_STATUSES = ("recording", "done", "failed", "purged", "missing")


# The recordings table (migration 0002_recordings; documented in docs/recording.md). It lives here, not in
# recording/, because the CDR writer keeps its rows from ``RecordingEvent``s: through the same journal and
# spool as the CDR, idempotent by the recording's name (cdr/recording_rows.py).
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
