"""A real PostgreSQL streaming replica on loopback: which route reads where, and the fallback.

The replica is cloned from the test server with ``pg_basebackup -R`` and started with
``pg_ctl`` as the ``postgres`` user, on a free port, in a temporary folder removed at
the end. The server must allow it: ``wal_level`` ``replica`` (or ``logical``) and a
``host replication all 127.0.0.1/32 trust`` line in its pg_hba.conf (.ci/run adds
it). When it does not, the test fails and says what is missing: it is never skipped
on a run with PostgreSQL. Without ``TRACKER_TEST_DATABASE_URL`` (a SQLite-only run)
it is deselected (marker ``replica``, see tests/conftest.py).
"""
from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import TEST_SETTINGS, Auth, Factory, wipe
from tracker import create_app
from tracker.extensions import db
from tracker.services import replica

pytestmark = pytest.mark.replica

PUBLIC = "/api/v1/public/dossiers/"
APPLICANT = {"name": "Võ Thị Gương", "id_number": "046195001177", "phone": "0912000222"}
# Settings a hot standby must hold at least as high as its primary's.
AT_LEAST_PRIMARY = ("max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
                    "max_locks_per_transaction")


def _as_postgres(*command: str, **options) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120, **options)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _require(condition: bool, reason: str) -> None:
    if not condition:
        pytest.fail(f"the replica test cannot run on this machine: {reason}", pytrace=False)


