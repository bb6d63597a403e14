"""A brute-force reference for the public statistics, computed straight from dossiers and steps.

Nothing here is shared with the production aggregation (no counters, no cells, no
profiles): each dossier's steps are replayed with ``progress.apply`` and every
counter of docs/rules.md#statistics-counters is evaluated from its definition, dossier by
dossier. Pending dossiers are judged at ``min(end of to, now)`` by replaying the
steps recorded up to that instant and asking ``progress.is_overdue``. Processing
days are counted one working day at a time, each pause taking away the days after the
later of its request day and the effective intake day, up to its resume day.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from tracker.domain import progress
from tracker.domain.deadlines import TimeLimit
from tracker.domain.statuses import CHANNEL_CODES, Channel, Status, channel_label
from tracker.extensions import db
from tracker.domain.service_levels import ONLINE_LEVELS, online_level_label
from tracker.models import Agency, Dossier, Evaluation, Procedure, Step
from tracker.services.calendar import deadlines


@dataclass
class Replayed:
    """One dossier and the clock after each of its steps."""

    agency_id: int
    procedure_code: str
    procedure_name: str
    field: str
    channel: str
    states: list[tuple[datetime, progress.DossierClock]] = field(default_factory=list)
    # The service levels (see ``_add_service``).
    online_level: str = "none"
    procedure_level: str = "none"
    digitized: bool = False
    paid: bool = False
    paid_online: bool = False
    completed: bool = False
    electronic_result: bool = False
    evaluation: str | None = None

    @property
    def final(self) -> progress.DossierClock | None:
        return self.states[-1][1] if self.states else None

    def state_at(self, instant: datetime) -> progress.DossierClock | None:
        """The clock after every step recorded at or before ``instant``."""
        found = None
        for at, clock in self.states:
            if at <= instant:
                found = clock
        return found


def load() -> tuple[list[Replayed], dict[int, Agency]]:
    """Replay every dossier of the database (inside an app context)."""
    rules = deadlines()
    payment_pauses = current_app.config["TRACKER_PAYMENT_PAUSES"]
    agencies = {a.id: a for a in db.session.scalars(select(Agency))}
    procedures = {p.id: p for p in db.session.scalars(select(Procedure))}
    result = []
    for dossier in db.session.scalars(select(Dossier).order_by(Dossier.id)):
        procedure = procedures[dossier.procedure_id]
        replayed = Replayed(dossier.agency_id, procedure.code, procedure.name, procedure.field, dossier.channel)
        clock = progress.DossierClock(status=Status.REGISTERED, limit=TimeLimit(dossier.limit_value, dossier.limit_unit))
        steps = db.session.scalars(select(Step).where(Step.dossier_id == dossier.id).order_by(Step.seq))
        for step in steps:
            if step.action == "register":
                continue
            fields = {k: getattr(step, k) for k in ("reason", "result", "note", "public_note", "new_appointment_at")
                      if getattr(step, k) is not None}
            progress.apply(clock, step.action, step.at, rules, fields, payment_pauses=payment_pauses)
            replayed.states.append((step.at, copy.deepcopy(clock)))
        _add_service(replayed, dossier, procedure)
        result.append(replayed)
    return result, agencies


def _add_service(replayed: Replayed, dossier: Dossier, procedure: Procedure) -> None:
    """The service-level facts of one dossier, read from its own columns, its steps and its evaluation."""
    steps = db.session.scalars(select(Step).where(Step.dossier_id == dossier.id).order_by(Step.seq)).all()
    replayed.online_level, replayed.procedure_level = dossier.online_level, procedure.online_level
    replayed.digitized = dossier.digitized or any(s.action == "accept" and s.digitized for s in steps)
    replayed.paid_online = any(s.action == "receive_payment" and s.online for s in steps) or dossier.paid_online
    replayed.paid = replayed.paid_online or any(s.action == "receive_payment" for s in steps)
    completes = [s for s in steps if s.action == "complete"]
    replayed.completed = bool(completes) and replayed.final.finished_at is not None
    replayed.electronic_result = replayed.completed and bool(completes[0].electronic_result)
    evaluation = db.session.scalar(select(Evaluation).where(Evaluation.dossier_id == dossier.id))
    replayed.evaluation = evaluation.overall if evaluation is not None else None


SERVICE_KEYS = ("capable", "capable_online", "digitized", "paid", "paid_online", "completed", "electronic",
                "very_satisfied", "satisfied", "dissatisfied")


def _count_service(dossier: Replayed, start: date, end: date, c: dict) -> None:
    """Add one accepted dossier to the service-level counts of [start, end] (docs/rules.md#rates)."""
    rules = deadlines()
    final = dossier.final
    if start <= rules.local(final.accepted_at).date() <= end:
        capable = dossier.online_level in ("full", "partial")
        c["capable"] += capable
        c["capable_online"] += capable and dossier.channel == "online"
        c["digitized"] += dossier.digitized
        c["paid"] += dossier.paid
        c["paid_online"] += dossier.paid_online
    if final.finished_at is not None and start <= rules.local(final.finished_at).date() <= end:
        c["completed"] += dossier.completed
        c["electronic"] += dossier.electronic_result
        if dossier.evaluation:
            c[dossier.evaluation] += 1


def _service_counters(c: dict) -> dict:
    resolved = c["early"] + c["on_time"] + c["late"]
    received = c["online"] + c["direct"] + c["postal"]
    evaluated = c["very_satisfied"] + c["satisfied"] + c["dissatisfied"]

    def share(numerator, denominator):
        return round(numerator / denominator, 4) if denominator else None

    return {
        "evaluations": {"total": evaluated, "very_satisfied": c["very_satisfied"], "satisfied": c["satisfied"],
                        "dissatisfied": c["dissatisfied"]},
        "online_rate": share(c["capable_online"], c["capable"]),
        "online_payment_rate": share(c["paid_online"], c["paid"]),
        "digitized_rate": share(c["digitized"], received),
        "electronic_result_rate": share(c["electronic"], c["completed"]),
        "satisfaction_rate": share(resolved - c["dissatisfied"], resolved),
        "evaluation_rate": share(evaluated, resolved),
    }


def _empty() -> dict:
    return {"carried_over": 0, "online": 0, "direct": 0, "postal": 0, "early": 0, "on_time": 0, "late": 0,
            "pending": 0, "overdue": 0, "withdrawn": 0, "days": 0, **dict.fromkeys(SERVICE_KEYS, 0)}


def _counters(c: dict) -> dict:
    resolved = c["early"] + c["on_time"] + c["late"]
    within = c["pending"] - c["overdue"]
    received = c["carried_over"] + c["online"] + c["direct"] + c["postal"]
    good = c["early"] + c["on_time"]
    return {
        "received": {"total": received, "carried_over": c["carried_over"], "online": c["online"],
                     "direct": c["direct"], "postal": c["postal"]},
        "resolved": {"total": resolved, "early": c["early"], "on_time": c["on_time"], "late": c["late"]},
        "pending": {"total": c["pending"], "within_deadline": within, "overdue": c["overdue"]},
        "withdrawn": c["withdrawn"],
        "on_time_rate": round(good / resolved, 4) if resolved else None,
        "progress_rate": round((good + within) / (resolved + c["pending"]), 4) if resolved + c["pending"] else None,
        "avg_processing_working_days": round(c["days"] / resolved, 2) if resolved else None,
        **_service_counters(c),
    }


def _working_days_in(first: date, last: date) -> set[date]:
    """The working days d with first < d <= last, one by one."""
    calendar = deadlines().calendar
    days, day = set(), first + timedelta(days=1)
    while day <= last:
        if calendar.is_working_day(day):
            days.add(day)
        day += timedelta(days=1)
    return days


def _processing_days(final: progress.DossierClock) -> int:
    """Working days after the effective intake day up to the finish day, less the paused ones.

    A pause counts from the later of its request and the effective intake: the days
    it covers are those after the later of the two days, up to its resume day.
    """
    rules = deadlines()
    intake = rules.local(final.effective_intake_at).date()
    counted = _working_days_in(intake, rules.local(final.finished_at).date())
    for requested, resumed in final.pauses:
        start = max(rules.local(requested).date(), intake)
        counted -= _working_days_in(start, rules.local(resumed).date())
    return len(counted)


def _count(dossier: Replayed, start: date, end: date, now: datetime, c: dict) -> None:
    """Add one dossier to the raw counts of the period [start, end], straight from the definitions."""
    rules = deadlines()
    final = dossier.final
    if final is None or final.accepted_at is None:
        return  # registered or not accepted: never counted

    def day(value):
        return rules.local(value).date() if value is not None else None

    accepted, finished, withdrawn = day(final.accepted_at), day(final.finished_at), day(final.withdrawn_at)
    if accepted < start and not ((finished and finished < start) or (withdrawn and withdrawn < start)):
        c["carried_over"] += 1
    if start <= accepted <= end:
        c[dossier.channel] += 1
    if finished and start <= finished <= end:
        c[final.timeliness] += 1
        c["days"] += _processing_days(final)
    if withdrawn and start <= withdrawn <= end:
        c["withdrawn"] += 1
    _count_service(dossier, start, end, c)
    if accepted <= end and not (finished and finished <= end) and not (withdrawn and withdrawn <= end):
        c["pending"] += 1
        tz = rules.hours.tz
        end_of_to = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz) - timedelta(microseconds=1)
        judged = min(end_of_to, now)
        if progress.is_overdue(dossier.state_at(judged), judged, rules):
            c["overdue"] += 1


