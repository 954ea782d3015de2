"""event store, reservations, processed commands

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 14:14:33.082114

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str) -> None:
    globals()[f"downgrade_{engine_name}"]()


def upgrade_read() -> None:
    pass


def downgrade_read() -> None:
    pass


def upgrade_write() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # The no-overlap exclusion constraint compares uuids with = inside a GiST index.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('events',
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), sa.Identity(always=False), nullable=False),
    sa.Column('tx_id', sa.BigInteger(), nullable=False),
    sa.Column('stream_id', sa.Uuid(), nullable=False),
    sa.Column('stream_type', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('schema_version', sa.SmallInteger(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('position', name=op.f('pk_events')),
    sa.UniqueConstraint('stream_id', 'version', name='uq_events_stream_version')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_stream_type_event_type', ['stream_type', 'event_type'], unique=False)
        batch_op.create_index('ix_events_tx_id_position', ['tx_id', 'position'], unique=False)

    op.create_table('processed_commands',
    sa.Column('command_id', sa.Uuid(), nullable=False),
    sa.Column('command_type', sa.String(length=60), nullable=False),
    sa.Column('stream_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('command_id', name=op.f('pk_processed_commands'))
    )
    op.create_table('reservations',
    sa.Column('appointment_id', sa.Uuid(), nullable=False),
    sa.Column('doctor_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('appointment_id', name=op.f('pk_reservations'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index('ix_reservations_doctor_id_starts_at', ['doctor_id', 'starts_at'], unique=False)

    if postgres:
        # Two active appointments of one doctor never overlap, even when booked at once.
        op.execute(
            "ALTER TABLE reservations ADD CONSTRAINT reservations_no_overlap "
            "EXCLUDE USING gist (doctor_id WITH =, tstzrange(starts_at, ends_at) WITH &&)"
        )


def downgrade_write() -> None:
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_reservations_doctor_id_starts_at')

    op.drop_table('reservations')
    op.drop_table('processed_commands')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_tx_id_position')
        batch_op.drop_index('ix_events_stream_type_event_type')

    op.drop_table('events')

