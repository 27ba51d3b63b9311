"""The front desk: the reception role, customer search name, staff notes, erasure, audit log.

``customers.search_name`` is the customer's name lowercased without accents, kept by the
model; existing rows are filled here with the same function.

Revision ID: 0006_desk
Revises: 0004_calendar
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from pelubot_web.models.reservation import fold_text
from pelubot_web.models.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0006_desk"
down_revision = "0004_calendar"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('stylist', 'admin', 'ops')"
NEW_ROLES = "role IN ('stylist', 'admin', 'ops', 'reception')"


def _set_roles(check: str) -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role_valid"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role_valid"), check)


def upgrade():
    _set_roles(NEW_ROLES)
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("search_name", sa.String(length=130), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("staff_notes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("erased_at", UTCDateTime(), nullable=True))
    customers = sa.table(
        "customers", sa.column("id", sa.Integer), sa.column("name"), sa.column("search_name")
    )
    bind = op.get_bind()
    for row in bind.execute(sa.select(customers.c.id, customers.c.name)).all():
        bind.execute(
            customers.update()
            .where(customers.c.id == row.id)
            .values(search_name=f" {fold_text(row.name or '')} ")
        )
    with op.batch_alter_table("customers") as batch:
        batch.alter_column("search_name", server_default=None)
        batch.create_index(op.f("ix_customers_search_name"), ["search_name"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_audit_log_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_created_at"), "audit_log", ["created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_audit_log_created_at"), table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("customers") as batch:
        batch.drop_index(op.f("ix_customers_search_name"))
        batch.drop_column("erased_at")
        batch.drop_column("staff_notes")
        batch.drop_column("search_name")
    op.execute("DELETE FROM users WHERE role = 'reception'")
    _set_roles(OLD_ROLES)
