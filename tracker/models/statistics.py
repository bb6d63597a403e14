"""Pre-aggregated statistics: counter deltas per day, month and year (see tracker.domain.statistics).

Every step of every dossier adds its deltas, in the step's own transaction, to the
cell of its day, of its month and of its year, in three tables: one per receiving
agency, procedure and channel (any filter and grouping), and two narrower ones that
the common reports read: per agency and channel (agency reports), and per procedure
and channel (city-wide procedure and field reports). A report then reads a handful of
cells rather than the dossiers (``tracker.domain.statistics.range_cells``).
``flask tracker rebuild-stats`` recomputes all three from the dossiers and their steps.

The cells name their agency and procedure without a foreign key: they are derived
from dossiers that do reference both, and checking (and locking) the two rows again
for every counter row written would cost a third of the counters' work.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class _Counters:
    """The delta columns (tracker.domain.statistics.COLUMNS)."""

    received: Mapped[int] = mapped_column(Integer, default=0)
    early: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    processing_days: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    overdue_nonworking: Mapped[int] = mapped_column(Integer, default=0)
    # The service levels (tracker.domain.statistics.SERVICE_COLUMNS).
    online_capable: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    digitized: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paid: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paid_online: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    electronic_result: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    very_satisfied: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    satisfied: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dissatisfied: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StatCell(_Counters, db.Model):
    """Deltas of one receiving agency, procedure and channel over one day (d), month (m) or year (y)."""

    __tablename__ = "stat_cells"
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(primary_key=True)
    procedure_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)

    __table_args__ = (Index("ix_stat_cells_procedure", "procedure_id", "grain", "start"),)


class StatAgencyCell(_Counters, db.Model):
    """The same deltas summed over procedures: one receiving agency and channel per cell."""

    __tablename__ = "stat_agency_cells"
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatProcedureCell(_Counters, db.Model):
    """The same deltas summed over agencies: one procedure and channel per cell."""

    __tablename__ = "stat_procedure_cells"
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    procedure_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
