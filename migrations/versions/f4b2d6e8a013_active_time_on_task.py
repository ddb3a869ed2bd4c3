"""active time on task per person and item, from visible-page heartbeats

Revision ID: f4b2d6e8a013
Revises: e3a1c5d7f902
Create Date: 2026-12-02 06:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4b2d6e8a013'
down_revision = 'e3a1c5d7f902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'active_time',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=True),
        sa.Column('item_slug', sa.String(length=100), nullable=True),
        sa.Column('attempt_id', sa.Integer(), nullable=True),
        sa.Column('place', sa.String(length=160), nullable=False),
        sa.Column('seconds', sa.Integer(), nullable=False),
        sa.Column('beats', sa.Integer(), nullable=False),
        sa.Column('first_beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], ),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ),
        sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'place'),
    )
    with op.batch_alter_table('active_time', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_active_time_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_active_time_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_active_time_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_active_time_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('active_time', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_active_time_user_id'))
        batch_op.drop_index(batch_op.f('ix_active_time_attempt_id'))
        batch_op.drop_index(batch_op.f('ix_active_time_assignment_id'))
        batch_op.drop_index(batch_op.f('ix_active_time_agency_id'))
    op.drop_table('active_time')
