"""the statistics counters no longer check their agency and procedure on every write

The counter tables hold figures derived from the dossiers, which do reference
their agency and procedure (and agencies and procedures are never deleted), so
the foreign keys of the counters only cost: two lookups and two row locks on
every counter row written, about a third of an import's counter work and a part
of every step's. Dropping them rewrites nothing on PostgreSQL; SQLite copies the
three tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# table -> (name of the constraint, column, table it referred to)
FOREIGN_KEYS = {
    'stat_cells': (('fk_stat_cells_agency_id_agencies', 'agency_id', 'agencies'),
                   ('fk_stat_cells_procedure_id_procedures', 'procedure_id', 'procedures')),
    'stat_agency_cells': (('fk_stat_agency_cells_agency_id_agencies', 'agency_id', 'agencies'),),
    'stat_procedure_cells': (('fk_stat_procedure_cells_procedure_id_procedures', 'procedure_id', 'procedures'),),
}


def upgrade():
    for table, keys in FOREIGN_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _column, _target in keys:
                batch_op.drop_constraint(name, type_='foreignkey')


def downgrade():
    for table, keys in FOREIGN_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, target in keys:
                batch_op.create_foreign_key(name, target, [column], ['id'])
