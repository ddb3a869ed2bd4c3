"""sign-in counters count failures in a window that starts at the first failure

Revision ID: e3a1c5d7f902
Revises: daab6105cf7f
Create Date: 2026-12-02 00:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3a1c5d7f902'
down_revision = 'daab6105cf7f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.drop_column('window_started_at')
