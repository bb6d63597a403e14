"""Public reads on a PostgreSQL streaming replica, when ``TRACKER_DATABASE_REPLICA_URL`` names one.

Only the citizen's lookup and the public statistics (the API and the pages built on
them) read through ``public_read``; every write and every staff read stays on the
primary, so a clerk always sees the step just recorded, while a citizen may see it a
moment later, once the replica has replayed it.

A replica that cannot be reached is not an outage: the read runs again on the
primary, a warning is logged (at most once a minute per process), and the replica
is left alone for a few seconds before it is tried again.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from tracker.database import READS_FROM
from tracker.extensions import db

BIND = "replica"
RETRY_SECONDS = 5.0  # how long a replica found down is left alone
WARN_SECONDS = 60.0  # at most one warning a minute per process

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Health:
    """Per process: until when the replica is thought down, and when we last said so."""

    def __init__(self):
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.warned_at = -WARN_SECONDS

    def usable(self, now: float) -> bool:
        return now >= self.down_until

    def mark_up(self) -> None:
        self.down_until = 0.0

    def mark_down(self, now: float, error: Exception) -> None:
        with self.lock:
            self.down_until = now + RETRY_SECONDS
            warn = now - self.warned_at >= WARN_SECONDS
            if warn:
                self.warned_at = now
        if warn:
            # The driver's message names the host and port only, never a query's values.
            log.warning("read replica unavailable, public reads use the primary for now: %s",
                        type(error.orig if isinstance(error, DBAPIError) else error).__name__)


_health = _Health()


def replica_engine() -> Engine | None:
    """The replica's engine, or None when none is configured."""
    return db.engines.get(BIND)


def read_engine() -> Engine:
    """The engine for the current read: the replica inside ``public_read``, else the primary."""
    return READS_FROM.get() or db.engine


def public_read(read: Callable[..., T], *args, **kwargs) -> T:
    """``read(*args, **kwargs)`` with the session's reads (and ``read_engine()``) on the replica.

    Without a replica, or while it is thought down, the read runs on the primary; when
    the replica fails it (a connection error), the read runs again on the primary.
    ``read`` must not write.
    """
    engine = replica_engine()
    if engine is None or READS_FROM.get() is not None or not _health.usable(time.monotonic()):
        return read(*args, **kwargs)
    # The raw driver connection of the lookup raises the driver's own error, unwrapped.
    connection_errors = (OperationalError, engine.dialect.loaded_dbapi.OperationalError)
    token = READS_FROM.set(engine)
    try:
        return read(*args, **kwargs)
    except connection_errors as error:
        failure = error
    finally:
        READS_FROM.reset(token)
    db.session.rollback()  # drops the session's broken connection to the replica
    _health.mark_down(time.monotonic(), failure)
    return read(*args, **kwargs)


def state() -> str:
    """``ok``, ``down`` or ``not configured``, by asking the replica now (for /readyz)."""
    engine = replica_engine()
    if engine is None:
        return "not configured"
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as error:
        _health.mark_down(time.monotonic(), error)
        return "down"
    _health.mark_up()
    return "ok"
