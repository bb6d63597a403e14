"""Bulk import of JSON Lines (docs/api-guide.md#import-and-export).

Each line is a record with a ``type``: ``agency``, ``procedure`` and
``calendar_override`` records are the POST bodies; ``dossier`` records are the
POST /dossiers body with its existing ``code``, the admin fields, the
``time_limit`` it was accepted with (optional: the procedure's by default) and
its ``steps`` (step bodies with their ``at``). Every line is validated like the
API, state machine and times included; a bad line is reported with its number
and the rest goes in. Dossiers already present (by code) are skipped, so
importing a file twice adds nothing.

Reference records are written one by one as they come. Dossier lines are read in
chunks that worker processes validate and replay (``import_pool``) while this
process writes the results in file order, a batch per transaction, with the
driver's ``executemany`` (``bulk_writer``). The statistics counters of the new
dossiers are summed in memory from the deltas the workers computed and added to
the counter tables along the way; should the import stop half-way,
``flask tracker rebuild-stats`` puts them right.
"""
from __future__ import annotations

import gc
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker.database import refresh_planner_statistics
from tracker.extensions import db
from tracker.models import Agency, CalendarOverride, Procedure
from tracker.schemas.reference import AgencySchema, OverrideSchema, ProcedureSchema
from tracker.services import audit, overrides, reference, statistics
from tracker.services.audit import Actor
from tracker.services.importing.writer import DossierWriter, driver_datetime
from tracker.services.calendar import deadlines
from tracker.services.importing.pool import ChunkPool
from tracker.services.importing.progress import count_imported
from tracker.services.importing.records import (BAD_LINE, ImportContext, LineError, PreparedChunk, RowFormat,
                                             parse_line, prepare_chunk, reason)

log = logging.getLogger(__name__)

BATCH = 10000  # dossiers per transaction
CHUNK = 1000  # lines per worker task
PLURALS = {"agency": "agencies", "procedure": "procedures", "dossier": "dossiers",
           "calendar_override": "calendar overrides"}
KINDS = ("agency", "procedure", "dossier", "calendar_override")
# What an import of dossiers fills, in bulk (see ``refresh_planner_statistics``).
FILLED_TABLES = ("dossiers", "steps", "evaluations", "dossier_counters", *(t.name for t in statistics.TABLES))
REFERENCE_KINDS = ("agency", "procedure", "calendar_override")
# What the export (and any writer that puts the type first) starts a dossier line with:
# such lines go to the workers without being parsed here.
DOSSIER_PREFIX = b'{"type":"dossier"'

agency_loader = AgencySchema(unknown="exclude")
procedure_loader = ProcedureSchema(unknown="exclude")
override_loader = OverrideSchema(unknown="exclude")


