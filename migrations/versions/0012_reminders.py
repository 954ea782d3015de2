"""reminders: the sender's ledger, patients' consents, the patient's own answer

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str) -> None:
    globals()[f"downgrade_{engine_name}"]()


def upgrade_write() -> None:
    op.create_table(
        'reminder_deliveries',
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('appointment_id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=True),
        sa.Column('address', sa.String(length=254), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_by', sa.String(length=120), nullable=True),
        sa.Column('provider_id', sa.String(length=200), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('due', 'sending', 'committing', 'sent', 'skipped', 'parked', 'dropped')",
            name=op.f('ck_reminder_deliveries_state'),
        ),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_reminder_deliveries')),
    )
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_deliveries_state_next_at'), ['state', 'next_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_deliveries_appointment_id'), ['appointment_id'], unique=False)


def downgrade_write() -> None:
    op.drop_table('reminder_deliveries')


def upgrade_read() -> None:
    with op.batch_alter_table('rm_patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consents', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('preferred_channel', sa.String(length=10), server_default='email', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=5), server_default='', nullable=False))
    with op.batch_alter_table('rm_appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_answer', sa.String(length=12), nullable=True))


def downgrade_read() -> None:
    with op.batch_alter_table('rm_appointments', schema=None) as batch_op:
        batch_op.drop_column('patient_answer')
    with op.batch_alter_table('rm_patients', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('preferred_channel')
        batch_op.drop_column('consents')
