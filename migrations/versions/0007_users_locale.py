"""a staff account's language

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 13:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade(engine_name: str) -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str) -> None:
    globals()[f"downgrade_{engine_name}"]()


def upgrade_write() -> None:
    # NULL: the account follows the clinic's language (CLINIC_LOCALE).
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade_write() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('locale')


def upgrade_read() -> None:
    pass


def downgrade_read() -> None:
    pass
