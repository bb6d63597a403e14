"""The schema is built only by the migrations: they match the models and run both ways.

Each test takes a fresh, empty database of its own on every backend (a new SQLite
file, or a new PostgreSQL database on the TRACKER_TEST_DATABASE_URL server).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_SETTINGS
from tracker import create_app
from tracker.models.migrating import MIGRATE_OPTIONS
from tracker.extensions import db

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@pytest.fixture(scope="module")
def fresh_databases(tmp_path_factory):
    """Empty databases of this module's own, one per backend, dropped at the end.

    Created once per module (CREATE and DROP DATABASE cost seconds on PostgreSQL);
    each test empties its database first (see ``fresh_app``).
    """
    urls: dict[str, str] = {}
    created: list[str] = []
    server = os.environ.get("TRACKER_TEST_DATABASE_URL")
    admin = create_engine(server, isolation_level="AUTOCOMMIT") if server else None

    def url_for(backend: str) -> str:
        if backend not in urls:
            if backend == "sqlite":
                urls[backend] = f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'fresh.db'}"
            else:
                name = f"tracker_mig_{uuid.uuid4().hex[:10]}"
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                created.append(name)
                urls[backend] = make_url(server).set(database=name).render_as_string(hide_password=False)
        return urls[backend]

    yield url_for
    if admin is not None:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_app(fresh_databases, backend):
    """An app on an empty database: every table (alembic_version included) dropped."""
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": fresh_databases(backend)})
    with app.app_context():
        existing = MetaData()
        existing.reflect(bind=db.engine)
        existing.drop_all(bind=db.engine)
        assert schema() == {}
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def head_revisions() -> set[str]:
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def current_revisions() -> set[str]:
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def schema() -> dict:
    """Tables with their columns, primary keys, foreign keys, unique constraints and indexes."""
    with db.engine.connect() as conn:
        inspector = inspect(conn)
        snapshot = {}
        for table in sorted(inspector.get_table_names()):
            snapshot[table] = {
                "columns": sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)),
                "pk": sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
                "fks": sorted((tuple(fk["constrained_columns"]), fk["referred_table"],
                               tuple(fk["referred_columns"])) for fk in inspector.get_foreign_keys(table)),
                "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                  for i in inspector.get_indexes(table)),
            }
        return snapshot


def model_tables() -> set[str]:
    return set(db.metadata.tables)


def test_there_is_one_head():
    assert len(head_revisions()) == 1


def test_head_matches_the_models(fresh_app):
    with fresh_app.app_context():
        upgrade()
        assert current_revisions() == head_revisions()
        assert set(schema()) == model_tables() | {"alembic_version"}
        options = {key: value for key, value in MIGRATE_OPTIONS.items() if key != "render_item"}
        assert options["compare_type"] is True
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={**options, "target_metadata": db.metadata})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], "the models and the migrations differ:\n" + "\n".join(map(repr, diff))


def test_downgrade_to_base_and_upgrade_again(fresh_app):
    with fresh_app.app_context():
        upgrade()
        migrated = schema()
        downgrade(revision="base")
        db.session.remove()
        assert set(schema()) <= {"alembic_version"}, "downgrade to base leaves tables behind"
        assert current_revisions() == set()
        upgrade()
        assert current_revisions() == head_revisions()
        assert schema() == migrated


def test_flask_db_upgrade_twice_is_harmless(fresh_app):
    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    with fresh_app.app_context():
        migrated = schema()
        from tracker.services import reference
        from tracker.services.audit import SYSTEM

        reference.create_agency(SYSTEM, {"code": "000.00.00.H57", "name": "UBND tỉnh", "level": "province"})
        db.session.commit()
        db.session.remove()
    second = runner.invoke(args=["db", "upgrade"])
    assert second.exit_code == 0, second.output
    with fresh_app.app_context():
        assert schema() == migrated
        assert current_revisions() == head_revisions()
        names = db.session.execute(text("SELECT name FROM agencies")).scalars().all()
        assert names == ["UBND tỉnh"]
