"""Recording tables: recordings, recording_access_log, qa_evaluations (recording/schema.py).

Revision ID: 0002_recordings
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cdr.types import JsonType, UtcDateTime

revision = "0002_recordings"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False, comment="ARI record name"),
        sa.Column("path", sa.String(512), nullable=False,
                  comment="file path relative to the recordings directory"),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True, comment="agent in the recorded bridge, if any"),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("duration_s", sa.Float, nullable=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("legal_hold", sa.Boolean, nullable=False),
        sa.Column("purged_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('call', 'voicemail', 'outbound')", name="ck_recordings_kind"),
        sa.CheckConstraint("status IN ('recording', 'done', 'failed', 'purged', 'missing')",
                           name="ck_recordings_status"),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
        sa.UniqueConstraint("name", name="uq_recordings_name"),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"])
    op.create_index("ix_recordings_agent_id", "recordings", ["agent_id"])
    op.create_index("ix_recordings_started_at", "recordings", ["started_at"])

    op.create_table(
        "recording_access_log",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("recording_id", Serial, nullable=True),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("remote", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=True, comment="search filters, delete reason ..."),
        sa.CheckConstraint(
            "action IN ('listen', 'download', 'delete', 'search', 'evaluate', 'view', 'hold')",
            name="ck_recording_access_log_action"),
        sa.PrimaryKeyConstraint("id", name="pk_recording_access_log"),
    )
    op.create_index("ix_recording_access_log_at", "recording_access_log", ["at"])
    op.create_index("ix_recording_access_log_recording_id", "recording_access_log", ["recording_id"])
    op.create_index("ix_recording_access_log_call_id", "recording_access_log", ["call_id"])

    op.create_table(
        "qa_evaluations",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("recording_id", Serial, nullable=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("evaluator", sa.String(128), nullable=False),
        sa.Column("form_id", sa.String(64), nullable=False),
        sa.Column("form_version", sa.Integer, nullable=False),
        sa.Column("scores", JsonType, nullable=False, comment="criterion id -> score on its scale"),
        sa.Column("total", sa.Float, nullable=False, comment="weighted total, percent 0..100"),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("dispute", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("dispute IN ('none', 'open', 'resolved')", name="ck_qa_evaluations_dispute"),
        sa.ForeignKeyConstraint(["recording_id"], ["recordings.id"],
                                name="fk_qa_evaluations_recording_id_recordings"),
        sa.PrimaryKeyConstraint("id", name="pk_qa_evaluations"),
    )
    op.create_index("ix_qa_evaluations_recording_id", "qa_evaluations", ["recording_id"])
    op.create_index("ix_qa_evaluations_call_id", "qa_evaluations", ["call_id"])
    op.create_index("ix_qa_evaluations_agent_id", "qa_evaluations", ["agent_id"])


def downgrade() -> None:
    op.drop_table("qa_evaluations")
    op.drop_table("recording_access_log")
    op.drop_table("recordings")
