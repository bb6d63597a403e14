"""Rebuilding the counters from the dossiers' history (``flask tracker rebuild-stats``)."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from itertools import groupby
from operator import attrgetter
from typing import Callable, Iterable

from flask import current_app
from sqlalchemy import bindparam, delete, select, text, update

from tracker.domain import progress
from tracker.domain import statistics as rules_of
from tracker.domain.deadlines import Deadlines, TimeLimit
from tracker.domain.progress import STEP_FIELDS
from tracker.domain.statuses import Status
from tracker.domain.service_levels import ONLINE_CAPABLE, Flags
from tracker.domain.workflow import PAUSING_ACTIONS, REGISTER, Action, MissingFields, TransitionRefused
from tracker.extensions import db
from tracker.models import Dossier, Evaluation, Step
from tracker.services.calendar import deadlines
from tracker.services.statistics.counters import TABLES, Accumulator

log = logging.getLogger(__name__)

#: The stored dates a replay recomputes, so that a rule change reaches the dossiers already recorded.
REPLAYED_DATES = ("due_at", "appointment_at", "paused_days", "timeliness")


def replay_deltas(limit: TimeLimit, steps: Iterable, rules: Deadlines, payment_pauses: bool,
                  flags: Flags | None = None, clock: progress.DossierClock | None = None
                  ) -> Iterable[dict[date, list[int]]]:
    """The deltas of each step of one dossier, replayed from its first step.

    ``steps`` are rows with ``action``, ``at`` and the step fields. A step the rules
    now refuse (data written around the state machine) is logged and skipped.
    With the dossier's ``flags``, the service-level deltas come last (whether it paid
    is read from the replayed steps). A ``clock`` given (a fresh one) is left as the
    replay ends.
    """
    if clock is None:
        clock = progress.DossierClock(status=Status.REGISTERED, limit=limit)
    paid = False
    for step in steps:
        if step.action == REGISTER:
            continue
        before = clock.snapshot()
        fields = {name: getattr(step, name) for name in STEP_FIELDS if getattr(step, name) is not None}
        try:
            progress.apply(clock, step.action, step.at, rules, fields, payment_pauses=payment_pauses)
        except (TransitionRefused, MissingFields, progress.BadAppointment, ValueError) as refused:
            log.warning("rebuild-stats: skipped step %s at %s: %s", step.action, step.at, refused)
            clock.__dict__.update(before.__dict__)
            continue
        paid = paid or step.action == Action.RECEIVE_PAYMENT
        yield rules_of.step_deltas(before, clock, step.at, rules)
    if flags is not None:
        yield rules_of.history_flag_deltas(clock, replace(flags, paid=flags.paid or paid), rules)


def unpaused_deltas(row, rules: Deadlines) -> Iterable[dict[date, list[int]]]:
    """The deltas of a dossier that never waited for the applicant, from its row alone.

    Without a pause its deadline never moves after acceptance, so only two steps
    change its counters: the acceptance and the finish (or withdrawal). They are
    rebuilt from the row's times with the same rules a replay applies.
    """
    limit = TimeLimit(row.limit_value, row.limit_unit)
    registered = progress.DossierClock(status=Status.REGISTERED, limit=limit)
    accepted = progress.DossierClock(status=Status.ACCEPTED, limit=limit)
    progress.accept(accepted, row.accepted_at, rules)
    yield rules_of.step_deltas(registered, accepted, row.accepted_at, rules)
    closed_at = row.finished_at or row.withdrawn_at
    if closed_at is None:
        yield rules_of.history_flag_deltas(accepted, row_flags(row), rules)
        return
    closed = accepted.snapshot()
    closed.status = row.status
    if row.finished_at is not None:
        closed.finished_at = row.finished_at
        closed.timeliness = rules.timeliness(row.finished_at, accepted.due_at, limit, 0)
    else:
        closed.withdrawn_at = row.withdrawn_at
    yield rules_of.step_deltas(accepted, closed, closed_at, rules)
    yield rules_of.history_flag_deltas(closed, row_flags(row), rules)


def row_flags(row) -> Flags:
    """The service flags of a dossier row; without a payment step, it paid only if it paid online."""
    return Flags(online_capable=row.online_level in ONLINE_CAPABLE, digitized=bool(row.digitized),
                 paid=bool(row.paid_online), paid_online=bool(row.paid_online),
                 electronic_result=bool(row.electronic_result))


def evaluation_cells(cells: Accumulator, rules: Deadlines) -> None:
    """Add every evaluation of a resolved dossier to the counts of its resolution day."""
    d, e = Dossier.__table__, Evaluation.__table__
    rows = (select(d.c.agency_id, d.c.procedure_id, d.c.channel, d.c.finished_at, e.c.overall)
            .join(e, e.c.dossier_id == d.c.id).where(d.c.accepted_at.is_not(None), d.c.finished_at.is_not(None))
            .execution_options(yield_per=5000))
    for row in db.session.execute(rows):
        cells.add(row.agency_id, row.procedure_id, row.channel,
                  rules_of.evaluation_deltas(row.finished_at, None, row.overall, rules))


def rebuild(progress_callback: Callable[[int], None] | None = None) -> int:
    """Recompute every counter from the dossiers and their steps; returns how many dossiers counted.

    Dossiers that never waited for the applicant are counted from their row (see
    ``unpaused_deltas``); the others have their steps replayed, and their stored
    deadline, appointment, paused days and timeliness are brought in line with the
    replay (a corrected pause rule reaches old dossiers). Works in the caller's
    transaction, which commits. On PostgreSQL the counter tables are locked first:
    steps recorded meanwhile wait, then add their deltas on top of the rebuilt
    counters. ``progress_callback(n)`` is called as dossiers are done.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"LOCK TABLE {', '.join(t.name for t in TABLES)} IN EXCLUSIVE MODE"))
    for table in TABLES:
        session.execute(delete(table))
    rules = deadlines()
    payment_pauses = current_app.config["TRACKER_PAYMENT_PAUSES"]
    d, s = Dossier.__table__, Step.__table__
    pausing = [str(action) for action in PAUSING_ACTIONS]
    paused = set(session.scalars(select(s.c.dossier_id).where(s.c.action.in_(pausing)).distinct()))
    cells = Accumulator()
    counted = 0
    corrected: list[dict] = []

    def done(count: int = 1) -> None:
        nonlocal counted
        counted += count
        if progress_callback and counted % 1000 == 0:
            progress_callback(1000)
        cells.write_when_full()

    flag_columns = (d.c.online_level, d.c.digitized, d.c.paid_online, d.c.electronic_result)
    rows = (select(d.c.id, d.c.agency_id, d.c.procedure_id, d.c.channel, d.c.limit_value, d.c.limit_unit,
                   d.c.status, d.c.accepted_at, d.c.finished_at, d.c.withdrawn_at, *flag_columns)
            .where(d.c.accepted_at.is_not(None)).order_by(d.c.agency_id, d.c.id)
            .execution_options(yield_per=5000))
    for row in session.execute(rows):
        if row.id in paused:
            continue
        for deltas in unpaused_deltas(row, rules):
            cells.add(row.agency_id, row.procedure_id, row.channel, deltas)
        done()
    stored = [d.c[name].label(f"stored_{name}") for name in REPLAYED_DATES]
    steps = (select(d.c.id, d.c.agency_id, d.c.procedure_id, d.c.channel, d.c.limit_value, d.c.limit_unit,
                    *stored, *flag_columns, s.c.action, s.c.at, *[s.c[name] for name in STEP_FIELDS])
             .join(s, s.c.dossier_id == d.c.id)
             .where(d.c.accepted_at.is_not(None), d.c.id.in_(select(s.c.dossier_id).where(s.c.action.in_(pausing))))
             .order_by(d.c.id, s.c.seq)
             .execution_options(yield_per=5000))
    for _, group in groupby(session.execute(steps), key=attrgetter("id")):
        rows = list(group)
        first = rows[0]
        limit = TimeLimit(first.limit_value, first.limit_unit)
        clock = progress.DossierClock(status=Status.REGISTERED, limit=limit)
        for deltas in replay_deltas(limit, rows, rules, payment_pauses, row_flags(first), clock):
            cells.add(first.agency_id, first.procedure_id, first.channel, deltas)
        if any(getattr(clock, name) != getattr(first, f"stored_{name}") for name in REPLAYED_DATES):
            corrected.append({"dossier": first.id, **{name: getattr(clock, name) for name in REPLAYED_DATES}})
        done()
    if corrected:  # after the streamed read: no write while its cursor is open
        session.execute(update(d).where(d.c.id == bindparam("dossier"))
                        .values({name: bindparam(name) for name in REPLAYED_DATES}), corrected)
        log.info("rebuild-stats: corrected the stored dates of %d dossiers", len(corrected))
    evaluation_cells(cells, rules)
    cells.write()
    if progress_callback and counted % 1000:
        progress_callback(counted % 1000)
    session.flush()
    return counted


