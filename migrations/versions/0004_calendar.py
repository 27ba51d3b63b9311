"""Calendar sync that survives real Google.

- ``reservations.gcal_event_id``: the Google event id in use, so a purged id can be
  replaced by a new generation instead of failing forever;
- ``stylists.google_account``: domain-wide delegation subject (per stylist);
- ``calendar_pull_state.failing_since``: how long a stylist's busy-time import fails.

Revision ID: 0004_calendar
Revises: 0003_hardening
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pelubot_web.models.types import UTCDateTime

revision = "0004_calendar"
down_revision = "0003_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("gcal_event_id", sa.String(length=1024), nullable=True))
    with op.batch_alter_table("stylists") as batch:
        batch.add_column(sa.Column("google_account", sa.String(length=254), nullable=True))
    with op.batch_alter_table("calendar_pull_state") as batch:
        batch.add_column(sa.Column("failing_since", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_pull_state") as batch:
        batch.drop_column("failing_since")
    with op.batch_alter_table("stylists") as batch:
        batch.drop_column("google_account")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("gcal_event_id")
