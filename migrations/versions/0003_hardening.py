"""Hardening: reservations keep the customer details they were booked with; device logins.

``reservations.customer_name`` / ``customer_email`` are backfilled from the customer
record (what every booking showed until now). ``user_logins`` holds one hashed token per
logged-in device so logout can revoke a remember-me cookie server side.

Revision ID: 0003_hardening
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from pelubot_web.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0003_hardening"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # NOT NULL from the start (SQLite cannot tighten a column without copying the table,
    # which would lose its CHECK constraints); the '' default only serves the backfill.
    for column in (
        sa.Column("customer_name", sa.String(length=120), nullable=False, server_default=""),
        sa.Column("customer_email", sa.String(length=254), nullable=True),
    ):
        op.add_column("reservations", column)
    op.execute(
        "UPDATE reservations SET "
        "customer_name = (SELECT name FROM customers WHERE customers.id = reservations.customer_id), "
        "customer_email = (SELECT email FROM customers WHERE customers.id = reservations.customer_id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("reservations", "customer_name", server_default=None)
    op.create_table(
        "user_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_logins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_logins")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_logins_token_hash")),
    )
    op.create_index(op.f("ix_user_logins_user_id"), "user_logins", ["user_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_user_logins_user_id"), table_name="user_logins")
    op.drop_table("user_logins")
    # SQLite >= 3.35 drops columns natively (no table copy).
    op.drop_column("reservations", "customer_email")
    op.drop_column("reservations", "customer_name")
