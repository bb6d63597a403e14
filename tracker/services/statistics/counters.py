"""Keeping the counters: each step's per-day deltas added to the day, month and year cells.

``on_created`` and ``on_step`` run inside the transaction that writes the dossier: they
turn the step into per-day deltas (``tracker.domain.statistics.step_deltas``, see
docs/rules.md#statistics-counters) and add them to the cells of the dossier's receiving
agency, procedure and channel (``tracker.models.statistics``) when the transaction
commits: a year's cell is shared by every write of its agency, so its row lock is held
only for the commit's last moments, after the audit record has joined the chain (the
same order as an import's, which holds the audit head while it writes its counters).
``Accumulator`` sums many deltas in memory first (an import, a rebuild) and writes them
with upserts, or lets the database roll them up.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.database import bulk_insert, transaction_state
from tracker.domain import progress
from tracker.domain import statistics as rules_of
from tracker.domain.statistics import COLUMNS
from tracker.domain.service_levels import ONLINE_CAPABLE, Flags
from tracker.domain.statuses import Status
from tracker.domain.workflow import Action
from tracker.extensions import db
from tracker.models import Dossier
from tracker.models.statistics import StatAgencyCell, StatCell, StatProcedureCell
from tracker.services.calendar import deadlines
from tracker.services.clock import clock_of

_fine = StatCell.__table__
_coarse = StatAgencyCell.__table__
_by_procedure = StatProcedureCell.__table__
_FINE_KEYS = ("grain", "start", "agency_id", "procedure_id", "channel")
_COARSE_KEYS = ("grain", "start", "agency_id", "channel")
_PROCEDURE_KEYS = ("grain", "start", "procedure_id", "channel")
#: The three counter tables, every one holding the same figures at a different grain.
TABLES = (_fine, _coarse, _by_procedure)
_CHUNK = 500


def flags_of(dossier: Dossier, paid: bool | None = None) -> Flags:
    """The dossier's service flags; ``paid`` is read from its steps unless given."""
    if paid is None:
        paid = any(step.action == Action.RECEIVE_PAYMENT for step in dossier.steps)
    return Flags(online_capable=dossier.online_level in ONLINE_CAPABLE, digitized=bool(dossier.digitized),
                 paid=bool(paid or dossier.paid_online), paid_online=bool(dossier.paid_online),
                 electronic_result=bool(dossier.electronic_result))


def with_flags(deltas: dict[date, list[int]], flag_deltas: dict[date, list[int]]) -> dict[date, list[int]]:
    """The step's deltas with its service-level deltas added in (``deltas`` is extended in place)."""
    for day, row in flag_deltas.items():
        rules_of.accumulate(deltas, day, row)
    return deltas


def on_created(dossier: Dossier) -> None:
    """Count a new dossier: nothing until it is accepted, then its reception and deadline profile."""
    if dossier.accepted_at is None:
        return
    after = clock_of(dossier)
    before = progress.DossierClock(status=Status.REGISTERED, limit=after.limit)
    rules = deadlines()
    flags = flags_of(dossier, paid=False)
    _record(dossier.agency_id, dossier.procedure_id, dossier.channel,
            with_flags(rules_of.step_deltas(before, after, dossier.accepted_at, rules),
                       rules_of.flag_deltas(before, after, Flags(), flags, rules)))


def on_step(dossier: Dossier, before: progress.DossierClock, after: progress.DossierClock, at: datetime,
            flags_before: Flags | None = None, flags_after: Flags | None = None) -> None:
    """Move the counters of a dossier by one step (``before`` and ``after`` are its clock around it,
    ``flags_before`` and ``flags_after`` its service flags)."""
    if after.accepted_at is None:
        return
    rules = deadlines()
    deltas = rules_of.step_deltas(before, after, at, rules)
    if flags_before is not None:
        deltas = with_flags(deltas, rules_of.flag_deltas(before, after, flags_before, flags_after, rules))
    _record(dossier.agency_id, dossier.procedure_id, dossier.channel, deltas)


def on_evaluation(dossier: Dossier, old: str | None, new: str | None) -> None:
    """Move the evaluation counts of the dossier's resolution day from level ``old`` to ``new``."""
    if dossier.accepted_at is None:
        return
    _record(dossier.agency_id, dossier.procedure_id, dossier.channel,
            rules_of.evaluation_deltas(dossier.finished_at, old, new, deadlines()))


class Accumulator:
    """Deltas summed in memory per agency, procedure, channel and day, then written with upserts
    to the day, month and year cells of both tables."""

    FULL = 500_000  # day cells, about 150 MB

    def __init__(self):
        self.days: dict[tuple, list[int]] = {}

    def add(self, agency_id: int, procedure_id: int, channel: str, deltas: dict[date, list[int]]) -> None:
        """Add one step's deltas (the vectors are taken over, not copied)."""
        for day, row in deltas.items():
            rules_of.accumulate(self.days, (agency_id, procedure_id, channel, day), row)

    def __len__(self) -> int:
        return len(self.days)

    def write_when_full(self) -> None:
        """Write the sums once they hold ``FULL`` day cells, so that memory stays bounded."""
        if len(self.days) >= self.FULL:
            self.write()

    def write(self) -> None:
        """Add the sums to the tables and start again.

        Large sums (an import, a rebuild) are rolled up to months, years and the narrower
        tables by the database, which groups a million rows far faster than Python.
        """
        if len(self.days) >= ROLLUP_MIN:
            _roll_up_in_database(self.days)
        else:
            self._roll_up_here()
        self.days = {}

    def _roll_up_here(self) -> None:
        fine: dict[tuple, list[int]] = {}
        coarse: dict[tuple, list[int]] = {}
        by_procedure: dict[tuple, list[int]] = {}
        for (agency_id, procedure_id, channel, day), row in self.days.items():
            if not any(row):
                continue
            for grain, start in (("d", day), ("m", day.replace(day=1)), ("y", date(day.year, 1, 1))):
                for target, key in ((fine, (grain, start, agency_id, procedure_id, channel)),
                                    (coarse, (grain, start, agency_id, channel)),
                                    (by_procedure, (grain, start, procedure_id, channel))):
                    current = target.get(key)
                    if current is None:
                        target[key] = row.copy()
                    else:
                        for i, value in enumerate(row):
                            current[i] += value
        _upsert(_fine, _FINE_KEYS, fine)
        _upsert(_coarse, _COARSE_KEYS, coarse)
        _upsert(_by_procedure, _PROCEDURE_KEYS, by_procedure)


