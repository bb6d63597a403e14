"""Writing prepared dossiers with the driver's bulk paths: the import's hot path.

At a million dossiers SQLAlchemy's per-value parameter processing would cost more
than the database's own work, so rows arrive already in the driver's form
(``driver_datetime``, ``tracker.services.importing.records.RowFormat``) and the
dossier ids are reserved up front, since the steps need them. SQLite takes them
with ``executemany``, PostgreSQL with ``COPY``.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from tracker.database import bulk_insert
from tracker.models.types import naive_utc
from tracker.services.codes import reserve_numbers
from tracker.services.importing.records import DOSSIER_COLUMNS, EVALUATION_COLUMNS, STEP_COLUMNS, PreparedDossier
from tracker.services.seals import StepDigest

_LOOKUP = 500  # codes per existence query
SQLITE_CACHE_KB = 512 * 1024


def driver_datetime(dialect: Dialect) -> Callable[[datetime], object]:
    """The value ``UTCDateTime`` binds for an aware datetime on this dialect, computed directly.

    SQLite keeps SQLAlchemy's text form, naive UTC with microseconds always written;
    PostgreSQL takes the naive UTC datetime itself.
    """
    if dialect.name == "sqlite":
        return lambda value: naive_utc(value).isoformat(" ", "microseconds")
    return naive_utc


class DossierWriter:
    """Inserts batches of prepared dossiers, their steps and code counters in the session's transaction."""

    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect
        if self.dialect.name == "sqlite":
            # Index pages of a million codes and names do not fit SQLite's default 2 MB cache;
            # missing it makes each insert read and rewrite pages (a per-connection setting).
            session.connection().exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")

    def existing(self, codes: list[str]) -> set[str]:
        """Which of these codes a dossier already has."""
        connection = self.session.connection()
        found: set[str] = set()
        for start in range(0, len(codes), _LOOKUP):
            part = codes[start:start + _LOOKUP]
            if self.dialect.name == "postgresql":
                # One array parameter: the plan is the same whatever the count, an index scan.
                sql, parameters = "SELECT code FROM dossiers WHERE code = ANY(%s)", (part,)
            else:
                sql, parameters = f"SELECT code FROM dossiers WHERE code IN ({', '.join('?' * len(part))})", tuple(part)
            found.update(code for (code,) in connection.exec_driver_sql(sql, parameters))
        return found

    def any_dossier(self) -> bool:
        """Whether the database holds any dossier at all."""
        return self.session.connection().exec_driver_sql("SELECT 1 FROM dossiers LIMIT 1").first() is not None

    def _reserve_ids(self, count: int) -> list[int]:
        connection = self.session.connection()
        if self.dialect.name == "postgresql":
            return sorted(connection.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('dossiers', 'id')) FROM generate_series(1, %s)",
                (count,)).scalars())
        # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so nobody else takes these.
        highest = connection.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM dossiers").scalar()
        return list(range(highest + 1, highest + 1 + count))

    def write(self, dossiers: list[PreparedDossier], audit_id: int) -> StepDigest:
        """Insert the dossiers with their steps, sealed by the audit record ``audit_id``, and raise
        the code counters past their numbers; gives the digest that record must seal."""
        sealed = StepDigest()
        if not dossiers:
            return sealed
        ids = self._reserve_ids(len(dossiers))
        connection = self.session.connection()
        bulk_insert(connection, "dossiers", ("id", *DOSSIER_COLUMNS), [(i, *d.row) for i, d in zip(ids, dossiers)])
        bulk_insert(connection, "steps", ("dossier_id", *STEP_COLUMNS, "audit_id"),
                    [(i, *step, audit_id) for i, d in zip(ids, dossiers) for step in d.steps])
        # The ids were reserved in ascending order: this is the (dossier, seq) order verification reads.
        for dossier in dossiers:
            sealed.add_encoded(dossier.sealed, len(dossier.steps))
        bulk_insert(connection, "evaluations", ("dossier_id", *EVALUATION_COLUMNS),
                    [(i, *d.evaluation) for i, d in zip(ids, dossiers) if d.evaluation is not None])
        highest: dict[tuple[int, date], int] = {}
        for dossier in dossiers:
            if dossier.counter is not None:
                agency_id, day, number = dossier.counter
                if highest.get((agency_id, day), 0) < number:
                    highest[(agency_id, day)] = number
        reserve_numbers(highest)
        return sealed
