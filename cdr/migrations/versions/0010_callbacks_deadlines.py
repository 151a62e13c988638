"""Callbacks with deadlines: ticket, topic, comment, agent, retries, outcome and closing time
on ``callbacks``; the ``webhook_outbox`` of service-desk webhooks (outbound/callbacks.py,
outbound/servicedesk.py).

Revision ID: 0010_callbacks_deadlines
Revises: 0009_hold
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cdr.types import UtcDateTime

revision = "0010_callbacks_deadlines"
down_revision = "0009_hold"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_REASON = "'voicemail', 'second_line', 'request', ..."
NEW_REASON = "the kind: voicemail, second_line, requested, api"
NEW_COLUMNS = ("ticket_id", "topic", "comment", "agent", "created_by", "next_attempt_at", "outcome",
               "closed_at")


def upgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_id", sa.String(64), comment="the service desk's ticket"))
        batch_op.add_column(sa.Column("topic", sa.String(255)))
        batch_op.add_column(sa.Column("comment", sa.Text))
        batch_op.add_column(sa.Column("agent", sa.String(64),
                                      comment="assigned agent (the escalating one, or who took it)"))
        batch_op.add_column(sa.Column("created_by", sa.String(64),
                                      comment="API user who created it; NULL: the engine (voicemail)"))
        batch_op.add_column(sa.Column("next_attempt_at", UtcDateTime(),
                                      comment="when to call again after a failed attempt"))
        batch_op.add_column(sa.Column("outcome", sa.String(16),
                                      comment="last attempt: reached, no_answer, busy, wrong_number"))
        batch_op.add_column(sa.Column("closed_at", UtcDateTime()))
        batch_op.create_index("ix_callbacks_created_at", ["created_at"])
        batch_op.alter_column("reason", existing_type=sa.String(32), existing_nullable=False,
                              comment=NEW_REASON, existing_comment=OLD_REASON)
    op.create_table(
        "webhook_outbox",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("event", sa.String(32), nullable=False, comment="e.g. 'escalation'"),
        sa.Column("url", sa.String(1024), nullable=False),
        sa.Column("body", sa.Text, nullable=False,
                  comment="the JSON sent, byte for byte (the signature covers it)"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime()),
        sa.Column("last_error", sa.String(512)),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_outbox"),
    )
    op.create_index("ix_webhook_outbox_delivered_at_next_try_at", "webhook_outbox",
                    ["delivered_at", "next_try_at"])


def downgrade() -> None:
    op.drop_table("webhook_outbox")
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index("ix_callbacks_created_at")
        batch_op.alter_column("reason", existing_type=sa.String(32), existing_nullable=False,
                              comment=OLD_REASON, existing_comment=NEW_REASON)
        for name in NEW_COLUMNS:
            batch_op.drop_column(name)
