"""The public list of late dossiers (công khai hồ sơ trễ hạn), per agency and period.

A dossier is listed when it was resolved late within the period, or when it was open
and overdue at the period's end (judged as the statistics judge pending dossiers: at
the end of ``to``, or now for a period reaching today). Each entry says what the
dossier was at that instant: its deadline, its finish if any, and the latest apology
(its date, the notice's reason and the new appointment). Nothing about the applicant.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import noload, selectinload

from tracker.domain import progress
from tracker.domain import statistics as rules_of
from tracker.domain.deadlines import LATE, TimeLimit
from tracker.domain.statuses import Status
from tracker.domain.workflow import Action, REGISTER
from tracker.extensions import db
from tracker.models import Dossier, Step
from tracker.models.types import utcnow
from tracker.services.calendar import deadlines
from tracker.services.clock import clock_of
from tracker.services.reference import agency_tree
from tracker.services.statistics import Query, report


def _replayed(dossier: Dossier, instant: datetime, payment_pauses: bool) -> progress.DossierClock:
    """The dossier's clock after its steps recorded up to ``instant``."""
    if dossier.steps[-1].at <= instant:
        return clock_of(dossier)
    rules = deadlines()
    clock = progress.DossierClock(status=Status.REGISTERED, limit=TimeLimit(dossier.limit_value, dossier.limit_unit))
    for step in dossier.steps:
        if step.at > instant:
            break
        if step.action == REGISTER:
            continue
        fields = {name: getattr(step, name) for name in progress.STEP_FIELDS if getattr(step, name) is not None}
        progress.apply(clock, step.action, step.at, rules, fields, payment_pauses=payment_pauses)
    return clock


def _apology(dossier: Dossier, instant: datetime) -> dict | None:
    apologies = [s for s in dossier.steps if s.action == Action.APOLOGIZE and s.at <= instant]
    if not apologies:
        return None
    last = apologies[-1]
    return {"at": last.at, "reason": last.reason, "new_appointment_at": last.new_appointment_at}


#: Candidates read at a time: the list streams through them in code order.
BATCH = 1000
# The steps' user and agencies, which the ORM would join to every step, say nothing here.
_LOAD = (selectinload(Dossier.steps).options(noload(Step.user), noload(Step.agency), noload(Step.to_agency)),
         noload(Dossier.handling_agency))


def late_dossiers(query: Query, payment_pauses: bool, now: datetime | None = None,
                  limit: int | None = None) -> list[dict]:
    """The late dossiers of the query's period and agency subtree, ordered by code: the first
    ``limit`` of them when given, found without reading the dossiers further in the order."""
    now = now or utcnow()
    rules = deadlines()
    tz = rules.hours.tz
    period = query.period
    start = datetime.combine(period.start, time(0), tzinfo=tz)
    instant = min(rules_of.end_of_day(period.end, tz), now)
    end = datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=tz)
    d = Dossier
    resolved_late = and_(d.timeliness == LATE, d.finished_at >= start, d.finished_at < end)
    open_then = and_(d.accepted_at <= instant, or_(d.finished_at.is_(None), d.finished_at > instant),
                     or_(d.withdrawn_at.is_(None), d.withdrawn_at > instant))
    statement = select(d).options(*_LOAD).where(or_(resolved_late, open_then)).order_by(d.code)
    if query.agency is not None:
        statement = statement.where(d.agency_id.in_(sorted(agency_tree().subtree(query.agency.id))))
    entries = []
    # A short list reads a few candidates a time (most of them are listed): no more than it needs.
    batch = BATCH if limit is None else min(BATCH, 2 * limit + 20)
    candidates = db.session.scalars(statement.execution_options(yield_per=batch))
    try:
        for dossier in candidates:
            clock = _replayed(dossier, instant, payment_pauses)
            finished = clock.finished_at is not None and clock.finished_at <= instant
            overdue = not finished and clock.status in progress.OPEN and progress.is_overdue(clock, instant, rules)
            late = finished and clock.timeliness == LATE and clock.finished_at >= start
            if not (late or overdue):
                continue
            entries.append({
                "code": dossier.code, "procedure": {"code": dossier.procedure.code, "name": dossier.procedure.name},
                "agency": {"code": dossier.agency.code, "name": dossier.agency.name}, "due_at": clock.due_at,
                "finished_at": clock.finished_at if finished else None, "timeliness": clock.timeliness if finished else None,
                "overdue": overdue, "apology": _apology(dossier, instant),
            })
            if len(entries) == limit:
                break
    finally:  # a list cut short leaves no cursor open
        candidates.close()
    return entries


def late_total(query: Query, now: datetime | None = None) -> int:
    """How many dossiers ``late_dossiers`` lists, from the statistics counters: those resolved late
    in the period plus those pending and overdue at its end, which is what the list holds."""
    totals = report(query, now)["totals"]
    return totals["resolved"]["late"] + totals["pending"]["overdue"]