class Replica:
    """A hot standby of the test server, streaming from it."""

    def __init__(self, server_url: str, database: str):
        self.server = make_url(server_url)
        self.admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        self.folder = Path(tempfile.mkdtemp(prefix="tracker-replica-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.url = self.server.set(host="127.0.0.1", port=self.port, database=database)
        self.engine = None

    def start(self) -> None:
        with self.admin.connect() as conn:
            wal_level = conn.scalar(text("SHOW wal_level"))
            limits = {name: conn.scalar(text(f"SHOW {name}")) for name in AT_LEAST_PRIMARY}
        _require(wal_level in ("replica", "logical"),
                 f"wal_level is {wal_level!r}; run ALTER SYSTEM SET wal_level = replica and restart the server")
        _require(shutil.which("pg_basebackup") is not None, "pg_basebackup is not on PATH")
        _require(shutil.which("pg_ctl") is not None, "pg_ctl is not on PATH")
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        clone = _as_postgres("pg_basebackup", "-R", "-X", "stream", "-c", "fast", "-D", str(self.data), "-h",
                             self.server.host or "127.0.0.1", "-p", str(self.server.port or 5432),
                             "-U", self.server.username or "postgres")
        _require(clone.returncode == 0,
                 f"pg_basebackup failed ({clone.stderr.strip()}); the server needs a line "
                 "'host replication all 127.0.0.1/32 trust' in its pg_hba.conf, then SELECT pg_reload_conf()")
        # Debian keeps postgresql.conf and pg_hba.conf outside the data folder: write the standby's own.
        settings = [f"port = {self.port}", "listen_addresses = '127.0.0.1'",
                    f"unix_socket_directories = '{self.folder}'", "hot_standby = on", "fsync = off",
                    "logging_collector = off", *[f"{name} = {value}" for name, value in limits.items()]]
        (self.data / "postgresql.conf").write_text("\n".join(settings) + "\n")
        (self.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (self.data / "pg_ident.conf").write_text("")
        if os.geteuid() == 0:
            for path in (self.data / "postgresql.conf", self.data / "pg_hba.conf", self.data / "pg_ident.conf"):
                shutil.chown(path, "postgres", "postgres")
        started = _as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-t", "60",
                               "start")
        log = (self.folder / "log").read_text() if (self.folder / "log").exists() else ""
        _require(started.returncode == 0, f"the replica did not start: {started.stderr.strip()} {log[-2000:]}")
        self.engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as conn:
            assert conn.scalar(text("SELECT pg_is_in_recovery()")) is True

    def wait_replayed(self, primary_url: str, timeout: float = 60) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        primary = create_engine(primary_url, isolation_level="AUTOCOMMIT")
        with primary.connect() as conn:
            lsn = conn.scalar(text("SELECT pg_current_wal_lsn()::text"))
        primary.dispose()
        deadline = time.monotonic() + timeout
        with self.engine.connect() as conn:
            while not conn.scalar(text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": lsn}):
                assert time.monotonic() < deadline, f"the replica did not replay up to {lsn} in {timeout} s"
                time.sleep(0.05)

    def replay(self, paused: bool) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()"))
            if paused:  # the pause takes effect at the next record; wait until it has
                while conn.scalar(text("SELECT pg_get_wal_replay_pause_state()")) != "paused":
                    time.sleep(0.05)

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
        if (self.data / "postmaster.pid").exists():
            _as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        self.admin.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def streaming(database_urls):
    """(app, replica, primary URL): an app on the PostgreSQL test database reading public pages from a replica."""
    server = os.environ.get("TRACKER_TEST_DATABASE_URL")
    _require(bool(server) and "postgresql" in database_urls, "TRACKER_TEST_DATABASE_URL is not set")
    primary_url = database_urls["postgresql"]
    standby = Replica(server, make_url(primary_url).database)
    try:
        standby.start()
        app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": primary_url,
                          "TRACKER_DATABASE_REPLICA_URL": standby.url.render_as_string(hide_password=False)})
        wipe(app)
        yield app, standby, primary_url
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    finally:
        standby.remove()
    assert not standby.folder.exists()


def _create(client, headers) -> str:
    response = client.post("/api/v1/dossiers", headers=headers,
                           json={"procedure_code": "1.000001", "channel": "online", "applicant": APPLICANT})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["code"]


def _public_steps(client, code) -> list[str]:
    response = client.get(PUBLIC + code)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [step["action"] for step in response.get_json()["steps"]]


def _received(client) -> int:
    response = client.get("/api/v1/public/stats")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["totals"]["received"]["total"]


def test_public_reads_follow_the_replica_and_fall_back_when_it_stops(streaming, caplog, monkeypatch):
    app, standby, primary_url = streaming
    monkeypatch.setattr(replica, "_health", replica._Health())
    client = app.test_client()
    factory = Factory(app)
    factory.agency("000.00.00.H57", "UBND thành phố Huế", level="province")
    factory.agency("000.01.00.H57", "Sở Tư pháp", parent="000.00.00.H57", level="department")
    factory.procedure("1.000001", 3, "working_days")
    factory.user("clerk", "clerk", "000.01.00.H57")
    clerk = Auth(client).headers("clerk")
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok", "replica": "ok"}

    first = _create(client, clerk)
    standby.wait_replayed(primary_url)
    assert _public_steps(client, first)
    received = _received(client)
    assert received == 1

    # Replay paused: the replica stands still while the primary moves on.
    standby.replay(paused=True)
    second = _create(client, clerk)
    step = client.post(f"/api/v1/dossiers/{first}/steps", headers=clerk, json={"action": "process"})
    assert step.status_code == 201, step.get_data(as_text=True)
    # Staff answers come from the primary ...
    assert client.get(f"/api/v1/dossiers/{second}", headers=clerk).status_code == 200
    staff_steps = client.get(f"/api/v1/dossiers/{first}", headers=clerk).get_json()["steps"]
    assert staff_steps[-1]["action"] == "process"
    # ... public answers from the replica, which has not replayed them yet.
    assert client.get(PUBLIC + second).status_code == 404
    assert client.get(f"/lookup?code={second}").status_code == 404
    assert "process" not in _public_steps(client, first)
    assert _received(client) == received

    standby.replay(paused=False)
    standby.wait_replayed(primary_url)
    assert client.get(PUBLIC + second).status_code == 200
    assert _public_steps(client, first)[-1] == "process"
    assert _received(client) == received + 1

    # The replica stops: public reads fall back to the primary, with a warning, and /readyz says so.
    standby.replay(paused=True)
    third = _create(client, clerk)
    standby.stop()
    with caplog.at_level(logging.WARNING, logger="tracker.services.replica"):
        assert client.get(PUBLIC + third).status_code == 200
        assert _received(client) == received + 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "tracker.services.replica"]
    assert len(warnings) == 1 and "read replica unavailable" in warnings[0], warnings
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "database": "ok", "replica": "down"}
