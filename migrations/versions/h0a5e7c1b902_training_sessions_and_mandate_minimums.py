"""classroom and external training sessions with attendance credit; mandate category minimums

Revision ID: h0a5e7c1b902
Revises: bd7a1e0c5f21
Create Date: 2026-12-02 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h0a5e7c1b902'
down_revision = 'bd7a1e0c5f21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'training_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.Column('category', sa.String(length=100), nullable=False),
        sa.Column('delivery', sa.String(length=16), nullable=False),
        sa.Column('provider', sa.String(length=200), nullable=False),
        sa.Column('instructor', sa.String(length=200), nullable=False),
        sa.Column('location', sa.String(length=200), nullable=False),
        sa.Column('sheet_name', sa.String(length=200), nullable=True),
        sa.Column('sheet_type', sa.String(length=100), nullable=True),
        sa.Column('sheet_data', sa.LargeBinary(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('voided_reason', sa.Text(), nullable=True),
        sa.Column('voided_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_training_sessions_agency_id_agencies')),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_training_sessions_course_id_courses')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_training_sessions_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_training_sessions_voided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_training_sessions')),
    )
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_sessions_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_sessions_ends_on'), ['ends_on'], unique=False)

    op.create_table(
        'session_attendances',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.Column('category', sa.String(length=100), nullable=False),
        sa.Column('credited_on', sa.Date(), nullable=False),
        sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_session_attendances_agency_id_agencies')),
        sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], name=op.f('fk_session_attendances_session_id_training_sessions')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_session_attendances_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_session_attendances')),
        sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_session_attendances_session_id_user_id')),
    )
    with op.batch_alter_table('session_attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_attendances_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_attendances_credited_on'), ['credited_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_attendances_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_attendances_user_id'), ['user_id'], unique=False)

    op.create_table(
        'mandate_minimums',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('mandate_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=100), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_mandate_minimums_agency_id_agencies')),
        sa.ForeignKeyConstraint(['mandate_id'], ['mandates.id'], name=op.f('fk_mandate_minimums_mandate_id_mandates')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mandate_minimums')),
        sa.UniqueConstraint('mandate_id', 'category', name=op.f('uq_mandate_minimums_mandate_id_category')),
    )
    with op.batch_alter_table('mandate_minimums', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mandate_minimums_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mandate_minimums_mandate_id'), ['mandate_id'], unique=False)

    # The one category minimum a mandate could hold becomes its first row.
    op.execute(
        "INSERT INTO mandate_minimums (agency_id, mandate_id, category, hours) "
        "SELECT agency_id, id, category, category_hours FROM mandates "
        "WHERE category IS NOT NULL AND category <> '' AND category_hours IS NOT NULL"
    )
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.drop_column('category_hours')
        batch_op.drop_column('category')


def downgrade():
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('category_hours', sa.Float(), nullable=True))
    # Only one minimum fits the old columns: the one with the most hours.
    op.execute(
        "UPDATE mandates SET category = (SELECT m.category FROM mandate_minimums m "
        "WHERE m.mandate_id = mandates.id ORDER BY m.hours DESC, m.category LIMIT 1), "
        "category_hours = (SELECT m.hours FROM mandate_minimums m "
        "WHERE m.mandate_id = mandates.id ORDER BY m.hours DESC, m.category LIMIT 1)"
    )
    with op.batch_alter_table('mandate_minimums', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mandate_minimums_mandate_id'))
        batch_op.drop_index(batch_op.f('ix_mandate_minimums_agency_id'))
    op.drop_table('mandate_minimums')
    with op.batch_alter_table('session_attendances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_attendances_user_id'))
        batch_op.drop_index(batch_op.f('ix_session_attendances_session_id'))
        batch_op.drop_index(batch_op.f('ix_session_attendances_credited_on'))
        batch_op.drop_index(batch_op.f('ix_session_attendances_agency_id'))
    op.drop_table('session_attendances')
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_sessions_ends_on'))
        batch_op.drop_index(batch_op.f('ix_training_sessions_agency_id'))
    op.drop_table('training_sessions')
