"""A live gunicorn for the integration tests, and a small HTTP client for it.

The in-process test client runs one request at a time; what only holds with several
worker processes (contention, metrics of every worker, crashes) is checked against a
real server started here with the repository's gunicorn.conf.py.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import PASSWORD, TEST_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
FLASK = ROOT / ".venv" / "bin" / "flask"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method: str, url: str, body=None, headers: dict | None = None,
         timeout: float = 120) -> tuple[int, dict, object]:
    """One HTTP request: (status, headers, JSON body or text); never raises for HTTP errors."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    try:
        return status, got, json.loads(raw) if raw else None
    except ValueError:
        return status, got, raw.decode(errors="replace")


class Server:
    """A running gunicorn: its address, its process and its log."""

    def __init__(self, base: str, process: subprocess.Popen, log_path: Path):
        self.base = base
        self.api = base + "/api/v1"
        self.process = process
        self.log_path = log_path
        self._tokens: dict[str, str] = {}

    def auth(self, user: str, **extra) -> dict:
        if user not in self._tokens:
            status, _, body = call("POST", f"{self.api}/auth/login", {"username": user, "password": PASSWORD})
            assert status == 200, body
            self._tokens[user] = body["access_token"]
        return {"Authorization": f"Bearer {self._tokens[user]}", **extra}

    def total(self, user: str = "admin") -> int:
        status, _, body = call("GET", f"{self.api}/dossiers?page_size=1", headers=self.auth(user))
        assert status == 200, body
        return body["total"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The worker processes of the master (children in /proc)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, "gunicorn exited:\n" + self.log()
            try:
                if call("GET", self.base + "/readyz", timeout=5)[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn not ready in {timeout} s:\n" + self.log()
            time.sleep(0.2)

    def kill_all(self) -> None:
        """SIGKILL to the master and every worker at once (its own process group)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # quick shutdown: nothing is in flight any more
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def server_environment(database_url: str, instance_dir: Path, **extra: str) -> dict:
    """The environment of a server or a command on ``database_url``: the suite's settings, with
    ``TRACKER_*`` variables of the calling shell left out (a storage URL, a proxy count)."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")},
            "TRACKER_DATABASE_URL": database_url,
            "TRACKER_SECRET_KEY": TEST_SETTINGS["SECRET_KEY"],
            "TRACKER_AUDIT_KEY": TEST_SETTINGS["TRACKER_AUDIT_KEY"],
            "TRACKER_RATELIMIT_LOGIN": "10000/minute",
            "TRACKER_INSTANCE_DIR": str(instance_dir),
            **extra}


def start_gunicorn(database_url: str, tmp_path: Path, workers: int = 4, name: str = "gunicorn",
                   args: tuple[str, ...] = (), app: str = "wsgi:app", **env: str) -> Server:
    """Start gunicorn on ``database_url`` and wait until it is ready."""
    port = free_port()
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "ab") as log:
        # gunicorn.conf.py in ROOT applies too (preload_app, as in production). No control socket:
        # its default path is shared by every gunicorn of the machine (parallel test workers).
        # A process group of its own, so that a crash of the whole server can be simulated.
        process = subprocess.Popen([str(GUNICORN), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                                    "--no-control-socket", *args, app],
                                   cwd=ROOT, env=server_environment(database_url, tmp_path, **env),
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def gunicorn(database_url: str, tmp_path: Path, workers: int = 4, env: dict | None = None, **options):
    """A started gunicorn, stopped at the end; its log must hold no traceback.

    ``env`` (or keyword settings) over the suite's; ``name``, ``args`` and ``app`` as for
    ``start_gunicorn``.
    """
    server = start_gunicorn(database_url, tmp_path, workers, **(env or {}), **options)
    try:
        yield server
        assert "Traceback" not in server.log(), server.log()[-5000:]
    finally:
        server.stop()


def release_connections(app) -> None:
    """Close this process's connections to the test database, so none holds a lock the server needs."""
    from tracker.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
