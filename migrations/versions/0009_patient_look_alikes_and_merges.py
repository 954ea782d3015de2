"""patients found by date of birth (the look-alike check at registration), and merged

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
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
    with op.batch_alter_table('rm_patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_rm_patients_date_of_birth'), ['date_of_birth'], unique=False)
        batch_op.create_index(batch_op.f('ix_rm_patients_merged_into'), ['merged_into'], unique=False)
    with op.batch_alter_table('rm_appointment_parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into', sa.Uuid(), nullable=True))


def downgrade_read() -> None:
    with op.batch_alter_table('rm_appointment_parties', schema=None) as batch_op:
        batch_op.drop_column('merged_into')
    with op.batch_alter_table('rm_patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rm_patients_merged_into'))
        batch_op.drop_index(batch_op.f('ix_rm_patients_date_of_birth'))
        batch_op.drop_column('merged_into')
