"""Fixtures: an app per database backend, built by the migrations, cleaned between tests.

Every test that takes ``app`` (or ``client``) runs on SQLite and, when
``TRACKER_TEST_DATABASE_URL`` points at a PostgreSQL server, on PostgreSQL too,
in a database the suite creates and drops itself.
"""
from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from tracker import create_app
from tracker.extensions import db, limiter
from tracker.models.revision import DataRevision, first_row

# No test depends on how fast the machine is: on two shared cores a property that takes
# 14 ms alone may take 400 ms, and Hypothesis's default deadline would call that a failure.
settings.register_profile("tracker", deadline=None)
settings.load_profile("tracker")

TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
    "TRACKER_AUDIT_KEY": "test-audit-key-that-is-kept-outside-the-database",
    "TRACKER_RATELIMIT_LOGIN": "1000/minute",
    "TRACKER_RATELIMIT_PUBLIC": "1000/minute",
    "TRACKER_CORS_ORIGINS": ["https://portal.example.vn"],
    # The in-process tests run in one process each: counters of their own, in memory
    # (the shared file storage is tested with gunicorn, tests/integration/test_limits_across_workers.py).
    "RATELIMIT_STORAGE_URI": "memory://",
    # The lookup tests verify from a new address each time and expect the dossier's own
    # bucket to close after 5 failures, as the per-client one does.
    "TRACKER_RATELIMIT_VERIFY_CODE": "5 per 15 minutes",
}

PASSWORD = "Correct-Horse-42"


def pytest_collection_modifyitems(config, items):
    """A SQLite-only run (no ``TRACKER_TEST_DATABASE_URL``) leaves out the tests that need a PostgreSQL server."""
    if os.environ.get("TRACKER_TEST_DATABASE_URL"):
        return
    needs_server = [item for item in items if item.get_closest_marker("replica")]
    if needs_server:
        config.hook.pytest_deselected(items=needs_server)
        items[:] = [item for item in items if not item.get_closest_marker("replica")]


def _backends() -> list[str]:
    return ["sqlite"] + (["postgresql"] if os.environ.get("TRACKER_TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """One migrated database per backend for the whole session (per xdist worker)."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'tracker.db'}"}
    created = None
    server = os.environ.get("TRACKER_TEST_DATABASE_URL")
    if server:
        name = f"tracker_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        urls["postgresql"] = make_url(server).set(database=name).render_as_string(hide_password=False)
        created = (admin, name)
    for url in urls.values():
        migrate_to_head(url)
    yield urls
    if created:
        admin, name = created
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate_to_head(url: str) -> None:
    """Build the schema the only way it is ever built: with the migrations."""
    from flask_migrate import upgrade

    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def wipe(app) -> None:
    """Empty every table (faster than rebuilding the schema for each test)."""
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
            # The revision's row, as the migration leaves it (a new epoch: nothing remembered before counts).
            conn.execute(insert(DataRevision.__table__).values(**first_row()))
        db.session.remove()


@pytest.fixture
def empty_url(backend, tmp_path):
    """The URL of a second, empty database on this test's backend (dropped at the end)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    server = os.environ["TRACKER_TEST_DATABASE_URL"]
    name = f"tracker_import_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def apps(database_urls):
    """One app per backend, reused by every test."""
    built = {}
    for backend, url in database_urls.items():
        built[backend] = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url})
    yield built
    for app in built.values():
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(params=_backends())
def backend(request):
    """The database backend of this test run."""
    return request.param


@pytest.fixture
def app(apps, backend):
    """A clean app on one backend."""
    app = apps[backend]
    wipe(app)
    with app.app_context():
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()


@pytest.fixture
def make_app(database_urls, backend):
    """Build an app with other settings on this test's backend (tables are wiped)."""
    built = []

    def factory(**settings):
        app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_urls[backend], **settings})
        wipe(app)
        built.append(app)
        return app

    yield factory
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Factory:
    """Creates reference data and users straight through the services."""

    def __init__(self, app):
        self.app = app

    def agency(self, code: str, name: str | None = None, parent: str | None = None, level: str = "other"):
        from tracker.services import reference
        from tracker.services.audit import SYSTEM

        with self.app.app_context():
            reference.create_agency(SYSTEM, {"code": code, "name": name or f"Đơn vị {code}",
                                             "parent_code": parent, "level": level})
            db.session.commit()
        return code

    def procedure(self, code: str = "1.000001", value: int = 3, unit: str = "working_days",
                  field: str = "Hộ tịch", name: str | None = None, online_level: str = "none"):
        from tracker.services import reference
        from tracker.services.audit import SYSTEM

        with self.app.app_context():
            reference.create_procedure(SYSTEM, {"code": code, "name": name or f"Thủ tục {code}", "field": field,
                                                "time_limit": {"value": value, "unit": unit},
                                                "online_level": online_level})
            db.session.commit()
        return code

    def user(self, username: str, role: str = "clerk", agency: str | None = None, active: bool = True):
        from tracker.services import users
        from tracker.services.audit import SYSTEM

        with self.app.app_context():
            users.create_user(SYSTEM, {"username": username, "password": PASSWORD, "role": role,
                                       "agency_code": agency, "full_name": username.title(),
                                       "active": active}, check_caller=False)
            db.session.commit()
        return username


@pytest.fixture
def factory(app):
    return Factory(app)


class Auth:
    """Logs users in and hands out ``Authorization`` headers."""

    def __init__(self, client):
        self.client = client

    def tokens(self, username: str, password: str = PASSWORD) -> dict:
        response = self.client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def headers(self, username: str, password: str = PASSWORD) -> dict:
        return {"Authorization": "Bearer " + self.tokens(username, password)["access_token"]}


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def city(factory):
    """A small agency tree with one user of each role.

    ROOT (admin's city) ├─ DEPT (manager, clerk, viewer) │  └─ DEPT.SUB
                        └─ OTHER (other_clerk)
    """
    factory.agency("000.00.00.H57", "UBND thành phố Huế", level="province")
    factory.agency("000.01.00.H57", "Sở Tư pháp", parent="000.00.00.H57", level="department")
    factory.agency("000.01.01.H57", "Phòng Hộ tịch", parent="000.01.00.H57")
    factory.agency("000.02.00.H57", "Sở Xây dựng", parent="000.00.00.H57", level="department")
    factory.procedure("1.000001", 3, "working_days")
    factory.procedure("1.000002", 4, "working_hours", field="Chứng thực")
    factory.user("admin", "admin")
    factory.user("manager", "manager", "000.01.00.H57")
    factory.user("clerk", "clerk", "000.01.00.H57")
    factory.user("sub_clerk", "clerk", "000.01.01.H57")
    factory.user("viewer", "viewer", "000.01.00.H57")
    factory.user("other_clerk", "clerk", "000.02.00.H57")
    return factory


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Argon2id at its lowest cost for the suite: the production cost (~0.15 s a hash)
    would spend most of the run hashing the fixtures' passwords and logging in."""
    from argon2 import PasswordHasher

    from tracker.services import passwords

    saved = passwords._hasher, passwords._DUMMY_HASH
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._DUMMY_HASH = passwords._hasher.hash("no such user")
    yield
    passwords._hasher, passwords._DUMMY_HASH = saved


def assert_problem(response, status: int) -> dict:
    """Check that ``response`` is an RFC 9457 problem document with ``status``; return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json", response.headers
    body = response.get_json(force=True)
    assert isinstance(body, dict), body
    assert body["status"] == status, body
    for key in ("type", "title", "detail"):
        assert isinstance(body.get(key), str) and body[key].strip(), (key, body)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text, text
    return body
