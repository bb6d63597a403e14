"""The citizen's lookup: the public view of one dossier (the read model of ``/api/v1/public/dossiers`` and ``/lookup``).

This is the hottest read of the service, so it skips the ORM and marshmallow: two
Core queries (the dossier joined to its procedure and agency, then its public
steps), compiled once and run on the pool's raw driver connection.

Nothing personal leaves here: the applicant's name is masked unless ``verify``
matches the applicant's ID number or phone, and the view is built from a
whitelist of columns (no ID number, phone, e-mail, address, internal note,
handler or user). See docs/rules.md#masking-and-personal-data.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, select

from tracker.domain import progress
from tracker.domain.codes import normalize_dossier_code
from tracker.domain.deadlines import Deadlines, TimeLimit
from tracker.domain.people import id_matches, mask_name, phone_matches
from tracker.domain.statuses import DEFAULT_LANGUAGE, LANGUAGES, STATUS_CODES, Status, status_label
from tracker.domain.workflow import REGISTER, Action, action_label
from tracker.database import reading_cursor
from tracker.models import Agency, Dossier, Procedure, Step
from tracker.models.types import as_utc, utcnow
from tracker.services.calendar import deadlines
from tracker.services.replica import public_read, read_engine

MAX_CODE_LENGTH = 64  # the column's width: a longer code cannot exist

# -- reading --------------------------------------------------------------------------------------

_d = Dossier.__table__
_p = Procedure.__table__
_a = Agency.__table__
_s = Step.__table__

# Built once: SQLAlchemy then reuses the compiled SQL for every lookup.
_DOSSIER = (
    select(_d.c.id, _d.c.code, _d.c.channel, _d.c.status, _d.c.accepted_at, _d.c.due_at,
           _d.c.appointment_at, _d.c.finished_at, _d.c.returned_at, _d.c.timeliness,
           _d.c.limit_value, _d.c.limit_unit, _d.c.paused_at, _d.c.effective_intake_at,
           _d.c.applicant_name, _d.c.applicant_id_number, _d.c.applicant_phone,
           _p.c.code.label("procedure_code"), _p.c.name.label("procedure_name"),
           _a.c.code.label("agency_code"), _a.c.name.label("agency_name"))
    .join(_p, _p.c.id == _d.c.procedure_id)
    .join(_a, _a.c.id == _d.c.agency_id)
    .where(_d.c.code == bindparam("code"))
)
_STEPS = (
    select(_s.c.seq, _s.c.action, _s.c.at, _s.c.public_note, _s.c.reason, _s.c.new_appointment_at,
           _a.c.code.label("agency_code"), _a.c.name.label("agency_name"))
    .outerjoin(_a, _a.c.id == _s.c.agency_id)
    .where(_s.c.dossier_id == bindparam("dossier_id"))
    .order_by(_s.c.seq)
)


class _Compiled:
    """A Core select compiled once for the engine's dialect, run on the pool's raw connection."""

    def __init__(self, statement, dialect, times: tuple[str, ...]):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.order = compiled.positiontup if compiled.positional else None
        self.row = namedtuple("Row", [column.key for column in statement.selected_columns])
        self.times = [self.row._fields.index(name) for name in times]

    def run(self, cursor, params: dict) -> list:
        cursor.execute(self.sql, tuple(params[k] for k in self.order) if self.order else params)
        rows = []
        for values in cursor.fetchall():
            values = list(values)
            for index in self.times:
                values[index] = as_utc(values[index])
            rows.append(self.row(*values))
        return rows


@lru_cache(maxsize=4)
def _statements(dialect) -> tuple[_Compiled, _Compiled]:
    return (_Compiled(_DOSSIER, dialect, ("accepted_at", "due_at", "appointment_at", "finished_at",
                                          "returned_at", "paused_at", "effective_intake_at")),
            _Compiled(_STEPS, dialect, ("at", "new_appointment_at")))


def _read(code: str):
    """The dossier row and its step rows, or (None, []).

    Two reads on the pool's raw driver connection, with SQL compiled once: even
    Core's per-statement work was a third of the time of this, the hottest path.
    """
    engine = read_engine()  # the replica, when one is configured and up
    dossier_sql, steps_sql = _statements(engine.dialect)
    with reading_cursor(engine) as cursor:
        found = dossier_sql.run(cursor, {"code": code})
        steps = steps_sql.run(cursor, {"dossier_id": found[0].id}) if found else []
    return (found[0] if found else None), steps


@dataclass
class Lookup:
    """A public view of one dossier and the outcome of the ``verify`` attempt."""

    view: dict
    verified: bool
    verify_failed: bool


@lru_cache(maxsize=8)
def _calendar_free_rules(hours) -> Deadlines:
    return Deadlines(None, hours)


def _overdue(row, now: datetime) -> bool:
    """Overdue now, a running pause moving the deadline by its length so far (docs/rules.md#overdue).

    A pause only ever moves the deadline later, so a dossier within its stored
    deadline is within it, paused or not: only the rare paused dossier already
    past it needs the working calendar (whose overrides are a query).
    """
    if row.status not in progress.OPEN or row.due_at is None:
        return False
    clock = progress.DossierClock(status=row.status, limit=TimeLimit(row.limit_value, row.limit_unit),
                                  due_at=row.due_at)
    if not progress.is_overdue(clock, now, _calendar_free_rules(current_app.config["OFFICE_HOURS"])):
        return False
    if row.paused_at is None:
        return True
    clock.paused_at, clock.effective_intake_at = row.paused_at, row.effective_intake_at
    return progress.is_overdue(clock, now, deadlines())


def _verify(row, given: str) -> bool:
    # Both comparisons always run (constant time, and no hint of which one matched).
    by_id = id_matches(given, row.applicant_id_number or "")
    by_phone = phone_matches(given, row.applicant_phone or "")
    return by_id or by_phone


def applicant_matches(row, given: str) -> bool:
    """Whether ``given`` is the applicant's ID number or phone, checked as the lookup unmasks (constant time).

    ``row`` is anything with ``applicant_id_number`` and ``applicant_phone`` (a dossier).
    """
    return _verify(row, given)


# The labels as plain lookups: the hot path should not rebuild enums for every step.
_STEP_LABELS = {(str(action), lang): action_label(action, lang)
                for action in [*Action, REGISTER] for lang in LANGUAGES}
_STATUS = {(str(status), lang): (STATUS_CODES[status], status_label(status, lang))
           for status in Status for lang in LANGUAGES}


#: Steps whose ``reason`` is the text of the notice the applicant receives (docs/rules.md#notices-and-what-the-citizen-is-told).
NOTICE_ACTIONS = frozenset({Action.REFUSE_INTAKE, Action.REQUEST_SUPPLEMENT, Action.STOP, Action.APOLOGIZE})


def _step(row, lang: str, tz) -> dict:
    apology = row.action == Action.APOLOGIZE and row.new_appointment_at is not None
    return {"seq": row.seq, "action": row.action, "label": _STEP_LABELS.get((row.action, lang), row.action),
            "at": row.at.astimezone(tz), "agency": row.agency_code, "agency_name": row.agency_name,
            "public_note": row.public_note or None,
            "reason": (row.reason or None) if row.action in NOTICE_ACTIONS else None,
            "new_appointment_at": row.new_appointment_at.astimezone(tz) if apology else None}


def _is_public(step) -> bool:
    # A comment with only an internal note is the office talking to itself.
    return step.action != Action.COMMENT or bool(step.public_note)


def find_public(code: str, lang: str, verify: str | None = None) -> Lookup | None:
    """The public view of the dossier with this code (any case, spaces around), or None.

    Times are aware datetimes in the business time zone; ``applicant_name`` is
    masked unless ``verify`` is the applicant's ID number or phone. While the
    clock is paused (``paused_since``) the appointment is not known: it moves
    later by the paused time when the applicant answers, so it is left out
    (None) rather than shown as a date the pause has made meaningless. Read from the
    replica when one is configured (``tracker.services.replica``).
    """
    return public_read(_find_public, code, lang, verify)


def _find_public(code: str, lang: str, verify: str | None) -> Lookup | None:
    code = normalize_dossier_code(code)
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    row, steps = _read(code)
    if row is None:
        return None
    tz = current_app.config["OFFICE_HOURS"].tz
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    status_code, label = _STATUS[row.status, lang]
    verified = bool(verify) and _verify(row, verify)

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(tz) if value is not None else None

    view = {
        "code": row.code,
        "procedure": {"code": row.procedure_code, "name": row.procedure_name},
        "agency": {"code": row.agency_code, "name": row.agency_name},
        "channel": row.channel,
        "status": row.status,
        "status_code": status_code,
        "status_label": label,
        "accepted_at": local(row.accepted_at),
        "due_at": local(row.due_at),
        "appointment_at": local(row.appointment_at) if row.paused_at is None else None,
        "finished_at": local(row.finished_at),
        "returned_at": local(row.returned_at),
        "timeliness": row.timeliness,
        "overdue": _overdue(row, utcnow()),
        "paused_since": local(row.paused_at),
        "applicant_name": row.applicant_name if verified else mask_name(row.applicant_name),
        "verified": verified,
        "steps": [_step(step, lang, tz) for step in steps if _is_public(step)],
    }
    return Lookup(view=view, verified=verified, verify_failed=bool(verify) and not verified)
