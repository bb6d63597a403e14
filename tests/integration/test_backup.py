"""``flask tracker backup`` under a write load, then ``restore`` into a new place: a consistent database."""
from __future__ import annotations

import subprocess
import time

import pytest

from tests.conftest import TEST_SETTINGS, Factory, migrate_to_head
from tests.integration.live import FLASK, ROOT, gunicorn, server_environment
from tests.integration.load import WriteLoad, inspect


def flask_command(database_url: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(FLASK), "--app", "wsgi", "tracker", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=server_environment(database_url, tmp_path))


def run_cli(database_url: str, *args: str):
    """A ``flask tracker`` command in this process, on ``database_url``: (exit code, output)."""
    from tracker import create_app
    from tracker.extensions import db

    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})
    result = app.test_cli_runner().invoke(args=["tracker", *args, "--quiet"])
    with app.app_context():
        db.engine.dispose()
    return result.exit_code, result.output


def seeded_database(url: str) -> None:
    """A migrated database with an agency, a procedure and a clerk."""
    from tracker import create_app
    from tracker.extensions import db

    migrate_to_head(url)
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url})
    factory = Factory(app)
    factory.agency("000.01.00.H57", "Sở Tư pháp", level="department")
    factory.procedure("1.000001", 3, "working_days")
    factory.user("clerk", "clerk", "000.01.00.H57")
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    seeded_database(url)
    return url


def test_backup_under_write_load_restores_to_a_consistent_database(live_database, tmp_path):
    backup = tmp_path / "backup.db"
    restored = f"sqlite:///{tmp_path / 'restored' / 'tracker.db'}"
    with gunicorn(live_database, tmp_path, workers=3) as server, WriteLoad(server) as load:
        load.wait_for(300)
        started = time.monotonic()
        result = flask_command(live_database, tmp_path, "backup", str(backup))
        finished = time.monotonic()
        assert result.returncode == 0, result.stderr
        load.wait_for(load.writes() + 50)  # the server still takes writes
        refused = run_cli(live_database, "restore", str(backup))
        load.stop()
    assert refused[0] == 1 and "is in use" in refused[1], refused
    during = [ack for ack in load.acks if started <= ack[0] < finished]
    assert during, "writes went on while the backup ran"

    result = run_cli(restored, "restore", str(backup))
    assert result[0] == 0 and "Start the server again" in result[1], result
    found = inspect(restored)
    found.assert_whole(load.acked_before(started))
    before = load.acked_before(started)
    print(f"\nbackup under load: {len(before)} dossiers and {sum(before.values())} writes acknowledged before it, "
          f"{len(during)} writes acknowledged during it; the restored copy holds {len(found.steps)} dossiers, "
          f"integrity {found.integrity}, counters equal to a rebuild, none lost, none half-written")
    # The live database kept everything, including what came after the backup.
    assert len(inspect(live_database).steps) >= len(found.steps)


def test_restore_refuses_what_is_not_a_tracker_backup_at_the_head(live_database, tmp_path):
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (text)")
    old = tmp_path / "old.db"
    assert run_cli(live_database, "backup", str(old))[0] == 0
    with sqlite3.connect(old) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    torn = tmp_path / "torn.db"
    torn.write_bytes(old.read_bytes()[: old.stat().st_size // 2])
    target = f"sqlite:///{tmp_path / 'target.db'}"
    for path, reason in ((other, "is not a tracker database"), (old, "is at schema revision 0001"),
                         (torn, "")):
        code, output = run_cli(target, "restore", str(path))
        assert code == 1 and reason in output and "Error: " in output, output
    assert not (tmp_path / "target.db").exists()


def test_postgresql_gets_the_pg_dump_command(tmp_path):
    url = "postgresql+psycopg://tracker:s3cret@db.example.vn:5432/tracker"
    code, output = run_cli(url, "backup", str(tmp_path / "tracker.dump"))
    assert code == 1
    assert (f"pg_dump --format=custom --no-owner --file={tmp_path / 'tracker.dump'} "
            "postgresql://tracker@db.example.vn:5432/tracker") in output
    assert "pg_restore --clean --if-exists --no-owner" in output
    assert "s3cret" not in output


def test_the_commands_given_for_each_database_back_up_and_restore_it(app, city, auth, client, backend,
                                                                      database_urls, empty_url, tmp_path):
    """SQLite: backup and restore; PostgreSQL: the printed pg_dump, then pg_restore into a new database."""
    import shlex

    from sqlalchemy.engine import make_url

    from tests.integration.load import CREATE, HISTORY

    headers = auth.headers("clerk")
    for _ in range(4):
        code = client.post("/api/v1/dossiers", json=CREATE, headers=headers).get_json()["code"]
        for step in HISTORY[:3]:
            assert client.post(f"/api/v1/dossiers/{code}/steps", json=step, headers=headers).status_code == 201
    url, dump = database_urls[backend], tmp_path / "tracker.backup"
    target = empty_url
    code, output = run_cli(url, "backup", str(dump))
    if backend == "sqlite":
        assert code == 0, output
        assert run_cli(target, "restore", str(dump))[0] == 0
    else:
        assert code == 1
        commands = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
                    for line in output.splitlines() if line.startswith("  ")}
        subprocess.run(commands["back up"], shell=True, check=True, timeout=120)
        restore = shlex.split(commands["restore (server stopped)"])
        into = make_url(target).set(drivername="postgresql").render_as_string(hide_password=False)
        restore = [f"--dbname={into}" if part.startswith("--dbname=") else part for part in restore]
        subprocess.run(restore, check=True, timeout=120, capture_output=True)
    original, copy = inspect(url), inspect(target)
    assert copy.steps == original.steps and len(copy.steps) == 4
    assert copy.stored_counters == original.stored_counters
    copy.assert_whole({code: len(steps) for code, steps in original.steps.items()})
