"""Dossiers: intake, applicant corrections, processing steps, lists."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select

from tracker.domain import progress
from tracker.domain.codes import normalize_dossier_code
from tracker.domain.deadlines import DAYS, HOURS
from tracker.domain import service_levels
from tracker.domain.people import SECRET_FIELDS, fold, mask_secret
from tracker.domain.statuses import Status
from tracker.domain.workflow import REGISTER, Action, MissingFields, TransitionRefused
from tracker.extensions import db
from tracker.models import Agency, Dossier, Step
from tracker.models.types import utcnow
from tracker.services import audit, statistics
from tracker.services.audit import Actor
from tracker.services.calendar import deadlines
from tracker.services.clock import applicant_columns, clock_of, step_flag_columns, store_clock, store_flags
from tracker.services.codes import next_code
from tracker.services.errors import Conflict, Forbidden, Invalid, NotFound, Stale
from tracker.services.reference import agency_by_code, procedure_by_code
from tracker.services.scope import subtree_ids, user_scope

def applicant_for_audit(applicant: dict) -> dict:
    """Applicant fields with personal numbers masked."""
    return {k: (mask_secret(v) if k in SECRET_FIELDS else v) for k, v in applicant.items()}


def _payment_pauses() -> bool:
    return current_app.config["TRACKER_PAYMENT_PAUSES"]


def _given_time(who: Actor, value: datetime | None, name: str, not_before: datetime | None) -> datetime:
    """The server clock, or a time an admin gave to load history (never in the future)."""
    now = utcnow()
    if value is None:
        return max(now, not_before) if not_before else now
    if not who.is_admin:
        raise Forbidden(f"Only an admin may give {name}: step times come from the server clock.")
    try:
        progress.check_step("", value, not_before, now)
    except progress.StepRefused as refused:
        raise Invalid({name: [refused.message]}) from refused
    return value


def _intake_agency(who: Actor, code: str | None) -> Agency:
    if code is None:
        if who.user.agency is None:
            raise Invalid({"agency_code": ["Give the receiving agency: your account has none."]})
        return who.user.agency
    agency = agency_by_code(code)
    if agency is None:
        raise Invalid({"agency_code": [f"No agency has the code {code}."]})
    scope = user_scope(who.user)
    if scope is not None and agency.id not in scope:
        raise Forbidden("You can only receive dossiers for your own agency subtree.")
    return agency


def create(who: Actor, data: dict) -> Dossier:
    """Register (online) or accept (walk-in) a new dossier and give it its code."""
    procedure = procedure_by_code(data["procedure_code"])
    if procedure is None:
        raise Invalid({"procedure_code": [f"No procedure has the code {data['procedure_code']}."]})
    agency = _intake_agency(who, data.get("agency_code"))
    status = data.get("status") or Status.ACCEPTED
    if status == Status.REGISTERED and data.get("accepted_at"):
        raise Invalid({"accepted_at": ["A dossier awaiting acceptance has no acceptance time."]})
    at = _given_time(who, data.get("accepted_at"), "accepted_at", None)
    rules = deadlines()
    applicant = data["applicant"]
    dossier = Dossier(
        code=next_code(agency, rules.local(at).date()),
        agency_id=agency.id, handling_agency_id=agency.id, procedure_id=procedure.id,
        channel=data["channel"], status=Status.REGISTERED, note=data.get("note"),
        limit_value=procedure.time_limit_value, limit_unit=procedure.time_limit_unit,
        submitted_at=at, supplement_count=0, paused_days=0, version=1,
        online_level=procedure.online_level, digitized=bool(data.get("digitized")),
        paid_online=bool(data.get("paid_online")), electronic_result=False,
        **applicant_columns(applicant),
    )
    first = Action.ACCEPT if status == Status.ACCEPTED else None
    clock = clock_of(dossier)
    if first:
        progress.apply(clock, first, at, rules)
    store_clock(dossier, clock)
    db.session.add(dossier)
    db.session.flush()
    step = Step(dossier_id=dossier.id, seq=1, action=first or REGISTER, status_before=None,
                status_after=dossier.status, at=at, user_id=getattr(who.user, "id", None),
                agency_id=agency.id, note=data.get("note"),
                digitized=data.get("digitized") if first else None)
    db.session.add(step)
    db.session.flush()
    statistics.on_created(dossier)
    audit.record_step(who, "dossier.create", dossier.code, step, {
        "procedure_code": procedure.code, "agency_code": agency.code, "channel": dossier.channel,
        "status": dossier.status, "accepted_at": data.get("accepted_at"),
        "applicant": applicant_for_audit(applicant)})
    return dossier


def find(code: str) -> Dossier | None:
    """The dossier with this code (any letter case, surrounding spaces ignored)."""
    return db.session.scalar(select(Dossier).where(Dossier.code == normalize_dossier_code(code)))


def visible(user, code: str, for_update: bool = False) -> Dossier:
    """A dossier the user may see: 404 when unknown or outside the user's subtree.

    Both cases get the same answer, which says what the caller can know (the
    account sees no such dossier) and not that the code does not exist: it may
    belong to another agency's subtree, whose existence must not leak.
    """
    query = select(Dossier).where(Dossier.code == normalize_dossier_code(code))
    if for_update:
        query = query.with_for_update(of=Dossier)
    dossier = db.session.scalar(query)
    scope = user_scope(user)
    if dossier is None or (scope is not None and dossier.agency_id not in scope
                           and dossier.handling_agency_id not in scope):
        raise NotFound(f"No dossier with the code {normalize_dossier_code(code)} is visible to your account.")
    return dossier


def check_version(dossier: Dossier, if_match) -> None:
    """412 when an ``If-Match`` header (werkzeug ``ETags``) does not name the current version."""
    if if_match and not if_match.contains(etag(dossier)):
        raise Stale("The dossier has changed since you read it: fetch it again (ETag "
                    f"\"{etag(dossier)}\") and retry.")


def etag(dossier: Dossier) -> str:
    """The dossier's entity tag, without quotes."""
    return f"{dossier.id}-{dossier.version}"


