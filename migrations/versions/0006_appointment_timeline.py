"""appointment timeline read model

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 09:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str) -> None:
    globals()[f"downgrade_{engine_name}"]()


def upgrade_write() -> None:
    pass


def downgrade_write() -> None:
    pass


def upgrade_read() -> None:
    # Empty: the timeline projection has no checkpoint yet, so it starts from the first
    # event and fills the table as it catches up (`flask projections rebuild timeline` is
    # the faster way on a large store).
    op.create_table('rm_appointment_timeline',
    sa.Column('appointment_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('summary', sa.String(length=120), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('patient_id', sa.Uuid(), nullable=True),
    sa.Column('doctor_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('appointment_id', 'version', name=op.f('pk_rm_appointment_timeline'))
    )


def downgrade_read() -> None:
    op.drop_table('rm_appointment_timeline')
    # The projection's bookkeeping goes with its table, so an upgrade starts it afresh.
    op.execute("DELETE FROM projection_checkpoints WHERE name = 'timeline'")
    op.execute("DELETE FROM projection_skipped_events WHERE name = 'timeline'")
