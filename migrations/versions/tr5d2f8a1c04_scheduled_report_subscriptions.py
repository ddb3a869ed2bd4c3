"""scheduled report subscriptions

Revision ID: tr5d2f8a1c04
Revises: rc7d1a2b3e4f
Create Date: 2026-12-02 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'tr5d2f8a1c04'
down_revision = 'rc7d1a2b3e4f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('report', sa.String(length=32), nullable=False),
        sa.Column('frequency', sa.String(length=16), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('recipient_ids', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('last_sent_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_report_subscriptions_agency_id_agencies')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_report_subscriptions_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_subscriptions')),
    )
    with op.batch_alter_table('report_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_subscriptions_agency_id'), ['agency_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_subscriptions_agency_id'))
    op.drop_table('report_subscriptions')
