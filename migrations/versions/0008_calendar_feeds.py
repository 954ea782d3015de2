"""doctors' calendar subscription links (hashed tokens)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 00:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str) -> None:
    globals()[f"downgrade_{engine_name}"]()


def upgrade_write() -> None:
    op.create_table('calendar_feeds',
    sa.Column('doctor_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('doctor_id', name=op.f('pk_calendar_feeds'))
    )


def downgrade_write() -> None:
    op.drop_table('calendar_feeds')


def upgrade_read() -> None:
    pass


def downgrade_read() -> None:
    pass
