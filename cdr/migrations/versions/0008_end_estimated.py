"""calls.end_estimated: the call ended while the daemon heard no events (a WebSocket gap); its end time is
the last moment Asterisk was heard from, not the moment the daemon found it gone (issue 12 item 7).

Revision ID: 0008_end_estimated
Revises: 0007_campaigns
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_end_estimated"
down_revision = "0007_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("end_estimated", sa.Boolean, nullable=False, server_default=sa.false(),
                                     comment="ended_at is an estimate: the end happened during a gap in "
                                             "ARI events"))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("end_estimated")
