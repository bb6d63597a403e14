"""SQLite writers wait their turn in the kernel rather than in SQLite's busy handler.

SQLite lets one transaction write at a time. A writer that finds the database locked
sleeps and tries again, for longer and longer (up to a tenth of a second at a time),
so under load the lock is often free while every waiter sleeps. Here each connection
first takes an exclusive ``flock`` on a file beside the database: the waiters queue in
the kernel and the next one wakes the moment the lock is let go. The lock is released
when the transaction commits or rolls back (or the connection is closed or goes back to
the pool without one); the kernel releases it if the process dies. Programs that do
not take it (the sqlite3 shell, an older server still running) are still kept out by
SQLite's own lock and busy timeout.
"""
from __future__ import annotations

import fcntl
import os
import threading

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

_LOCK = "tracker_writer_lock"  # a pooled connection's info: its ``_Turn`` while it holds one


class _Turns(threading.local):
    """How many writers' locks this thread holds: a second one would wait for itself for ever."""

    held = 0


class _Turn:
    """One held lock: the open lock file and the thread whose turn it is."""

    def __init__(self, descriptor: int, turns: _Turns):
        self.descriptor, self.turns = descriptor, turns


_turns = _Turns()
# The turns this process holds. A forked child (the import's workers) gets copies of their
# files, which would keep the lock as long as the child lives: it closes its copies, and
# forgets the turns, so that a connection record it inherited can never close a file of its own.
_held: set[_Turn] = set()


def _forget_inherited() -> None:
    for turn in _held:
        os.close(turn.descriptor)  # the parent's descriptor stays open: its lock is unchanged
    _held.clear()
    _turns.held = 0


os.register_at_fork(after_in_child=_forget_inherited)


def lock_path(database: str) -> str:
    """The file whose lock orders the writers of ``database``."""
    return database + "-writers"


def queued(engine: Engine) -> bool:
    """Whether the writers of this engine's database queue on the lock (a file, not memory or a URI)."""
    database = engine.url.database
    return bool(database) and database != ":memory:" and not database.startswith("file:")


def take_turn(connection: Connection) -> None:
    """Wait until no other writer of the database holds the lock, then hold it until the
    transaction ends (``queue_writers``).

    A thread that already holds it through another connection goes straight on, as
    before: SQLite's own lock and busy timeout judge that case.
    """
    info = connection.connection.info
    if _LOCK in info or _turns.held:
        return
    descriptor = os.open(lock_path(connection.engine.url.database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    except BaseException:
        os.close(descriptor)
        raise
    turn = _Turn(descriptor, _turns)
    _held.add(turn)
    _turns.held += 1
    info[_LOCK] = turn


def queue_writers(engine: Engine) -> None:
    """Let go of a connection's turn when its transaction ends, and whenever it leaves use
    (back to the pool, invalidated, closed) without one.

    The commit and rollback events come just before the driver's commit or rollback: the
    next writer may then find SQLite's own lock still taken for that moment, and its busy
    handler waits the first millisecond.
    """
    for name in ("commit", "rollback"):
        event.listen(engine, name, lambda connection: _release(connection.connection.info))
    for name in ("checkin", "reset", "invalidate", "close", "detach"):
        event.listen(engine.pool, name, lambda _dbapi_connection, record, *_rest: _release(record.info))


def _release(info: dict) -> None:
    turn = info.pop(_LOCK, None)
    if turn is not None and turn in _held:  # not one a fork has forgotten
        _held.discard(turn)
        turn.turns.held -= 1
        os.close(turn.descriptor)  # the file's only descriptor: closing it lets the lock go
