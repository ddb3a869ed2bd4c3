"""calibration parts: a calibration sweep split into parts that workers share

Revision ID: b7c41d0e9a12
Revises: ac31f058b54b
Create Date: 2026-11-24 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c41d0e9a12'
down_revision = 'ac31f058b54b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calibration_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calibration_id', sa.Integer(), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('paths', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['calibration_id'], ['calibration_runs.id'], name=op.f('fk_calibration_parts_calibration_id_calibration_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_parts')),
    sa.UniqueConstraint('calibration_id', 'index', name=op.f('uq_calibration_parts_calibration_id_index'))
    )
    with op.batch_alter_table('calibration_parts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_parts_calibration_id'), ['calibration_id'], unique=False)


def downgrade():
    with op.batch_alter_table('calibration_parts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_parts_calibration_id'))

    op.drop_table('calibration_parts')
