"""calls.result and calls.topic_missing: the agent's result of the call picked in wrap-up next to the topic
(the queue's ``results``, R16), and the flag of a call whose queue requires a topic and whose wrap-up ran out
without one (docs/decisions/web-08-required-topic.md).

Revision ID: 0012_wrapup_result
Revises: 0011_supervisor_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_wrapup_result"
down_revision = "0011_supervisor_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column(
        "result", sa.String(128), comment="the agent's result of the call, from the queue's results (R16)"))
    op.add_column("calls", sa.Column("topic_missing", sa.Boolean, nullable=False, server_default=sa.false(),
                                     comment="the queue requires a topic and wrap-up ended without one"))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("topic_missing")
        batch.drop_column("result")
