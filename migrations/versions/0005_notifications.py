"""Customer notifications: the notification outbox, webhook endpoints, opt-out, language.

Revision ID: 0005_notifications
Revises: 0007_perf
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from pelubot_web.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0005_notifications"
down_revision = "0007_perf"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("event_types", sa.String(length=500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("event_key", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("available_at", UTCDateTime(), nullable=False),
        sa.Column("locked_by", sa.String(length=200), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=True),
        sa.Column("unsubscribe_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("enqueued_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook')", name=op.f("ck_notifications_channel_valid")
        ),
        sa.CheckConstraint(
            "kind IN ('confirmation', 'rescheduled', 'cancelled', 'reminder', 'status_changed')",
            name=op.f("ck_notifications_kind_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'processing', 'sent', 'failed', 'skipped')",
            name=op.f("ck_notifications_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_notifications_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_notifications_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_notifications_manage_token_hash")),
        sa.UniqueConstraint(
            "reservation_id", "kind", "event_key", "channel", "target", name="uq_notifications_once"
        ),
        sa.UniqueConstraint(
            "unsubscribe_token_hash", name=op.f("uq_notifications_unsubscribe_token_hash")
        ),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_endpoint_id"), ["endpoint_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_reservation_id"), ["reservation_id"], unique=False
        )
        batch_op.create_index(
            "ix_notifications_status_available", ["status", "available_at"], unique=False
        )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_opt_out_at", UTCDateTime(), nullable=True))

    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=5), server_default="es", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("email_opt_out_at")

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_status_available")
        batch_op.drop_index(batch_op.f("ix_notifications_reservation_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_endpoint_id"))

    op.drop_table("notifications")
    op.drop_table("webhook_endpoints")
