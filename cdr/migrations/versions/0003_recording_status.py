"""calls.recording_status: a failed recording is marked on the call (R14).

Revision ID: 0003_recording_status
Revises: 0002_recordings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_recording_status"
down_revision = "0002_recordings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("recording_status", sa.String(16), nullable=True,
                                     comment="recording, done, failed; NULL: none was made"))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("recording_status")
