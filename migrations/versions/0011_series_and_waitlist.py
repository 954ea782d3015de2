"""series and waitlist: recurring series of visits, and the patients waiting for an
earlier time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
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
        'rm_series',
        sa.Column('series_id', sa.Uuid(), nullable=False),
        sa.Column('patient_id', sa.Uuid(), nullable=False),
        sa.Column('doctor_id', sa.Uuid(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('every_weeks', sa.Integer(), nullable=False),
        sa.Column('monthly', sa.Boolean(), nullable=False),
        sa.Column('visits', JSON, nullable=False),
        sa.Column('cancelled_from', sa.Integer(), nullable=True),
        sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('planned_by', sa.String(length=120), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('series_id', name=op.f('pk_rm_series')),
    )
    op.create_table(
        'rm_waitlist',
        sa.Column('waitlist_id', sa.Uuid(), nullable=False),
        sa.Column('patient_id', sa.Uuid(), nullable=False),
        sa.Column('doctor_id', sa.Uuid(), nullable=True),
        sa.Column('specialty', sa.String(length=120), nullable=False),
        sa.Column('from_day', sa.Date(), nullable=False),
        sa.Column('until_day', sa.Date(), nullable=False),
        sa.Column('part_of_day', sa.String(length=20), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('joined_by', sa.String(length=120), nullable=False),
        sa.Column('joined_position', sa.BigInteger(), nullable=False),
        sa.Column('waiting', sa.Boolean(), nullable=False),
        sa.Column('left_reason', sa.String(length=20), nullable=True),
        sa.Column('appointment_id', sa.Uuid(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('waitlist_id', name=op.f('pk_rm_waitlist')),
    )
    with op.batch_alter_table('rm_waitlist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rm_waitlist_waiting_joined_position'), ['waiting', 'joined_position'], unique=False)
        batch_op.create_index(batch_op.f('ix_rm_waitlist_patient_id'), ['patient_id'], unique=False)
    with op.batch_alter_table('rm_appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('occurrence', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_rm_appointments_series_id'), ['series_id'], unique=False)


def downgrade_read() -> None:
    with op.batch_alter_table('rm_appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rm_appointments_series_id'))
        batch_op.drop_column('occurrence')
        batch_op.drop_column('series_id')
    with op.batch_alter_table('rm_waitlist', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rm_waitlist_patient_id'))
        batch_op.drop_index(batch_op.f('ix_rm_waitlist_waiting_joined_position'))
    op.drop_table('rm_waitlist')
    op.drop_table('rm_series')