def correct_applicant(who: Actor, dossier: Dossier, applicant: dict) -> Dossier:
    """Correct the applicant's details; nothing else of a dossier can be edited."""
    for name, value in applicant_columns(applicant).items():
        setattr(dossier, name, value)
    dossier.version += 1
    db.session.flush()
    audit.record(who, "dossier.update", "dossier", dossier.code, {"applicant": applicant_for_audit(applicant)})
    return dossier


def append_step(who: Actor, dossier: Dossier, data: dict) -> Step:
    """Record one processing step and move the dossier's status and dates."""
    last = dossier.steps[-1] if dossier.steps else None
    at = _given_time(who, data.get("at"), "at", last.at if last else None)
    to_agency = None
    if data.get("to_agency_code"):
        try:
            progress.check_step(data["action"], at, None, at, hands_off=True)
        except progress.StepRefused as refused:
            raise Invalid({refused.field: [refused.message]}) from refused
        to_agency = agency_by_code(data["to_agency_code"])
        if to_agency is None:
            raise Invalid({"to_agency_code": [f"No agency has the code {data['to_agency_code']}."]})
    before = dossier.status
    clock = clock_of(dossier)
    before_clock = clock_of(dossier)
    flag_errors = service_levels.step_flag_errors(data["action"], data)
    if flag_errors:
        raise Invalid(flag_errors, f"The action '{data['action']}' does not take these fields.")
    flags_before = statistics.flags_of(dossier)
    try:
        progress.apply(clock, data["action"], at, deadlines(), data, payment_pauses=_payment_pauses())
    except TransitionRefused as refused:
        raise Conflict(f"A dossier in status '{before}' does not allow '{data['action']}'.",
                       allowed_actions=refused.allowed) from refused
    except MissingFields as missing:
        raise Invalid(missing.errors, f"The action '{data['action']}' needs more fields.") from missing
    except progress.BadAppointment as bad:
        raise Invalid({"new_appointment_at": [str(bad)]}) from bad
    store_clock(dossier, clock)
    flags_after = service_levels.apply_step_flags(flags_before, data["action"], data)
    store_flags(dossier, flags_after)
    if to_agency is not None:
        # The relationship, not only its id: the answer shows the new handling agency at once.
        dossier.handling_agency = to_agency
    dossier.version += 1
    step = Step(dossier_id=dossier.id, seq=(last.seq if last else 0) + 1, action=data["action"],
                status_before=before, status_after=dossier.status, at=at,
                user_id=getattr(who.user, "id", None), agency_id=getattr(who.user, "agency_id", None),
                to_agency_id=to_agency.id if to_agency else None,
                **{k: data.get(k) for k in progress.STEP_FIELDS}, **step_flag_columns(data))
    dossier.steps.append(step)
    db.session.flush()
    statistics.on_step(dossier, before_clock, clock, at, flags_before, flags_after)
    audit.record_step(who, "dossier.step", dossier.code, step, {
        "seq": step.seq, "action": step.action, "status_before": before, "status_after": dossier.status,
        "at": at, "given_at": data.get("at") is not None,
        **{k: data[k] for k in ("to_agency_code", "result", "reason", "new_appointment_at") if data.get(k)}})
    return step


