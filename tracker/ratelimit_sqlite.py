"""A ``limits`` storage in one SQLite file: counters shared by every worker of one machine.

The default storage when ``TRACKER_RATELIMIT_STORAGE_URL`` is unset, so that the limits
hold exactly across gunicorn's worker processes without a Redis server (``memory://``
keeps one set of counters per process). Use Redis when several machines serve the app.

URI: ``sqlite-file:///absolute/path/ratelimits.db``. It serves the fixed-window strategy
(``incr``, ``get``, ``get_expiry``, ``check``, ``reset``, ``clear``).

Each ``incr`` is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, which SQLite
runs as a transaction of its own under the file's write lock: two workers can never both
read the same count. The file is in WAL mode with ``synchronous=OFF`` (a counter lost in a
power cut costs nothing) and is created readable by its owner only.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from limits.storage import Storage

SCHEME = "sqlite-file"

_SCHEMA = ("CREATE TABLE IF NOT EXISTS ratelimit_counters ("
           "key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID")

# A counter whose window has ended starts again at the amount, with a new window.
_INCR = """
INSERT INTO ratelimit_counters (key, value, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN expires_at <= :now THEN excluded.value ELSE value + excluded.value END,
    expires_at = CASE WHEN expires_at <= :now THEN excluded.expires_at ELSE expires_at END
RETURNING value
"""

#: Ended windows are deleted once every this many increments of a process.
PURGE_EVERY = 1000


def sqlite_file_uri(path: Path | str) -> str:
    """The storage URI of a counters file."""
    return f"{SCHEME}://{Path(path).resolve()}"


class SQLiteFileStorage(Storage):
    """Fixed-window counters in a SQLite file (see the module)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(uri.split("://", 1)[1])
        self._local = threading.local()
        self._increments = 0
        self._connect()  # a wrong path fails when the app starts, not on the first request

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connect(self) -> sqlite3.Connection:
        # One connection per process and thread: gunicorn forks its workers from a master
        # that opened the storage already, and a SQLite connection must not cross a fork.
        local = self._local
        if getattr(local, "pid", None) == os.getpid():
            return local.connection
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=10, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute(_SCHEMA)
        local.connection, local.pid = connection, os.getpid()
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter (a new window of ``expiry`` seconds if none is running)."""
        connection = self._connect()
        now = time.time()
        # fetchall: the statement (and so its transaction) must run to its end.
        (value,), = connection.execute(_INCR, {"key": key, "amount": amount, "now": now,
                                               "expiry": expiry}).fetchall()
        self._increments += 1
        if self._increments % PURGE_EVERY == 0:
            connection.execute("DELETE FROM ratelimit_counters WHERE expires_at <= ?", (now,))
        return value

    def _row(self, key: str):
        return self._connect().execute(
            "SELECT value, expires_at FROM ratelimit_counters WHERE key = ? AND expires_at > ?",
            (key, time.time())).fetchone()

    def get(self, key: str) -> int:
        """The counter in its running window, 0 when none runs."""
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        """When the running window ends (now when none runs)."""
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        """Whether the file answers."""
        try:
            self._connect().execute("SELECT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int:
        """Forget every counter; the number forgotten."""
        return self._connect().execute("DELETE FROM ratelimit_counters").rowcount

    def clear(self, key: str) -> None:
        """Forget one counter."""
        self._connect().execute("DELETE FROM ratelimit_counters WHERE key = ?", (key,))
