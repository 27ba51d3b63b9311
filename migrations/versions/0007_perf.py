"""Indexes for a table of hundreds of thousands of reservations.

Availability reads a stylist's live reservations with ``busy_until`` after the window
start; without ``(stylist_id, busy_until)`` PostgreSQL scanned the whole table (all the
history has ``start_at`` before the window end).

Filtered lists (by stylist, by status) page by ``(start_at, id)``; with ``id`` in the
index PostgreSQL reads a page's ids from the index alone and a keyset cursor seeks
straight to its position (EXPLAIN in docs/performance.md). Each new index covers the
old one's leading columns, so the old ones are dropped.

Revision ID: 0007_perf
Revises: 0006_desk
Create Date: 2026-11-28
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_perf"
down_revision = "0006_desk"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_reservations_stylist_start_id", "reservations", ["stylist_id", "start_at", "id"]
    )
    op.create_index("ix_reservations_status_start_id", "reservations", ["status", "start_at", "id"])
    op.create_index(
        "ix_reservations_stylist_busy_until", "reservations", ["stylist_id", "busy_until"]
    )
    op.drop_index("ix_reservations_stylist_start", table_name="reservations")
    op.drop_index("ix_reservations_status", table_name="reservations")


def downgrade():
    op.create_index("ix_reservations_status", "reservations", ["status"])
    op.create_index("ix_reservations_stylist_start", "reservations", ["stylist_id", "start_at"])
    op.drop_index("ix_reservations_stylist_busy_until", table_name="reservations")
    op.drop_index("ix_reservations_status_start_id", table_name="reservations")
    op.drop_index("ix_reservations_stylist_start_id", table_name="reservations")