#: From this many day cells on, ``Accumulator.write`` lets the database do the roll-up.
ROLLUP_MIN = 20_000
_DAYS_TABLE = "stat_delta_days"  # a temporary table: the day sums waiting to be rolled up


def _period_start(grain: str, dialect) -> str:
    """SQL for the first day of the cell of ``grain`` holding ``day``."""
    if grain == "d":
        return "day"
    unit = "month" if grain == "m" else "year"
    if dialect.name == "postgresql":
        return f"CAST(date_trunc('{unit}', CAST(day AS TIMESTAMP)) AS DATE)"
    # SQLite keeps dates as ISO text (as SQLAlchemy's Date does).
    return "substr(day, 1, 8) || '01'" if unit == "month" else "substr(day, 1, 5) || '01-01'"


def _rollup_sql(table, keys: tuple[str, ...], grain: str, dialect) -> str:
    """``INSERT ... SELECT`` summing the day table into the ``grain`` cells of ``table``, rows in key order."""
    groups = ", ".join([_period_start(grain, dialect), *keys[2:]])
    sums = ", ".join(f"SUM({c})" for c in COLUMNS)
    # "WHERE 1 = 1" lets SQLite read the ON CONFLICT clause as the upsert's, not a join's.
    return (f"INSERT INTO {table.name} ({', '.join((*keys, *COLUMNS))}) "
            f"SELECT '{grain}', {groups}, {sums} FROM {_DAYS_TABLE} WHERE 1 = 1 GROUP BY {groups} "
            f"HAVING {' OR '.join(f'SUM({c}) <> 0' for c in COLUMNS)} ORDER BY {groups} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in COLUMNS))


def _roll_up_in_database(days: dict[tuple, list[int]]) -> None:
    connection = db.session.connection()
    dialect = connection.dialect
    as_text = dialect.name == "sqlite"
    rows = [(agency_id, procedure_id, channel, day.isoformat() if as_text else day, *values)
            for (agency_id, procedure_id, channel, day), values in days.items() if any(values)]
    if not rows:
        return
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_DAYS_TABLE} (agency_id INTEGER, procedure_id INTEGER, "
        f"channel VARCHAR(16), day DATE, {', '.join(f'{c} INTEGER' for c in COLUMNS)})")
    bulk_insert(connection, _DAYS_TABLE, ("agency_id", "procedure_id", "channel", "day", *COLUMNS), rows)
    for table, keys in ((_fine, _FINE_KEYS), (_coarse, _COARSE_KEYS), (_by_procedure, _PROCEDURE_KEYS)):
        for grain in ("d", "m", "y"):
            connection.exec_driver_sql(_rollup_sql(table, keys, grain, dialect))
    connection.exec_driver_sql(f"DELETE FROM {_DAYS_TABLE}")


_PENDING = "tracker_counter_deltas"  # in the transaction's state: its deltas, summed until the commit


def _record(agency_id: int, procedure_id: int, channel: str, deltas: dict[date, list[int]]) -> None:
    if not deltas:
        return
    state = transaction_state(db.session())
    cells = state.get(_PENDING)
    if cells is None:
        cells = state[_PENDING] = Accumulator()
    cells.add(agency_id, procedure_id, channel, deltas)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    cells = transaction_state(session).pop(_PENDING, None)
    if cells:
        cells.write()


_UPSERTS: dict[tuple[str, str], str] = {}


def _upsert_sql(table, keys: tuple[str, ...], dialect) -> str:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET c = c + excluded.c`` for the driver, built once.

    Written for the DBAPI directly: the rebuild sends millions of rows, and SQLAlchemy's
    per-row parameter processing would cost more than the database's own work.
    """
    sql = _UPSERTS.get((dialect.name, table.name))
    if sql is None:
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        columns = (*keys, *COLUMNS)
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))}) "
               f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
               + ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in COLUMNS))
        _UPSERTS[(dialect.name, table.name)] = sql
    return sql


def _upsert(table, keys: tuple[str, ...], cells: dict[tuple, list[int]]) -> None:
    """Add each cell's deltas to its row, creating missing rows (one executemany per chunk).

    Rows are written in key order, so that two transactions touching the same cells
    lock them in the same order and cannot deadlock.
    """
    connection = db.session.connection()
    dialect = connection.dialect
    # SQLite keeps dates as ISO text (as SQLAlchemy's Date does); PostgreSQL takes them as they are.
    as_text = dialect.name == "sqlite"
    rows = [(grain, start.isoformat() if as_text else start, *rest, *values)
            for (grain, start, *rest), values in sorted(cells.items()) if any(values)]
    sql = _upsert_sql(table, keys, dialect)
    for i in range(0, len(rows), _CHUNK * 10):
        connection.exec_driver_sql(sql, rows[i:i + _CHUNK * 10])


