"""a covering index on assignments for the compliance dashboard

Revision ID: a1f3c9d2e7b4
Revises: da9b66206506
Create Date: 2026-11-23 03:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a1f3c9d2e7b4'
down_revision = 'da9b66206506'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index(
            'ix_assignments_dashboard', ['agency_id', 'user_id', 'status', 'due_on', 'course_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_assignments_dashboard')
