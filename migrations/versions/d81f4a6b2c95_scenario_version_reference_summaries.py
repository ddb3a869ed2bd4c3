"""scenario versions keep the debrief's reference summaries (filled by the first grading)

Revision ID: d81f4a6b2c95
Revises: c5d2e8f1a307
Create Date: 2026-11-23 06:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d81f4a6b2c95"
down_revision = "c5d2e8f1a307"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("scenario_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference_summaries", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("scenario_versions", schema=None) as batch_op:
        batch_op.drop_column("reference_summaries")
