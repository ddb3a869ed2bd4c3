"""excused (waived) assignments with reason, and the history of due-date extensions

Revision ID: bd7a1e0c5f21
Revises: f4b2d6e8a013
Create Date: 2026-12-02 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bd7a1e0c5f21'
down_revision = "f4b2d6e8a013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('excused_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('excused_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('excused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_assignments_excused_by_id_users'), 'users', ['excused_by_id'], ['id']
        )
    op.create_table(
        'due_date_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('old_due_on', sa.Date(), nullable=True),
        sa.Column('new_due_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=True),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], ),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ),
        sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('due_date_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_due_date_changes_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_due_date_changes_assignment_id'), ['assignment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('due_date_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_due_date_changes_assignment_id'))
        batch_op.drop_index(batch_op.f('ix_due_date_changes_agency_id'))
    op.drop_table('due_date_changes')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assignments_excused_by_id_users'), type_='foreignkey')
        batch_op.drop_column('excused_at')
        batch_op.drop_column('excused_by_id')
        batch_op.drop_column('excused_reason')
