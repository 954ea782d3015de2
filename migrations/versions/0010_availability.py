"""availability: each doctor's absences and one-off hours, the clinic's closures and opening
hours, visit types, and the call list of appointments needing a new time

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 12:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade(engine_name: str) -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str) -> None:
    globals()[f"downgrade_{engine_name}"]()


def upgrade_write() -> None:
    pass


def downgrade_write() -> None:
    pass


def upgrade_read() -> None:
    op.create_table(
        'rm_doctor_availability',
        sa.Column('doctor_id', sa.Uuid(), nullable=False),
        sa.Column('full_name', sa.String(length=200), nullable=False),
        sa.Column('specialty', sa.String(length=120), nullable=False),
        sa.Column('hours', JSON, nullable=False),
        sa.Column('day_hours', JSON, nullable=False),
        sa.Column('absences', JSON, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('doctor_id', name=op.f('pk_rm_doctor_availability')),
    )
    op.create_table(
        'rm_clinic_days',
        sa.Column('clinic_id', sa.Uuid(), nullable=False),
        sa.Column('hours', JSON, nullable=True),
        sa.Column('closures', JSON, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('clinic_id', name=op.f('pk_rm_clinic_days')),
    )
    op.create_table(
        'rm_visit_types',
        sa.Column('visit_type_id', sa.Uuid(), nullable=False),
        sa.Column('label', sa.String(length=60), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('doctor_id', sa.Uuid(), nullable=True),
        sa.Column('specialty', sa.String(length=120), nullable=False),
        sa.Column('retired', sa.Boolean(), nullable=False),
        sa.Column('defined_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('visit_type_id', name=op.f('pk_rm_visit_types')),
    )
    op.create_table(
        'rm_call_list',
        sa.Column('appointment_id', sa.Uuid(), nullable=False),
        sa.Column('doctor_id', sa.Uuid(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('listed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_rm_call_list')),
    )
    with op.batch_alter_table('rm_call_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rm_call_list_starts_at_appointment_id'), ['starts_at', 'appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rm_call_list_doctor_id_starts_at'), ['doctor_id', 'starts_at'], unique=False)
    with op.batch_alter_table('rm_appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_type_id', sa.Uuid(), nullable=True))


def downgrade_read() -> None:
    with op.batch_alter_table('rm_appointments', schema=None) as batch_op:
        batch_op.drop_column('visit_type_id')
    with op.batch_alter_table('rm_call_list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rm_call_list_doctor_id_starts_at'))
        batch_op.drop_index(batch_op.f('ix_rm_call_list_starts_at_appointment_id'))
    op.drop_table('rm_call_list')
    op.drop_table('rm_visit_types')
    op.drop_table('rm_clinic_days')
    op.drop_table('rm_doctor_availability')
