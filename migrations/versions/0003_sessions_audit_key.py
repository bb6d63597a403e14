"""login sessions, a keyed audit chain that seals the steps, case-insensitive usernames

Usernames become lower-case. Of names that differed only by case, one already in lower
case keeps it (else the oldest account); the others get a ``-<id>`` suffix, reported in
the migration's log.
Audit records written before this revision have no key id: run
``flask tracker audit-upgrade`` once after upgrading, which checks the old chain and
seals it, and the steps already recorded, with TRACKER_AUDIT_KEY.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:10:00.000000

"""
import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')


def _lower_case_usernames():
    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String))
    rows = connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    # Names already in lower case stay as they are: nothing renamed can clash with one of them.
    taken = {username for _, username in rows if username == username.strip().lower()}
    for user_id, username in rows:
        wanted = username.strip().lower()
        if wanted == username:
            continue
        if wanted in taken:
            suffix = f'-{user_id}'
            wanted = wanted[:64 - len(suffix)] + suffix
            log.warning('username %s is now %s: another user has it in another letter case', username, wanted)
        taken.add(wanted)
        connection.execute(sa.update(users).where(users.c.id == user_id).values(username=wanted))


def upgrade():
    op.create_table('login_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kid', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('seal', sa.String(length=64), nullable=True))

    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kid', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('steps_sealed', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('steps_digest', sa.String(length=64), nullable=True))

    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_id', sa.Integer(), nullable=True))

    _lower_case_usernames()
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_users_username_lower_case'), 'username = lower(username)')


def downgrade():
    # Usernames stay lower-case: their former letter case is not kept anywhere.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_username_lower_case'), type_='check')

    with op.batch_alter_table('steps', schema=None) as batch_op:
        batch_op.drop_column('audit_id')

    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_column('steps_digest')
        batch_op.drop_column('steps_sealed')
        batch_op.drop_column('kid')

    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('seal')
        batch_op.drop_column('kid')

    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_login_sessions_expires_at'))

    op.drop_table('login_sessions')
