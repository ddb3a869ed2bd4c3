"""the assignments dashboard index also covers the trends (completed and assigned times)

Revision ID: ix7e3b1c9d52
Revises: tr5d2f8a1c04
Create Date: 2026-12-03 11:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'ix7e3b1c9d52'
down_revision = 'tr5d2f8a1c04'
branch_labels = None
depends_on = None

OLD = ['agency_id', 'user_id', 'status', 'due_on', 'course_id']
NEW = [*OLD, 'completed_at', 'assigned_at']


def upgrade():
    op.drop_index('ix_assignments_dashboard', table_name='assignments')
    op.create_index('ix_assignments_dashboard', 'assignments', NEW, unique=False)


def downgrade():
    op.drop_index('ix_assignments_dashboard', table_name='assignments')
    op.create_index('ix_assignments_dashboard', 'assignments', OLD, unique=False)
