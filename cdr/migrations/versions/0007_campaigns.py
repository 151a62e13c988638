"""Outbound campaign tables: campaigns, campaign_contacts, campaign_attempts, campaign_answers
(outbound/schema.py).

Revision ID: 0007_campaigns
Revises: 0006_report_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cdr.types import JsonType, UtcDateTime

revision = "0007_campaigns"
down_revision = "0006_report_index"
branch_labels = None
depends_on = None

Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OUTCOMES = ("answered", "no_answer", "busy", "congestion", "unreachable", "dropped")
CONTACT_STATUSES = ("pending", "in_progress", "done", "failed", "do_not_call")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, comment="the YAML file's name"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("description", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("name", name="uq_campaigns_name"),
    )
    op.create_table(
        "campaign_contacts",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", Serial, nullable=False),
        sa.Column("phone", sa.String(32), nullable=False, comment="canonical number (routing.numbers)"),
        sa.Column("name", sa.String(255)),
        sa.Column("language", sa.String(8)),
        sa.Column("fields", JsonType, nullable=False, comment="the file's other columns, shown to the agent"),
        sa.Column("source", sa.String(255), comment="file the contact came from"),
        sa.Column("source_line", sa.Integer, comment="its line (CSV) or row (XLSX)"),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UtcDateTime()),
        sa.Column("last_outcome", sa.String(16)),
        sa.Column("productive", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_contacts"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name="fk_campaign_contacts_campaign_id_campaigns"),
        sa.UniqueConstraint("campaign_id", "phone", name="uq_campaign_contacts_campaign_id_phone"),
        sa.CheckConstraint(_in("status", CONTACT_STATUSES), name="ck_campaign_contacts_status"),
    )
    op.create_index("ix_campaign_contacts_campaign_id_status_next_attempt_at", "campaign_contacts",
                    ["campaign_id", "status", "next_attempt_at"])
    op.create_table(
        "campaign_attempts",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("contact_id", Serial, nullable=False),
        sa.Column("campaign_id", Serial, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False, comment="1 for the first call of the contact"),
        sa.Column("call_id", sa.String(64), comment="calls.id of the outbound call"),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64)),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime()),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("outcome", sa.String(16)),
        sa.Column("productive", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_attempts"),
        sa.ForeignKeyConstraint(["contact_id"], ["campaign_contacts.id"],
                                name="fk_campaign_attempts_contact_id_campaign_contacts"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name="fk_campaign_attempts_campaign_id_campaigns"),
        sa.CheckConstraint(f"outcome IS NULL OR {_in('outcome', OUTCOMES)}",
                           name="ck_campaign_attempts_outcome"),
    )
    op.create_index("ix_campaign_attempts_campaign_id_started_at", "campaign_attempts",
                    ["campaign_id", "started_at"])
    op.create_index("ix_campaign_attempts_contact_id", "campaign_attempts", ["contact_id"])
    op.create_table(
        "campaign_answers",
        sa.Column("id", Serial, primary_key=True, autoincrement=True),
        sa.Column("attempt_id", Serial, nullable=False),
        sa.Column("contact_id", Serial, nullable=False),
        sa.Column("question", sa.String(64), nullable=False),
        sa.Column("value", JsonType),
        sa.Column("saved_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_answers"),
        sa.ForeignKeyConstraint(["attempt_id"], ["campaign_attempts.id"],
                                name="fk_campaign_answers_attempt_id_campaign_attempts"),
        sa.ForeignKeyConstraint(["contact_id"], ["campaign_contacts.id"],
                                name="fk_campaign_answers_contact_id_campaign_contacts"),
        sa.UniqueConstraint("attempt_id", "question", name="uq_campaign_answers_attempt_id_question"),
    )
    op.create_index("ix_campaign_answers_contact_id", "campaign_answers", ["contact_id"])


def downgrade() -> None:
    op.drop_table("campaign_answers")
    op.drop_table("campaign_attempts")
    op.drop_table("campaign_contacts")
    op.drop_table("campaigns")
