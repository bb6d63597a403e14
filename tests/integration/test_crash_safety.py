"""kill -9 during a write load: of one gunicorn worker, then of the whole server (master and workers).

Clerks keep creating dossiers and recording steps from several threads. After the crash
(and, for the whole server, a restart on the same database), every write the server
acknowledged with a 201 must be there, no dossier may be half-written (its steps are
1..n and its version is n) and the statistics counters must equal a full rebuild. Runs
on each backend of the suite.
"""
from __future__ import annotations

import os
import signal
import time

from tests.integration.live import call, gunicorn, release_connections, start_gunicorn
from tests.integration.load import CREATE, WriteLoad, inspect


def report(what: str, load: WriteLoad, found) -> None:
    acked = sum(load.acked.values())
    present = sum(min(len(found.steps.get(code, [])), steps) for code, steps in load.acked.items())
    print(f"\n{what}: {acked} writes acknowledged ({len(load.acked)} dossiers), {present} found after it, "
          f"lost {acked - present}; {dict(load.failures)} refused or cut off")


def test_kill_one_worker_during_writes(app, city, database_urls, backend, tmp_path):
    release_connections(app)
    with gunicorn(database_urls[backend], tmp_path, workers=3) as server, WriteLoad(server) as load:
        load.wait_for(100)
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        load.wait_for(load.writes() + 100)  # the other workers, then the new one, go on
        load.stop()
        assert victim not in server.worker_pids() and len(server.worker_pids()) == 3
    found = inspect(database_urls[backend])
    report(f"kill -9 of one worker ({backend})", load, found)
    found.assert_whole(load.acked)


def test_kill_the_whole_server_during_writes_then_restart(app, city, database_urls, backend, tmp_path):
    release_connections(app)
    url = database_urls[backend]
    # A metrics directory of the test's own: a killed gunicorn cannot remove the one it makes.
    (tmp_path / "metrics").mkdir()
    server = start_gunicorn(url, tmp_path, workers=3, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    try:
        with WriteLoad(server) as load:
            load.wait_for(150)
            server.kill_all()
            cut_at = time.monotonic()
        assert all(at <= cut_at for at, _, _ in load.acks), "nothing is acknowledged by a dead server"
    finally:
        server.stop()
    with gunicorn(url, tmp_path, workers=3, name="restarted") as restarted:
        status, _, created = call("POST", restarted.api + "/dossiers", CREATE, restarted.auth("clerk"))
        assert status == 201, created
    found = inspect(url)
    report(f"kill -9 of the whole server ({backend})", load, found)
    found.assert_whole(load.acked)
    assert created["code"] in found.steps
