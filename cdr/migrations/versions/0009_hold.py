"""listen_audit: every use of a supervisor's listen / whisper / barge (R23).

Named after issue 13's hold work, which needed no column: ``calls.hold_s`` exists since 0001 and is now
filled by the ``hold`` events of agents' call control.

Revision ID: 0009_hold
Revises: 0008_end_estimated
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cdr.types import UtcDateTime

revision = "0009_hold"
down_revision = "0008_end_estimated"
branch_labels = None
depends_on = None


def upgrade() -> None:
    serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "listen_audit",
        sa.Column("id", serial, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False,
                  comment="one listening session (modes switch in it)"),
        sa.Column("supervisor", sa.String(64), nullable=False, comment="the user who listened"),
        sa.Column("agent", sa.String(64), comment="the agent listened to"),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("from_at", UtcDateTime(), nullable=False),
        sa.Column("to_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("mode IN ('listen', 'whisper', 'barge')", name="ck_listen_audit_mode"),
        sa.PrimaryKeyConstraint("id", name="pk_listen_audit"),
        sa.UniqueConstraint("event_id", name="uq_listen_audit_event_id"),
    )
    op.create_index("ix_listen_audit_call_id", "listen_audit", ["call_id"])
    op.create_index("ix_listen_audit_from_at", "listen_audit", ["from_at"])


def downgrade() -> None:
    op.drop_table("listen_audit")
