"""read models and projection checkpoints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:01:34.390062

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str) -> None:
    globals()[f"downgrade_{engine_name}"]()


TRIGRAM_INDEXES = [
    ("rm_appointments", "patient_name_key"),
    ("rm_patients", "name_key"),
    ("rm_patients", "phone_digits"),
]


def upgrade_write() -> None:
    pass


def downgrade_write() -> None:
    pass


def upgrade_read() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Trigram indexes make "part of a name or phone" searches fast at any size.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('projection_checkpoints',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tx_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_tx_id', sa.BigInteger(), nullable=True),
    sa.Column('failed_position', sa.BigInteger(), nullable=True),
    sa.Column('failed_event_type', sa.String(length=80), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('parked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_projection_checkpoints'))
    )
    op.create_table('projection_skipped_events',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('tx_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('skipped_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', 'tx_id', 'position', name=op.f('pk_projection_skipped_events'))
    )
    op.create_table('rm_agenda_touches',
    sa.Column('doctor_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('appointment_id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('doctor_id', 'day', 'appointment_id', name=op.f('pk_rm_agenda_touches'))
    )
    op.create_table('rm_appointment_parties',
    sa.Column('party_id', sa.Uuid(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('party_id', name=op.f('pk_rm_appointment_parties'))
    )
    op.create_table('rm_appointments',
    sa.Column('appointment_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('doctor_id', sa.Uuid(), nullable=False),
    sa.Column('patient_name', sa.String(length=200), nullable=False),
    sa.Column('patient_name_key', sa.Text(), nullable=False),
    sa.Column('patient_phone', sa.String(length=40), nullable=False),
    sa.Column('doctor_name', sa.String(length=200), nullable=False),
    sa.Column('doctor_specialty', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('booked_by', sa.String(length=120), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('reschedules', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_rm_appointments'))
    )
    with op.batch_alter_table('rm_appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rm_appointments_doctor_id_starts_at_appointment_id'), ['doctor_id', 'starts_at', 'appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rm_appointments_patient_id_starts_at_appointment_id'), ['patient_id', 'starts_at', 'appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rm_appointments_starts_at_appointment_id'), ['starts_at', 'appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rm_appointments_status_starts_at_appointment_id'), ['status', 'starts_at', 'appointment_id'], unique=False)

    op.create_table('rm_day_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'status', name=op.f('pk_rm_day_counts'))
    )
    op.create_table('rm_doctors',
    sa.Column('doctor_id', sa.Uuid(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.Column('specialty', sa.String(length=120), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('hours', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('doctor_id', name=op.f('pk_rm_doctors'))
    )
    with op.batch_alter_table('rm_doctors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rm_doctors_name_key_doctor_id'), ['name_key', 'doctor_id'], unique=False)

    op.create_table('rm_patients',
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.Text(), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('phone_digits', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_rm_patients'))
    )
    with op.batch_alter_table('rm_patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rm_patients_name_key_patient_id'), ['name_key', 'patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rm_patients_phone_digits'), ['phone_digits'], unique=False)

    if postgres:
        for table, column in TRIGRAM_INDEXES:
            op.create_index(
                f"ix_{table}_{column}_trgm",
                table,
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )


def downgrade_read() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, column in TRIGRAM_INDEXES:
            op.drop_index(f"ix_{table}_{column}_trgm", table_name=table)
    with op.batch_alter_table('rm_patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rm_patients_phone_digits'))
        batch_op.drop_index(batch_op.f('ix_rm_patients_name_key_patient_id'))

    op.drop_table('rm_patients')
    with op.batch_alter_table('rm_doctors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rm_doctors_name_key_doctor_id'))

    op.drop_table('rm_doctors')
    op.drop_table('rm_day_counts')
    with op.batch_alter_table('rm_appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rm_appointments_status_starts_at_appointment_id'))
        batch_op.drop_index(batch_op.f('ix_rm_appointments_starts_at_appointment_id'))
        batch_op.drop_index(batch_op.f('ix_rm_appointments_patient_id_starts_at_appointment_id'))
        batch_op.drop_index(batch_op.f('ix_rm_appointments_doctor_id_starts_at_appointment_id'))

    op.drop_table('rm_appointments')
    op.drop_table('rm_appointment_parties')
    op.drop_table('rm_agenda_touches')
    op.drop_table('projection_skipped_events')
    op.drop_table('projection_checkpoints')

