"""Initial schema: catalog, schedule, reservations, calendar sync outbox, users.

On PostgreSQL it also enables btree_gist and adds the exclusion constraint that makes
overlapping live reservations of one stylist impossible.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from pelubot_web.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    is_postgres = op.get_bind().dialect.name == "postgresql"
    if is_postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
    )
    op.create_table(
        "booking_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_granularity_min", sa.Integer(), nullable=False),
        sa.Column("buffer_after_min", sa.Integer(), nullable=False),
        sa.Column("min_notice_min", sa.Integer(), nullable=False),
        sa.Column("max_advance_days", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "buffer_after_min >= 0", name=op.f("ck_booking_rules_buffer_not_negative")
        ),
        sa.CheckConstraint("max_advance_days > 0", name=op.f("ck_booking_rules_advance_positive")),
        sa.CheckConstraint(
            "min_notice_min >= 0", name=op.f("ck_booking_rules_notice_not_negative")
        ),
        sa.CheckConstraint(
            "slot_granularity_min > 0",
            name=op.f("ck_booking_rules_granularity_positive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_rules")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("phone", name=op.f("uq_customers_phone")),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("principal", "key", name="uq_idempotency_principal_key"),
    )
    op.create_index(
        op.f("ix_idempotency_records_created_at"),
        "idempotency_records",
        ["created_at"],
        unique=False,
    )
    op.create_table(
        "salon_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "start_date <= end_date", name=op.f("ck_salon_closures_start_before_end")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_salon_closures")),
    )
    op.create_index(
        op.f("ix_salon_closures_start_date"),
        "salon_closures",
        ["start_date"],
        unique=False,
    )
    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("duration_min > 0", name=op.f("ck_services_duration_positive")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_services_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("slug", name=op.f("uq_services_slug")),
    )
    op.create_table(
        "stylists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("calendar_id", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stylists")),
        sa.UniqueConstraint("slug", name=op.f("uq_stylists_slug")),
    )
    op.create_table(
        "calendar_pull_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stylist_id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.String(length=255), nullable=False),
        sa.Column("sync_token", sa.Text(), nullable=True),
        sa.Column("last_pulled_at", UTCDateTime(), nullable=True),
        sa.Column("last_full_sync_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["stylist_id"],
            ["stylists.id"],
            name=op.f("fk_calendar_pull_state_stylist_id_stylists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_pull_state")),
        sa.UniqueConstraint("stylist_id", name=op.f("uq_calendar_pull_state_stylist_id")),
    )
    op.create_table(
        "external_busy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stylist_id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=1024), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("summary", sa.String(length=255), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stylist_id"],
            ["stylists.id"],
            name=op.f("fk_external_busy_stylist_id_stylists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_busy")),
        sa.UniqueConstraint("calendar_id", "event_id", name="uq_external_busy_calendar_event"),
    )
    op.create_index(
        "ix_external_busy_stylist_start",
        "external_busy",
        ["stylist_id", "start_at"],
        unique=False,
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("stylist_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("busy_until", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("sync_status", sa.String(length=20), nullable=False),
        sa.Column("sync_job_id", sa.Integer(), nullable=True),
        sa.Column("last_sync_error", sa.Text(), nullable=True),
        sa.Column("last_synced_at", UTCDateTime(), nullable=True),
        sa.Column("synced_calendar_id", sa.String(length=255), nullable=True),
        sa.Column("synced_version", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "source IN ('chatbot', 'portal', 'booking_page')",
            name=op.f("ck_reservations_source_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('confirmed', 'cancelled', 'completed', 'no_show')",
            name=op.f("ck_reservations_status_valid"),
        ),
        sa.CheckConstraint(
            "sync_status IN ('pending', 'synced', 'failed', 'not_required')",
            name=op.f("ck_reservations_sync_status_valid"),
        ),
        sa.CheckConstraint(
            "end_at <= busy_until", name=op.f("ck_reservations_busy_covers_service")
        ),
        sa.CheckConstraint("start_at < end_at", name=op.f("ck_reservations_start_before_end")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_reservations_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_reservations_service_id_services"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["stylist_id"],
            ["stylists.id"],
            name=op.f("fk_reservations_stylist_id_stylists"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_reservations_manage_token_hash")),
        sa.UniqueConstraint("uuid", name=op.f("uq_reservations_uuid")),
    )
    op.create_index(
        op.f("ix_reservations_customer_id"),
        "reservations",
        ["customer_id"],
        unique=False,
    )
    op.create_index("ix_reservations_start", "reservations", ["start_at", "id"], unique=False)
    op.create_index("ix_reservations_status", "reservations", ["status"], unique=False)
    op.create_index(
        "ix_reservations_stylist_start",
        "reservations",
        ["stylist_id", "start_at"],
        unique=False,
    )
    op.create_table(
        "stylist_services",
        sa.Column("stylist_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=True),
        sa.Column("price_cents", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "duration_min IS NULL OR duration_min > 0",
            name=op.f("ck_stylist_services_override_duration_positive"),
        ),
        sa.CheckConstraint(
            "price_cents IS NULL OR price_cents >= 0",
            name=op.f("ck_stylist_services_override_price_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_stylist_services_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stylist_id"],
            ["stylists.id"],
            name=op.f("fk_stylist_services_stylist_id_stylists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stylist_id", "service_id", name=op.f("pk_stylist_services")),
    )
    op.create_table(
        "time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stylist_id", sa.Integer(), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("start_at < end_at", name=op.f("ck_time_off_start_before_end")),
        sa.ForeignKeyConstraint(
            ["stylist_id"],
            ["stylists.id"],
            name=op.f("fk_time_off_stylist_id_stylists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_off")),
    )
    op.create_index(
        "ix_time_off_stylist_start",
        "time_off",
        ["stylist_id", "start_at"],
        unique=False,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("stylist_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("role IN ('stylist', 'admin', 'ops')", name=op.f("ck_users_role_valid")),
        sa.ForeignKeyConstraint(
            ["stylist_id"],
            ["stylists.id"],
            name=op.f("fk_users_stylist_id_stylists"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "working_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stylist_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.CheckConstraint("start_time < end_time", name=op.f("ck_working_hours_start_before_end")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_working_hours_weekday_range")),
        sa.ForeignKeyConstraint(
            ["stylist_id"],
            ["stylists.id"],
            name=op.f("fk_working_hours_stylist_id_stylists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_working_hours")),
    )
    op.create_index(
        "ix_working_hours_stylist_weekday",
        "working_hours",
        ["stylist_id", "weekday"],
        unique=False,
    )
    op.create_table(
        "calendar_sync_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("target_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", UTCDateTime(), nullable=False),
        sa.Column("locked_by", sa.String(length=200), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("enqueued_at", UTCDateTime(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'processing', 'succeeded', 'failed')",
            name=op.f("ck_calendar_sync_jobs_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_calendar_sync_jobs_reservation_id_reservations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_sync_jobs")),
    )
    op.create_index(
        op.f("ix_calendar_sync_jobs_reservation_id"),
        "calendar_sync_jobs",
        ["reservation_id"],
        unique=False,
    )
    op.create_index(
        "ix_calendar_sync_jobs_status_available",
        "calendar_sync_jobs",
        ["status", "available_at"],
        unique=False,
    )
    op.create_index(
        "uq_calendar_sync_jobs_open_per_reservation",
        "calendar_sync_jobs",
        ["reservation_id"],
        unique=True,
        sqlite_where=sa.text("status IN ('pending', 'queued', 'processing')"),
        postgresql_where=sa.text("status IN ('pending', 'queued', 'processing')"),
    )
    if is_postgres:
        op.execute(
            "ALTER TABLE reservations ADD CONSTRAINT ex_reservations_no_overlap "
            "EXCLUDE USING gist (stylist_id WITH =, tstzrange(start_at, busy_until, '[)') WITH &&) "
            "WHERE (status <> 'cancelled')"
        )


def downgrade():
    # Dropping a table drops its indexes and constraints too.
    op.drop_table("calendar_sync_jobs")
    op.drop_table("working_hours")
    op.drop_table("users")
    op.drop_table("time_off")
    op.drop_table("stylist_services")
    op.drop_table("reservations")
    op.drop_table("external_busy")
    op.drop_table("calendar_pull_state")
    op.drop_table("stylists")
    op.drop_table("services")
    op.drop_table("salon_closures")
    op.drop_table("idempotency_records")
    op.drop_table("customers")
    op.drop_table("booking_rules")
    op.drop_table("api_keys")
