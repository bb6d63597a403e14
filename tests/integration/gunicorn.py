"""Start the app under gunicorn on a free port, as `make run` does, for the tests that need
several worker processes or gunicorn's own behaviour (access log, request limits)."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import PASSWORD, TEST_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(method: str, url: str, body=None, headers: dict | None = None) -> tuple[int, dict, object]:
    """One HTTP request: (status, headers, JSON body or None); never raises for HTTP errors."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    try:
        return status, got, json.loads(raw) if raw else None
    except ValueError:
        return status, got, raw.decode(errors="replace")


class Server:
    def __init__(self, base: str, log_path: Path):
        self.base = base
        self.api = base + "/api/v1"
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


@contextlib.contextmanager
def gunicorn(database_url: str, instance: Path, workers: int = 4, env: dict | None = None,
             args: tuple[str, ...] = (), app: str = "wsgi:app"):
    """gunicorn with ``workers`` processes on ``database_url``; yields a ``Server``.

    Its settings come from the environment given, over the suite's own, with
    ``TRACKER_*`` variables of the calling shell left out (a storage URL, a proxy count).
    """
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env = {**base_env,
           "TRACKER_DATABASE_URL": database_url,
           "TRACKER_SECRET_KEY": TEST_SETTINGS["SECRET_KEY"],
           "TRACKER_AUDIT_KEY": TEST_SETTINGS["TRACKER_AUDIT_KEY"],
           "TRACKER_RATELIMIT_LOGIN": "10000/minute",
           "TRACKER_INSTANCE_DIR": str(instance),
           **(env or {})}
    port = free_port()
    log_path = instance / "gunicorn.log"
    with open(log_path, "wb") as log:
        # gunicorn.conf.py in ROOT applies too (preload_app, as in production). No control socket:
        # its default path is shared by every gunicorn of the machine (parallel test workers).
        process = subprocess.Popen([str(GUNICORN), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                                    "--no-control-socket", *args, app],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "gunicorn exited:\n" + log_path.read_text(errors="replace")
            try:
                if call("GET", base + "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn not ready in 30 s:\n" + log_path.read_text(errors="replace")
            time.sleep(0.2)
        server = Server(base, log_path)
        yield server
        log_text = server.log()
        assert "Traceback" not in log_text, log_text[-5000:]
    finally:
        process.send_signal(signal.SIGINT)  # quick shutdown: nothing is in flight any more
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
