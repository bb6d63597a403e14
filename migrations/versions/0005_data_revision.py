"""the data revision, which lets each process remember finished public reports

One row, moved by every transaction that changes what the public reports read
(``tracker.models.revision``). Adding it rewrites nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:40:00.000000

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('data_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_revision'))
    )
    op.bulk_insert(table, [{'id': 1, 'epoch': uuid.uuid4().hex, 'value': 0}])


def downgrade():
    op.drop_table('data_revision')
