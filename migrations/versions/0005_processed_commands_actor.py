"""processed commands: who sent each one

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str) -> None:
    globals()[f"downgrade_{engine_name}"]()


def upgrade_write() -> None:
    # Nullable: commands logged before this revision keep no actor (a replay of one checks
    # only its action and record).
    with op.batch_alter_table('processed_commands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor', sa.Text(), nullable=True))


def downgrade_write() -> None:
    with op.batch_alter_table('processed_commands', schema=None) as batch_op:
        batch_op.drop_column('actor')


def upgrade_read() -> None:
    pass


def downgrade_read() -> None:
    pass