def _ancestors(agency_id: int, agencies: dict[int, Agency]) -> list[int]:
    chain = [agency_id]
    while agencies[chain[-1]].parent_id is not None:
        chain.append(agencies[chain[-1]].parent_id)
    return chain


def report(dossiers: list[Replayed], agencies: dict[int, Agency], start: date, end: date, now: datetime,
           agency: str | None = None, procedure: str | None = None, field: str | None = None,
           channel: str | None = None, group_by: str | None = None, min_resolved: int | None = None,
           lang: str = "vi") -> dict:
    """``{totals, groups}`` as the public statistics should give them."""
    by_code = {a.code: a for a in agencies.values()}
    root = by_code[agency].id if agency else None
    selected = []
    for d in dossiers:
        chain = _ancestors(d.agency_id, agencies)
        if root is not None and root not in chain:
            continue
        if procedure and d.procedure_code != procedure:
            continue
        if field and d.field != field:
            continue
        if channel and d.channel != channel:
            continue
        selected.append((d, chain))
    totals = _empty()
    for d, _ in selected:
        _count(d, start, end, now, totals)
    groups: dict = {}
    names: dict = {}
    order: dict = {}
    if group_by == "month":
        first = start
        while first <= end:
            nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
            last = min(end, nxt - timedelta(days=1))
            key = f"{first.year:04d}-{first.month:02d}"
            c = groups.setdefault(key, _empty())
            for d, _ in selected:
                _count(d, first, last, now, c)
            names[key] = (f"Tháng {first.month:02d}/{first.year}" if lang == "vi"
                          else f"{first:%B} {first.year}")
            order[key] = key
            first = last + timedelta(days=1)
    elif group_by:
        for d, chain in selected:
            if group_by == "agency":
                # The child of the filtered agency above the receiving one (the filtered agency itself
                # for what it received directly), or the top-level agency without a filter.
                if root is None:
                    group_id = chain[-1]
                else:
                    position = chain.index(root)
                    group_id = chain[position - 1] if position > 0 else root
                key, name = agencies[group_id].code, agencies[group_id].name
                sort_key = key
            elif group_by == "procedure":
                key, name, sort_key = d.procedure_code, d.procedure_name, d.procedure_code
            elif group_by == "field":
                key, name, sort_key = d.field, d.field, d.field
            elif group_by == "online_level":
                key, name = d.procedure_level, online_level_label(d.procedure_level, lang)
                sort_key = ONLINE_LEVELS.index(d.procedure_level)
            else:
                key, name = d.channel, channel_label(d.channel, lang)
                sort_key = CHANNEL_CODES[Channel(d.channel)]
            _count(d, start, end, now, groups.setdefault(key, _empty()))
            names[key], order[key] = name, sort_key
    result_groups = []
    for key in sorted(groups, key=lambda k: order[k]):
        counters = _counters(groups[key])
        if counters["received"]["total"] == 0:
            continue
        if min_resolved is not None and counters["resolved"]["total"] < min_resolved:
            continue
        result_groups.append({"key": key, "name": names[key], **counters})
    return {"totals": _counters(totals), "groups": result_groups}
