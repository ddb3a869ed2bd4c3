"""withdrawn course completions; each agency's date style and time zone

Revision ID: rc7d1a2b3e4f
Revises: acc7a1e5d2b9
Create Date: 2026-12-02 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'rc7d1a2b3e4f'
down_revision = 'acc7a1e5d2b9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('completions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_style', sa.String(length=16), server_default='en-US', nullable=False))
        batch_op.add_column(
            sa.Column('time_zone', sa.String(length=64), server_default='America/New_York', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
        batch_op.drop_column('date_style')
    with op.batch_alter_table('completions', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('withdrawn_at')
