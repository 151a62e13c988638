"""Console accounts (issue 13): web_users, web_sessions (server-side browser sessions), web_login_log.

Revision ID: 0005_users
Revises: 0003_recording_status
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cdr.types import UtcDateTime

revision = "0005_users"
down_revision = "0003_recording_status"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False, comment="agent, supervisor, admin, reporting"),
        sa.Column("agent", sa.String(64), nullable=True, comment="for role agent: the agent id"),
        sa.Column("password_hash", sa.String(255), nullable=False, comment="argon2id (argon2-cffi)"),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("password_changed_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True, comment="sha256 of the cookie's value"),
        sa.Column("user_name", sa.String(64), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("remote", sa.String(64), nullable=True),
    )
    op.create_table(
        "web_login_log",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False, index=True),
        sa.Column("outcome", sa.String(24), nullable=False,
                  comment="ok, bad_password, unknown_user, disabled, rate_limited, logout, logout_all"),
        sa.Column("remote", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("web_login_log")
    op.drop_table("web_sessions")
    op.drop_table("web_users")
