"""Failed verifications and logins: a client's own bucket, the shared bucket of the code or
username (4 times larger), and the file storage that every worker of a machine shares."""
from __future__ import annotations

import multiprocessing

import pytest

from tests.api.test_public import PUBLIC, _ip, _seed
from tests.conftest import PASSWORD, Factory, assert_problem
from tracker import config as settings
from tracker.extensions import limiter
from tracker.ratelimit_sqlite import SQLiteFileStorage, sqlite_file_uri

# -- the shared buckets ---------------------------------------------------------------------------


@pytest.fixture
def strict(make_app):
    """3 failures per client and code or username, the shared buckets at their default (12)."""
    app = make_app(TRACKER_RATELIMIT_VERIFY="3/minute", TRACKER_RATELIMIT_VERIFY_CODE=None,
                   TRACKER_RATELIMIT_LOGIN="3/minute")
    code = _seed(app)
    with app.app_context():
        limiter.reset()
    return app, code


def test_a_guesser_does_not_lock_the_citizen_out_of_verifying(strict):
    app, code = strict
    client = app.test_client()

    def verify(ip, value):
        return client.get(PUBLIC + code, query_string={"verify": value}, environ_base={"REMOTE_ADDR": ip})

    guesser, citizen = _ip(), _ip()
    for _ in range(3):
        assert verify(guesser, "000000000").get_json()["verified"] is False
    assert_problem(verify(guesser, "000000000"), 429)
    assert verify(citizen, "046195001122").get_json()["verified"] is True
    # Spread over more addresses, 12 failures in all close the dossier's own bucket.
    for _ in range(9):
        assert verify(_ip(), "000000000").get_json()["verified"] is False
    refused = verify(citizen, "046195001122")
    assert_problem(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_a_cracker_does_not_lock_the_user_out_of_logging_in(strict):
    app, _ = strict
    client = app.test_client()

    def login(ip, password):
        return client.post("/api/v1/auth/login", json={"username": "clerk", "password": password},
                           environ_base={"REMOTE_ADDR": ip})

    cracker, user = _ip(), _ip()
    for _ in range(3):
        assert_problem(login(cracker, "wrong-password"), 401)
    assert_problem(login(cracker, PASSWORD), 429)
    assert login(user, PASSWORD).status_code == 200
    for _ in range(9):  # 12 failures for the username in all, from several addresses
        assert_problem(login(_ip(), "wrong-password"), 401)
    assert_problem(login(user, PASSWORD), 429)


def test_one_address_is_stopped_after_many_usernames(strict):
    app, _ = strict
    Factory(app).user("other", "clerk", "000.01.00.H57")
    client = app.test_client()
    me = _ip()
    for n in range(12):
        response = client.post("/api/v1/auth/login", json={"username": f"user{n}", "password": "x"},
                               environ_base={"REMOTE_ADDR": me})
        assert_problem(response, 401)
    response = client.post("/api/v1/auth/login", json={"username": "other", "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": me})
    assert_problem(response, 429)


# -- the file storage -----------------------------------------------------------------------------


@pytest.fixture
def storage(tmp_path):
    return SQLiteFileStorage(sqlite_file_uri(tmp_path / "counters" / "ratelimits.db"))


def test_counters_count_expire_and_clear(storage, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr("tracker.ratelimit_sqlite.time.time", lambda: now[0])
    assert storage.get("k") == 0 and storage.get_expiry("k") == now[0]
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=-1) == 2
    assert storage.get("k") == 2 and storage.get_expiry("k") == 1_000_060.0
    now[0] += 60  # the window has ended: a new one starts at the new hit
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1 and storage.get_expiry("k") == 1_000_120.0
    storage.incr("other", 60)
    storage.clear("k")
    assert storage.get("k") == 0 and storage.get("other") == 1
    assert storage.reset() == 1 and storage.get("other") == 0
    assert storage.check() is True


def test_the_file_and_its_folder_are_private(storage):
    storage.incr("k", 60)
    assert storage.path.stat().st_mode & 0o777 == 0o600
    assert storage.path.parent.stat().st_mode & 0o777 == 0o700


def _hit_many(uri: str, count: int) -> None:
    store = SQLiteFileStorage(uri)
    for _ in range(count):
        store.incr("shared", 3600)


def test_processes_never_lose_an_increment(tmp_path):
    uri = sqlite_file_uri(tmp_path / "ratelimits.db")
    storage = SQLiteFileStorage(uri)  # opened before the fork, as gunicorn's master does
    storage.incr("shared", 3600)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_hit_many, args=(uri, 300)) for _ in range(4)]
    for worker in workers:
        worker.start()
    _hit_many(uri, 300)
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert storage.get("shared") == 1 + 5 * 300


def test_the_app_uses_the_file_storage_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_RATELIMIT_STORAGE_URL", raising=False)
    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path)
    monkeypatch.setenv("TRACKER_SECRET_KEY", "x" * 40)
    assert settings.from_environment()["RATELIMIT_STORAGE_URI"] == f"sqlite-file://{tmp_path / 'ratelimits.db'}"
    monkeypatch.setenv("TRACKER_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0")
    assert settings.from_environment()["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