@dataclass
class ImportReport:
    """What an import did."""

    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the operator (calendar overrides only when some were added)."""
        added = ", ".join(f"{n} {PLURALS[k] if n != 1 else k.replace('_', ' ')}" for k, n in self.added.items()
                          if k != "calendar_override" or n)
        skipped = sum(self.skipped.values())
        return f"Imported {added}; {skipped} already present; {len(self.errors)} bad lines."


def default_workers() -> int:
    """Worker processes for the import: the configured number, else one per CPU (none on one CPU)."""
    configured = current_app.config.get("TRACKER_IMPORT_WORKERS")
    if configured is not None:
        return int(configured)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus if cpus > 1 else 0


def _load_context(layout: RowFormat) -> ImportContext:
    agencies = dict(db.session.execute(select(Agency.code, Agency.id)).all())
    procedures = {code: (pid, value, unit) for code, pid, value, unit in db.session.execute(
        select(Procedure.code, Procedure.id, Procedure.time_limit_value, Procedure.time_limit_unit))}
    online_levels = dict(db.session.execute(select(Procedure.code, Procedure.online_level)).all())
    return ImportContext(rules=deadlines(), agencies=agencies, procedures=procedures,
                         payment_pauses=current_app.config["TRACKER_PAYMENT_PAUSES"], layout=layout,
                         online_levels=online_levels)


class _Importer:
    """The state of one import: the context, the chunk being filled, the batch being written."""

    def __init__(self, report: ImportReport, who: Actor, workers: int, chunk_size: int, source: str = "-"):
        self.report, self.who, self.source = report, who, source
        self.workers, self.chunk_size = workers, chunk_size
        self.writer = DossierWriter(db.session)
        self.ctx = _load_context(RowFormat(driver_datetime(self.writer.dialect)))
        self.cells = statistics.Accumulator()
        self.pool: ChunkPool | None = None
        self.chunk: list[tuple[int, bytes | str]] = []
        self.batch: list = []
        self.seen: set[str] = set()
        self.rebuild = False  # an override arrived after dossiers it may concern
        # Into a database without dossiers, only codes repeated in the file could collide, and
        # ``seen`` catches those; one created meanwhile through the API trips the unique code
        # and the batch is written again, looking codes up as into any other database.
        self.look_up = self.writer.any_dossier()

    def dossier(self, number: int, line: bytes | str) -> None:
        """Queue a dossier line."""
        self.chunk.append((number, line))
        if len(self.chunk) >= self.chunk_size:
            self._submit()

    def reference(self, number: int, kind: str, record: dict) -> None:
        """Write an agency, procedure or override once every line before it is in."""
        self.settle()
        try:
            added = self._reference_record(kind, record)
        except BAD_LINE as bad:
            db.session.rollback()
            self.report.errors.append((number, reason(bad)))
            return
        if added and self.pool is not None:
            self.pool.close()  # its workers hold the old context
            self.pool = None

    def settle(self) -> None:
        """Prepare and write everything queued so far."""
        self._submit()
        if self.pool is not None:
            for prepared in self.pool.drain():
                self._take(prepared)
        self._write()

    def finish(self) -> None:
        """Write the rest, then the statistics counters; then let the planner see the new rows."""
        self.settle()
        if self.rebuild:
            statistics.rebuild()
        else:
            self.cells.write()
        db.session.commit()
        if self.report.added["dossier"]:
            refresh_planner_statistics(db.session, FILLED_TABLES)

    def close(self) -> None:
        """Stop the workers; counters of the dossiers already committed are written."""
        if self.pool is not None:
            self.pool.close()
            self.pool = None
        if len(self.cells):
            db.session.rollback()
            self.cells.write()
            db.session.commit()

    def _submit(self) -> None:
        chunk, self.chunk = self.chunk, []
        if not chunk:
            return
        if self.pool is None and self.workers > 0 and len(chunk) >= self.chunk_size:
            self.pool = ChunkPool(self.ctx, self.workers, db.engine)
        if self.pool is None:
            self._take(prepare_chunk(chunk, self.ctx))
        else:
            for prepared in self.pool.submit(chunk):
                self._take(prepared)

    def _take(self, prepared: PreparedChunk) -> None:
        self.report.errors.extend(prepared.errors)
        for dossier in prepared.dossiers:
            if dossier.code in self.seen:
                self.report.errors.append((dossier.number, f"code: {dossier.code} appears twice in this file."))
                continue
            self.seen.add(dossier.code)
            self.batch.append(dossier)
        if len(self.batch) >= BATCH:
            self._write()

    def _write(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        try:
            fresh = self._insert(batch)
        except IntegrityError:
            if self.look_up:
                raise
            db.session.rollback()  # a dossier created meanwhile has one of these codes
            self.look_up = True
            fresh = self._insert(batch)
        for dossier in fresh:
            self.cells.add(*dossier.cell, dossier.deltas)
        self.report.skipped["dossier"] += len(batch) - len(fresh)
        self.report.added["dossier"] += len(fresh)
        count_imported(len(fresh))
        gc.collect(1)

    def _insert(self, batch: list) -> list:
        present = self.writer.existing([dossier.code for dossier in batch]) if self.look_up else set()
        fresh = [dossier for dossier in batch if dossier.code not in present]
        if fresh:
            # One audit record per committed batch seals its steps, so that a stopped import
            # leaves no step outside the chain.
            sealed = self.writer.write(fresh, audit.next_id())
            audit.record(self.who, "import.batch", "file", self.source, {"dossiers": len(fresh)}, steps=sealed)
        self.cells.write_when_full()
        db.session.commit()
        return fresh

    def _reference_record(self, kind: str, record: dict) -> bool:
        loader, exists, create, key = {
            "agency": (agency_loader, reference.agency_by_code, reference.create_agency, "code"),
            "procedure": (procedure_loader, reference.procedure_by_code, reference.create_procedure, "code"),
            "calendar_override": (override_loader, lambda day: db.session.get(CalendarOverride, day),
                                  overrides.create_override, "date"),
        }[kind]
        data = loader.load(record)
        if exists(data[key]) is not None:
            self.report.skipped[kind] += 1
            return False
        thing = create(self.who, data)
        if kind == "agency":
            self.ctx.agencies[thing.code] = thing.id
        elif kind == "procedure":
            self.ctx.procedures[thing.code] = (thing.id, thing.time_limit_value, thing.time_limit_unit)
            self.ctx.online_levels[thing.code] = thing.online_level
        else:
            self.ctx.rules = deadlines()  # the next dossiers' deadlines follow the new calendar
            # Counters of dossiers already there were computed with the old calendar.
            self.rebuild = self.rebuild or self.writer.any_dossier()
        db.session.commit()
        self.report.added[kind] += 1
        return True


def _is_dossier_line(line: bytes | str) -> bool:
    return line.startswith(DOSSIER_PREFIX if isinstance(line, bytes) else DOSSIER_PREFIX.decode())


def import_lines(lines: Iterable[str | bytes], who: Actor, source: str = "-",
                 advance: Callable[[int], None] | None = None, workers: int | None = None,
                 chunk_size: int = CHUNK) -> ImportReport:
    """Import JSON Lines; bad lines are reported, the others committed batch by batch.

    ``workers`` is the number of processes preparing dossier lines (``default_workers()``
    by default; 0 prepares them in this process).
    """
    report = ImportReport()
    importer = _Importer(report, who, default_workers() if workers is None else workers, chunk_size, source)
    with young_collections_only():
        _read(lines, importer, report, advance)
    report.errors.sort()
    log.info("import of %s: %s", source, report.summary())
    audit.record(who, "import", "file", source, {"added": report.added, "skipped": report.skipped,
                                                  "errors": len(report.errors)})
    db.session.commit()
    return report


@contextmanager
def young_collections_only():
    """Only young objects are garbage-collected inside the block.

    An import keeps millions of objects alive (the codes seen, the summed counters), and
    every full collection would walk them all: a third of the import's time. Young
    cycles (a bad line's exception and its traceback) are still collected, by
    ``gc.collect(1)`` after each batch.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read(lines: Iterable[str | bytes], importer: _Importer, report: ImportReport,
          advance: Callable[[int], None] | None) -> None:
    try:
        for number, line in enumerate(lines, start=1):
            if advance:
                advance(len(line))
            if number == 1:  # a byte-order mark, as some Windows tools write, is not part of the first record
                line = line.removeprefix(b"\xef\xbb\xbf" if isinstance(line, bytes) else "\ufeff")
            if _is_dossier_line(line):
                importer.dossier(number, line)
                continue
            if not line.strip():
                continue
            try:
                record = parse_line(line)
                kind = record.get("type")
                if kind not in ("dossier", *REFERENCE_KINDS):
                    raise LineError("type: must be agency, procedure, calendar_override or dossier.")
            except BAD_LINE as bad:
                report.errors.append((number, reason(bad)))
                continue
            if kind == "dossier":
                importer.dossier(number, line)
            else:
                importer.reference(number, kind, record)
        importer.finish()
    finally:
        importer.close()