def list_query(user, filters: dict):
    """Dossiers the user may see, newest first, narrowed by the list filters."""
    query = select(Dossier).order_by(Dossier.id.desc())
    scope = user_scope(user)
    if scope is not None:
        query = query.where(or_(Dossier.agency_id.in_(scope), Dossier.handling_agency_id.in_(scope)))
    if filters.get("agency"):
        agency = agency_by_code(filters["agency"])
        ids = subtree_ids(agency.id) if agency else set()
        query = query.where(or_(Dossier.agency_id.in_(ids), Dossier.handling_agency_id.in_(ids)))
    if filters.get("procedure"):
        procedure = procedure_by_code(filters["procedure"])
        query = query.where(Dossier.procedure_id == (procedure.id if procedure else -1))
    for name in ("status", "channel"):
        if filters.get(name):
            query = query.where(getattr(Dossier, name) == filters[name])
    rules = deadlines()
    tz = rules.hours.tz
    if filters.get("accepted_from"):
        start = datetime.combine(filters["accepted_from"], datetime.min.time(), tz)
        query = query.where(Dossier.accepted_at >= start)
    if filters.get("accepted_to"):
        end = datetime.combine(filters["accepted_to"] + timedelta(days=1), datetime.min.time(), tz)
        query = query.where(Dossier.accepted_at < end)
    if filters.get("q"):
        text = filters["q"].strip()
        # autoescape: "%" and "_" typed by a user are text, not LIKE wildcards matching everything.
        query = query.where(or_(Dossier.code.contains(normalize_dossier_code(text), autoescape=True),
                                Dossier.applicant_name_folded.contains(fold(text), autoescape=True)))
    if filters.get("overdue") is not None:
        condition = _overdue_condition()
        query = query.where(condition if filters["overdue"] else ~condition)
    return query


def _overdue_condition():
    """SQL for "overdue now": past the deadline, with running pauses judged in Python."""
    now = utcnow()
    rules = deadlines()
    start_of_today = datetime.combine(rules.local(now).date(), datetime.min.time(), rules.hours.tz)
    past = or_(and_(Dossier.limit_unit == DAYS, Dossier.due_at < start_of_today),
               and_(Dossier.limit_unit == HOURS, Dossier.due_at < now))
    open_statuses = [str(s) for s in progress.OPEN]
    running = and_(Dossier.status.in_(open_statuses), Dossier.paused_at.is_(None), past)
    # A pause moves the deadline by the time it has lasted so far; only the few
    # paused dossiers already past their stored deadline need that arithmetic.
    paused = db.session.scalars(
        select(Dossier).where(Dossier.status.in_(open_statuses), Dossier.paused_at.is_not(None), past)
    ).all()
    late_ids = [d.id for d in paused if progress.is_overdue(clock_of(d), now, rules)]
    return or_(running, Dossier.id.in_(late_ids)) if late_ids else running

