"""calls: a covering index for the reports' aggregates (issue 14: the daily report over a year in 0.5 s).

The daily, SLA and hourly reports sum a period's calls in SQL by local day or hour; with every column they
read in one index ordered by arrival, SQLite scans the index alone instead of looking up each of the
period's rows in the table (a year: 146,000 lookups), which halves the daily report's time. PostgreSQL
uses it for index-only scans once the table has been vacuumed (autovacuum does it).

Revision ID: 0006_report_index
Revises: 0005_users
"""

from __future__ import annotations

from alembic import op

revision = "0006_report_index"
down_revision = "0005_users"
branch_labels = None
depends_on = None

COLUMNS = ["arrived_at", "direction", "queue", "queued_at", "outcome", "wait_s", "talk_s", "hold_s",
           "wrapup_s", "id"]
"""``id`` last: the SLA check looks up the call with the longest wait from the index alone too."""


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.create_index("ix_calls_report", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_report")
