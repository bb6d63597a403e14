"""The configured limits hold exactly across gunicorn's worker processes.

A gunicorn with 4 workers gets N + k requests at once from one client (a client address
of its own per limit, through a trusted proxy's X-Forwarded-For): exactly N get through,
for the public budget, failed verifications and failed logins; once with the default
storage (a SQLite file in the instance folder) and once with Redis.
"""
from __future__ import annotations

import os
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import PASSWORD, Factory, wipe
from tests.integration.live import call, gunicorn
from tracker.extensions import db

PUBLIC, VERIFY, LOGIN = 20, 5, 5
EXTRA = 10
BODY = {"procedure_code": "1.000001", "channel": "direct",
        "applicant": {"name": "Nguyễn Văn An", "id_number": "046195001122"}}
REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def database(apps, database_urls):
    """The SQLite test database with a clerk (the storage, not the database, is under test)."""
    app = apps["sqlite"]
    wipe(app)
    factory = Factory(app)
    factory.agency("000.01.00.H57", "Sở Tư pháp")
    factory.procedure("1.000001", 3, "working_days")
    factory.user("clerk", "clerk", "000.01.00.H57")
    with app.app_context():
        db.engine.dispose()
    return database_urls["sqlite"]


def _clients() -> list[str]:
    """Addresses of clients of this run only (Redis keeps counters between runs).

    Drawn from the system's generator: the suite's property tests reseed ``random``.
    """
    draw = random.SystemRandom()
    base = draw.randrange(1, 250)
    return [f"10.{base}.{draw.randrange(256)}.{n}" for n in range(1, 5)]


def _forget_earlier_runs(code: str) -> None:
    """Drop what earlier runs left in Redis under this run's dossier code and clerk.

    Every run's fresh database gives its first dossier the same code, and its clerk the
    same name; the shared buckets of that code and name would fill up over a few runs
    within the hour and lock the citizen (the clerk) out. No other test uses them.
    """
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    for pattern in (f"*/{code}/*", "*/clerk/*"):
        for key in store.scan_iter(pattern):
            store.delete(key)


def _at_once(count: int, job) -> list[int]:
    with ThreadPoolExecutor(8) as pool:
        return sorted(pool.map(lambda _: job(), range(count)))


@pytest.mark.parametrize("storage", ["default", "redis"])
def test_each_limit_lets_exactly_its_number_through(database, tmp_path, storage):
    env = {"TRACKER_TRUSTED_PROXIES": "1", "TRACKER_RATELIMIT_PUBLIC": f"{PUBLIC}/hour",
           "TRACKER_RATELIMIT_VERIFY": f"{VERIFY}/hour", "TRACKER_RATELIMIT_LOGIN": f"{LOGIN}/hour"}
    if storage == "redis":
        env["TRACKER_RATELIMIT_STORAGE_URL"] = REDIS_URL
    scraper, guesser, cracker, citizen = _clients()
    with gunicorn(database, tmp_path, workers=4, env=env) as server:
        status, _, created = call("POST", f"{server.api}/dossiers", BODY, server.auth("clerk"))
        assert status == 201, created
        if storage == "redis":
            _forget_earlier_runs(created["code"])
        lookup = f"{server.api}/public/dossiers/{created['code']}"

        def get(client, query=""):
            return call("GET", lookup + query, headers={"X-Forwarded-For": client})[0]

        assert _at_once(PUBLIC + EXTRA, lambda: get(scraper)) == [200] * PUBLIC + [429] * EXTRA
        assert _at_once(VERIFY + EXTRA, lambda: get(guesser, "?verify=000000000")) == \
            [200] * VERIFY + [429] * EXTRA
        # Someone else's failures alone do not lock the citizen out.
        status, _, body = call("GET", lookup + "?verify=046195001122", headers={"X-Forwarded-For": citizen})
        assert status == 200 and body["verified"] is True

        def login():
            return call("POST", f"{server.api}/auth/login", {"username": "clerk", "password": "wrong-password"},
                        {"X-Forwarded-For": cracker})[0]

        assert _at_once(LOGIN + EXTRA, login) == [401] * LOGIN + [429] * EXTRA
        status, _, _ = call("POST", f"{server.api}/auth/login", {"username": "clerk", "password": PASSWORD},
                            {"X-Forwarded-For": citizen})
        assert status == 200
    if storage == "default":
        counters = tmp_path / "ratelimits.db"
        assert counters.exists() and counters.stat().st_mode & 0o777 == 0o600
