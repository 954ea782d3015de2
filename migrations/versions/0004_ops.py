"""operations page: rebuild requests and metric samples

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# At most one queued or running rebuild per projection: a partial unique index, which
# PostgreSQL and SQLite both have.
ACTIVE = "state IN ('queued', 'running')"


def upgrade(engine_name: str) -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str) -> None:
    globals()[f"downgrade_{engine_name}"]()


def upgrade_write() -> None:
    pass


def downgrade_write() -> None:
    pass


def upgrade_read() -> None:
    op.create_table('projection_rebuilds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('projection', sa.String(length=60), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('done', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name='ck_projection_rebuilds_state'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projection_rebuilds'))
    )
    with op.batch_alter_table('projection_rebuilds', schema=None) as batch_op:
        batch_op.create_index('ix_projection_rebuilds_active', ['projection'], unique=True, postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
        batch_op.create_index(batch_op.f('ix_projection_rebuilds_projection_requested_at'), ['projection', 'requested_at'], unique=False)

    op.create_table('ops_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ops_samples'))
    )
    with op.batch_alter_table('ops_samples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ops_samples_taken_at'), ['taken_at'], unique=False)


def downgrade_read() -> None:
    with op.batch_alter_table('ops_samples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ops_samples_taken_at'))

    op.drop_table('ops_samples')
    with op.batch_alter_table('projection_rebuilds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projection_rebuilds_projection_requested_at'))
        batch_op.drop_index('ix_projection_rebuilds_active')

    op.drop_table('projection_rebuilds')
