"""periodic runs: the state of each periodic job (lms.schedule)

Revision ID: c5d2e8f1a307
Revises: b7c41d0e9a12
Create Date: 2026-11-23 05:40:00

"""

import sqlalchemy as sa
from alembic import op

import lms.models.types

revision = "c5d2e8f1a307"
down_revision = "b7c41d0e9a12"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "periodic_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("due_at", lms.models.types.UTCDateTime(), nullable=False),
        sa.Column("started_at", lms.models.types.UTCDateTime(), nullable=True),
        sa.Column("finished_at", lms.models.types.UTCDateTime(), nullable=True),
        sa.Column("succeeded_at", lms.models.types.UTCDateTime(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_summary", sa.String(length=500), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_periodic_runs")),
    )


def downgrade():
    op.drop_table("periodic_runs")
