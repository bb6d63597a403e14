"""Revision 0003 on a database with data: usernames become lower-case without clashes."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests.integration.test_migrations import fresh_app, fresh_databases  # noqa: F401  (fixtures)
from tracker.extensions import db


def test_usernames_are_lower_cased_and_clashes_renamed(fresh_app):  # noqa: F811
    with fresh_app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as conn:
            for name in ("Admin", "admin", "Nguyen.An", "ADMIN", "clerk", "Tran", "TRAN"):
                conn.execute(text("INSERT INTO users (username, password_hash, full_name, role, active, created_at) "
                                  "VALUES (:name, 'x', '', 'admin', true, CURRENT_TIMESTAMP)"), {"name": name})
        upgrade()
        with db.engine.connect() as conn:
            names = conn.execute(text("SELECT id, username FROM users ORDER BY id")).all()
        # "admin" was already lower-case and keeps its name; of "Tran" and "TRAN", the older gets "tran".
        assert [n for _, n in names] == [f"admin-{names[0][0]}", "admin", "nguyen.an", f"admin-{names[3][0]}",
                                         "clerk", "tran", f"tran-{names[6][0]}"]
        # And they go back down and up again (the names stay lower-case).
        downgrade(revision="0002")
        upgrade()
        with db.engine.connect() as conn:
            assert [n for _, n in conn.execute(text("SELECT id, username FROM users ORDER BY id"))] == \
                [n for _, n in names]
        db.session.remove()
