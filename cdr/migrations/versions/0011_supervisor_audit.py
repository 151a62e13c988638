"""Supervisor console (issue 14, R23): supervisor_audit (every forced state, move, listen) and
wallboard_links (the read-only TV links; only a hash of each token is stored).

Revision ID: 0011_supervisor_audit
Revises: 0010_callbacks_deadlines
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cdr.types import UtcDateTime

revision = "0011_supervisor_audit"
down_revision = "0010_callbacks_deadlines"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "supervisor_audit",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
        sa.Column("user_name", sa.String(64), nullable=False, index=True, comment="who acted"),
        sa.Column("action", sa.String(32), nullable=False,
                  comment="force_state, move_call, listen, listen_mode, listen_end, tv_link, tv_revoke"),
        sa.Column("agent", sa.String(64), nullable=True, comment="whom"),
        sa.Column("call_id", sa.String(128), nullable=True),
        sa.Column("mode", sa.String(16), nullable=True, comment="listen, whisper, barge"),
        sa.Column("from_value", sa.String(128), nullable=True),
        sa.Column("to_value", sa.String(128), nullable=True),
        sa.Column("remote", sa.String(64), nullable=True),
    )
    op.create_table(
        "wallboard_links",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True, comment="sha256 of the token"),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("wallboard_links")
    op.drop_table("supervisor_audit")
