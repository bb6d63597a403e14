"""The data revision: one number that moves whenever what the public reports read changes.

A process may keep a finished report (``tracker.services.statistics.answers``) for as
long as the revision it was computed at is still the database's. The number moves in
the same transaction as the change, just before it commits, so a reader that sees the
new number sees the change too, on the primary and on a replica alike.

What counts as a change is found by watching the statements sent to the database
(``track_changes``): any write, except to the tables no public report reads (logins,
sessions, the audit chain, idempotency keys, the per-day code sequences). A write the
watch does not recognise counts, so that an unusual statement can only make a report be
computed once more, never be served stale. ``epoch`` is drawn at random when the table
is made, so that a database made again from nothing never repeats an earlier one's numbers.
"""
from __future__ import annotations

import re
import uuid

from sqlalchemy import BigInteger, Integer, String, event, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from tracker.database import CHANGED, reading_cursor
from tracker.extensions import db

TABLE = "data_revision"
#: Tables whose writes no public answer depends on.
PRIVATE_TABLES = frozenset({"users", "login_sessions", "revoked_tokens", "audit_records", "audit_head",
                            "idempotency_keys", "dossier_counters", TABLE})

_READ = re.compile(r"\s*(?:SELECT|PRAGMA|SHOW|BEGIN|SAVEPOINT|RELEASE|ROLLBACK|COMMIT|SET|EXPLAIN|VALUES)\b",
                   re.IGNORECASE)
_WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_BUMP = f"UPDATE {TABLE} SET value = value + 1 WHERE id = 1"
_CURRENT = f"SELECT epoch, value FROM {TABLE} WHERE id = 1"
_SCHEMA = re.compile(r"\s*(?:CREATE|DROP|ALTER)\b", re.IGNORECASE)
_EXISTS = {"sqlite": f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}'",
           "postgresql": f"SELECT to_regclass('{TABLE}') IS NOT NULL"}


class DataRevision(db.Model):
    """The single row (id 1) of the revision: ``epoch`` and ``value``."""

    __tablename__ = TABLE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[str] = mapped_column(String(32), nullable=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def first_row() -> dict:
    """The row a new table starts with."""
    return {"id": 1, "epoch": uuid.uuid4().hex, "value": 0}


@event.listens_for(DataRevision.__table__, "after_create")
def _seed(table, connection, **_kw):
    connection.execute(insert(table).values(**first_row()))


def changes_public_data(statement: str) -> bool:
    """Whether a SQL statement may change what a public report reads."""
    if _READ.match(statement):
        return False
    written = _WRITE.match(statement)
    return written is None or written.group(1).lower() not in PRIVATE_TABLES


def track_changes(engine: Engine) -> None:
    """Move the revision in every transaction of ``engine`` that changed public data."""
    # Whether the table is there: unknown (None) at first and after any schema change,
    # so that the migrations that come before it, or drop it, commit as they always did.
    table = {"present": None}

    @event.listens_for(engine, "before_cursor_execute")
    def watch(connection, _cursor, statement, _parameters, _context, _executemany):
        # Every statement passes here: a read (most of them) costs one match.
        if _READ.match(statement):
            return
        if _SCHEMA.match(statement):
            table["present"] = None
        if CHANGED not in connection.info and changes_public_data(statement):
            connection.info[CHANGED] = True

    @event.listens_for(engine, "commit")
    def bump(connection):
        if not connection.info.pop(CHANGED, False):
            return
        # Straight on the driver's connection: the last statement of the transaction
        # (on PostgreSQL the row stays locked only while the commit is written).
        cursor = connection.connection.cursor()
        try:
            if table["present"] is None:
                cursor.execute(_EXISTS[connection.dialect.name])
                table["present"] = bool(cursor.fetchone()[0])
            if table["present"]:
                cursor.execute(_BUMP)
        finally:
            cursor.close()

    @event.listens_for(engine, "rollback")
    def forget(connection):
        connection.info.pop(CHANGED, None)


def current(engine: Engine) -> tuple[str, int] | None:
    """``(epoch, value)`` as ``engine``'s database has it now; None when the row is missing
    (nothing may be remembered then).

    Read with the driver, without a transaction: the ORM's per-statement work and the
    transaction's round trips would cost more than a remembered answer saves.
    """
    with reading_cursor(engine) as cursor:
        cursor.execute(_CURRENT)
        row = cursor.fetchone()
    return (row[0], row[1]) if row is not None else None
