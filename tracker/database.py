"""Engine set-up per database: SQLite pragmas and write transactions that lock up front."""
from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator, Sequence

from flask import has_request_context, request
from flask_sqlalchemy.session import Session
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from tracker import sqlite_writers

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
#: A connection's note that its transaction changed data the public reports read
#: (set and acted on by ``tracker.models.revision``).
CHANGED = "tracker_public_data_changed"


def _wants_write_lock() -> bool:
    # Requests that read run without a transaction (each statement sees the latest
    # commit, readers never wait and pay no BEGIN); any other request, and every
    # command-line job, takes the write lock when it begins, so two gunicorn workers
    # can never deadlock upgrading shared locks (SQLITE_BUSY).
    return not (has_request_context() and request.method in READ_METHODS)


def configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, ``BEGIN IMMEDIATE`` for writers after their turn in
    the writers' queue (``tracker.sqlite_writers``), autocommit reads; the database file
    private to its owner (created so when missing)."""
    path = engine.url.database

    @event.listens_for(engine, "do_connect")
    def create_private(_dialect, _record, _args, _kwargs):
        # A missing file is created 0600 just before SQLite opens it, never for a moment
        # readable by others; nothing is created by an app that never connects (a refused
        # restore). Only a missing one: closing a descriptor of an open database would drop
        # the POSIX locks SQLite holds on it for the process's other connections.
        if (path and path != ":memory:" and not path.startswith("file:") and not os.path.exists(path)
                and os.path.isdir(os.path.dirname(path) or ".")):
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
            except FileExistsError:
                pass

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        for _seq, name, path in cursor.execute("PRAGMA database_list").fetchall():
            if name == "main" and path:
                make_private(path)
        cursor.close()

    writers_queue = sqlite_writers.queued(engine)
    if writers_queue:
        sqlite_writers.queue_writers(engine)

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        if _wants_write_lock():
            if writers_queue:
                sqlite_writers.take_turn(connection)
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_private(path: str) -> None:
    """Keep a SQLite database, its WAL and its shared-memory file readable by their owner only.

    SQLite creates the WAL and SHM files with the database file's permissions, so the
    first connection fixes them all (before any dossier is written).
    """
    for name in (path, path + "-wal", path + "-shm"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except FileNotFoundError:
            continue


def configure_engine(engine: Engine) -> None:
    """Apply the per-dialect settings to a freshly created engine."""
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)


#: The engine that the session's reads go to in this context, when not the primary's
#: (set by ``tracker.services.replica.public_read`` around the public read paths only).
READS_FROM: ContextVar[Engine | None] = ContextVar("tracker_reads_from", default=None)


class RoutingSession(Session):
    """``db.session``, whose reads inside ``READS_FROM`` go to that engine (a read replica).

    A flush always goes to the primary: the public read paths never write, and a
    replica would refuse it anyway.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = READS_FROM.get()
        if engine is not None and bind is None and not self._flushing:
            return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


_TRANSACTION_STATE = "tracker_transaction_state"


def transaction_state(session: OrmSession) -> dict:
    """A dict that lives as long as the session's outermost transaction: the work that
    waits for its commit (``before_commit`` listeners take it), dropped when the
    transaction ends, by commit or rollback, so that the next one starts empty."""
    return session.info.setdefault(_TRANSACTION_STATE, {})


@event.listens_for(OrmSession, "after_transaction_end")
def _end_transaction_state(session: OrmSession, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_TRANSACTION_STATE, None)


@contextmanager
def reading_cursor(engine: Engine) -> Iterator:
    """A driver cursor on one of the pool's connections, for a few plain reads without a transaction.

    On PostgreSQL the connection is put in autocommit while the cursor is used: each
    statement reads the latest commit (as it would inside a READ COMMITTED transaction)
    without the BEGIN and ROLLBACK round trips, which on the hottest paths cost as much
    as the reads. SQLite connections read that way already.
    """
    connection = engine.raw_connection()
    driver = connection.driver_connection
    autocommit = engine.dialect.name == "postgresql"
    try:
        if autocommit:
            driver.autocommit = True
        cursor = connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
            if autocommit:
                driver.autocommit = False
    finally:  # back to the pool
        connection.close()


def note_change(connection: Connection) -> None:
    """Count the connection's transaction as a change of public data (writes that no
    statement shows, such as COPY)."""
    connection.info[CHANGED] = True


def bulk_insert(connection: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert many rows already in the driver's types, in the connection's transaction.

    PostgreSQL takes them with ``COPY`` (several times faster than inserts), SQLite with
    ``executemany``. A broken constraint is raised as SQLAlchemy's ``IntegrityError`` either way.
    """
    if not rows:
        return
    note_change(connection)
    if connection.dialect.name != "postgresql":
        marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})", rows)
        return
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except connection.dialect.loaded_dbapi.IntegrityError as error:
        raise IntegrityError(statement, None, error) from error


def refresh_planner_statistics(session: OrmSession, tables: Sequence[str]) -> None:
    """Have PostgreSQL sample ``tables`` again, after a bulk load changed them wholesale
    (in a transaction of its own, committed).

    Until autovacuum gets round to it, the planner would go on judging a table of ten
    million dossiers by its empty start: at ten million it guessed 27,000 steps per
    dossier and read each dossier's five with two parallel workers and JIT compilation,
    50 ms for a lookup. ANALYZE samples a fixed number of rows (seconds at any size).
    SQLite plans these queries by their indexes and needs nothing (nor a write lock).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(f"ANALYZE {', '.join(tables)}")
        session.commit()
