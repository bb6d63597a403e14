"""The citizen's lookup: where is my dossier? (no authentication, rate limited, CORS for the portal).

This is the hottest read of the service, so it skips the ORM and marshmallow: two
Core queries (the dossier joined to its procedure and agency, then its public
steps) and an orjson body. The schemas below only document the answer in the
OpenAPI document.

Nothing personal leaves here: the applicant's name is masked unless ``verify``
matches the applicant's ID number or phone, and the answer is built from a
whitelist of columns (no ID number, phone, e-mail, address, internal note,
reason, handler or user).
"""
from __future__ import annotations

import hashlib
import math
import time
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

import marshmallow as ma
import orjson
from flask import Response, current_app, request
from flask_smorest import Blueprint, abort
from limits import parse as parse_limit
from sqlalchemy import bindparam, select

from tracker.api.dossier_schemas import CodeNameSchema
from tracker.api.public_limits import public_limit
from tracker.domain import progress
from tracker.domain.codes import normalize_dossier_code
from tracker.domain.deadlines import Deadlines, TimeLimit
from tracker.domain.people import id_matches, mask_name, phone_matches
from tracker.domain.statuses import (DEFAULT_LANGUAGE, LANGUAGES, STATUS_CODES, Status, pick_language,
                                     status_label)
from tracker.domain.workflow import REGISTER, Action, action_label
from tracker.extensions import db, limiter
from tracker.models import Agency, Dossier, Procedure, Step
from tracker.models.types import utcnow
from tracker.services.calendar import deadlines

bp = Blueprint("public", __name__, url_prefix="/api/v1/public",
               description="What citizens and the portal may read without an account.")

#: Failed ``verify`` attempts allowed per dossier code (then 429 for everyone verifying it);
#: ``TRACKER_RATELIMIT_VERIFY`` in the app's configuration overrides it.
DEFAULT_VERIFY_LIMIT = "5 per 15 minutes"
VERIFY_SCOPE = "public-verify"
VERIFY_LIMIT_MESSAGE = ("Too many failed verifications for this dossier: wait for the number of "
                        "seconds in Retry-After before trying again.")
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
           _d.c.limit_value, _d.c.limit_unit, _d.c.paused_at,
           _d.c.applicant_name, _d.c.applicant_id_number, _d.c.applicant_phone,
           _p.c.code.label("procedure_code"), _p.c.name.label("procedure_name"),
           _a.c.code.label("agency_code"), _a.c.name.label("agency_name"))
    .join(_p, _p.c.id == _d.c.procedure_id)
    .join(_a, _a.c.id == _d.c.agency_id)
    .where(_d.c.code == bindparam("code"))
)
_STEPS = (
    select(_s.c.seq, _s.c.action, _s.c.at, _s.c.public_note,
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
                values[index] = _utc(values[index])
            rows.append(self.row(*values))
        return rows


def _utc(value) -> datetime | None:
    # The columns hold naive UTC (SQLite gives text, PostgreSQL naive datetimes),
    # exactly what tracker.models.types.UTCDateTime writes.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=4)
def _statements(dialect) -> tuple[_Compiled, _Compiled]:
    return (_Compiled(_DOSSIER, dialect, ("accepted_at", "due_at", "appointment_at", "finished_at",
                                          "returned_at", "paused_at")),
            _Compiled(_STEPS, dialect, ("at",)))


def _read(code: str):
    """The dossier row and its step rows, or (None, []).

    Two reads on the pool's raw driver connection, with SQL compiled once: even
    Core's per-statement work was a third of the time of this, the hottest path.
    """
    dossier_sql, steps_sql = _statements(db.engine.dialect)
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        found = dossier_sql.run(cursor, {"code": code})
        steps = steps_sql.run(cursor, {"dossier_id": found[0].id}) if found else []
        cursor.close()
    finally:  # back to the pool, which rolls back the read

        connection.close()
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
    """Overdue now, a running pause moving the deadline by its length so far (DOMAIN.md).

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
    clock.paused_at = row.paused_at
    return progress.is_overdue(clock, now, deadlines())


def _verify(row, given: str) -> bool:
    # Both comparisons always run (constant time, and no hint of which one matched).
    by_id = id_matches(given, row.applicant_id_number or "")
    by_phone = phone_matches(given, row.applicant_phone or "")
    return by_id or by_phone


# The labels as plain lookups: the hot path should not rebuild enums for every step.
_STEP_LABELS = {(str(action), lang): action_label(action, lang)
                for action in [*Action, REGISTER] for lang in LANGUAGES}
_STATUS = {(str(status), lang): (STATUS_CODES[status], status_label(status, lang))
           for status in Status for lang in LANGUAGES}


def _step(row, lang: str, tz) -> dict:
    return {"seq": row.seq, "action": row.action, "label": _STEP_LABELS.get((row.action, lang), row.action),
            "at": row.at.astimezone(tz), "agency": row.agency_code, "agency_name": row.agency_name,
            "public_note": row.public_note or None}


def _is_public(step) -> bool:
    # A comment with only an internal note is the office talking to itself.
    return step.action != Action.COMMENT or bool(step.public_note)


def find_public(code: str, lang: str, verify: str | None = None) -> Lookup | None:
    """The public view of the dossier with this code (any case, spaces around), or None.

    Times are aware datetimes in the business time zone; ``applicant_name`` is
    masked unless ``verify`` is the applicant's ID number or phone.
    """
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
        "appointment_at": local(row.appointment_at),
        "finished_at": local(row.finished_at),
        "returned_at": local(row.returned_at),
        "timeliness": row.timeliness,
        "overdue": _overdue(row, utcnow()),
        "applicant_name": row.applicant_name if verified else mask_name(row.applicant_name),
        "verified": verified,
        "steps": [_step(step, lang, tz) for step in steps if _is_public(step)],
    }
    return Lookup(view=view, verified=verified, verify_failed=bool(verify) and not verified)


# -- the endpoint ---------------------------------------------------------------------------------

class PublicStepSchema(ma.Schema):
    seq = ma.fields.Integer()
    action = ma.fields.String(metadata={"description": "The step's action, or `register` for an online submission."})
    label = ma.fields.String(metadata={"description": "The step in the caller's language (Vietnamese by default)."})
    at = ma.fields.String(metadata={"format": "date-time", "example": "2025-01-24T10:00:00+07:00"})
    agency = ma.fields.String(allow_none=True, metadata={"description": "Code of the agency that recorded the step."})
    agency_name = ma.fields.String(allow_none=True)
    public_note = ma.fields.String(allow_none=True, metadata={"description": "What the office told the citizen."})


class PublicDossierSchema(ma.Schema):
    code = ma.fields.String()
    procedure = ma.fields.Nested(CodeNameSchema)
    agency = ma.fields.Nested(CodeNameSchema)
    channel = ma.fields.String(metadata={"enum": ["direct", "online", "postal"]})
    status = ma.fields.String(metadata={"enum": [s.value for s in Status]})
    status_code = ma.fields.Integer(metadata={"description": "National status code, 1 to 10."})
    status_label = ma.fields.String(metadata={"description": "Follows Accept-Language: vi (default) or en."})
    accepted_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    due_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    appointment_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    finished_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    returned_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    timeliness = ma.fields.String(allow_none=True, metadata={"enum": ["early", "on_time", "late", None]})
    overdue = ma.fields.Boolean(metadata={"description": "Not finished and past its deadline now."})
    applicant_name = ma.fields.String(metadata={
        "description": "Masked (first letter of each word, the rest as *) unless `verify` matched."})
    verified = ma.fields.Boolean(metadata={"description": "Whether `verify` matched the applicant."})
    steps = ma.fields.List(ma.fields.Nested(PublicStepSchema))


LOOKUP_PARAMETERS = [
    {"in": "query", "name": "verify", "required": False, "schema": {"type": "string", "maxLength": 32},
     "description": "The applicant's ID number or phone number (0… or +84…): shows the full name. "
                    "Failed attempts on one dossier are limited; then 429."},
    {"in": "header", "name": "Accept-Language", "required": False, "schema": {"type": "string"},
     "description": "`vi` (default) or `en`, for the labels."},
    {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
     "description": "The ETag of an earlier answer: 304 when nothing changed."},
]


def _verify_limit():
    return parse_limit(current_app.config.get("TRACKER_RATELIMIT_VERIFY", DEFAULT_VERIFY_LIMIT))


def check_verify_allowed(code: str) -> None:
    """429 while the failed verifications of this dossier are over the limit (for every client).

    Counted in the limiter's storage (shared by all workers with Redis), by hand
    rather than with a decorator: only failures count, and plain lookups, the hot
    path, must not pay for a second limit.
    """
    if not limiter.enabled:
        return
    item = _verify_limit()
    if not limiter.limiter.test(item, VERIFY_SCOPE, code):
        reset_at = limiter.limiter.get_window_stats(item, VERIFY_SCOPE, code).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        abort(429, message=VERIFY_LIMIT_MESSAGE, headers={"Retry-After": str(retry_after)})


def count_failed_verification(code: str) -> None:
    """One more failed ``verify`` for this dossier."""
    if limiter.enabled:
        limiter.limiter.hit(_verify_limit(), VERIFY_SCOPE, code)


def json_response(body, status: int = 200) -> Response:
    """An orjson-encoded JSON response (UTF-8, no escapes, aware datetimes in ISO 8601)."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


@bp.get("/dossiers/<path:code>")
@bp.response(200, PublicDossierSchema)
@bp.alt_response(304, description="Not modified since the ETag in If-None-Match.")
@bp.alt_response(404, description="No dossier has this code.")
@bp.alt_response(429, description="Too many requests from this client, or too many failed verifications "
                                  "of this dossier; see Retry-After.")
@bp.doc(security=[], parameters=LOOKUP_PARAMETERS)
def get(code):
    """Look up a dossier by the code on the receipt (any letter case, spaces around ignored)."""
    verify = request.args.get("verify", "").strip()[:64] or None
    code = normalize_dossier_code(code)[:MAX_CODE_LENGTH + 1]
    if verify:
        check_verify_allowed(code)
    found = find_public(code, pick_language(request.headers.get("Accept-Language")), verify)
    if found is None:
        abort(404, message=f"No dossier has the code {code[:MAX_CODE_LENGTH]}. "
                           "Check the code printed on the receipt.")
    response = json_response(found.view)
    if verify:
        if found.verify_failed:
            count_failed_verification(code)
        # A full name must not sit in a shared cache.
        response.headers["Cache-Control"] = "private, no-store"
    return response


# Every endpoint of this blueprint shares the per-client public limit.
public_limit(bp)


# -- caching for the portal and phones ------------------------------------------------------------

#: Where answers may be cached briefly by browsers and proxies, with a body-hash ETag.
CACHED_PREFIXES = ("/api/v1/public/", "/lookup")
CACHE_CONTROL = "public, max-age=30"


def conditional_caching(response: Response) -> Response:
    """ETag (a hash of the body), 304 on a matching If-None-Match, a short Cache-Control.

    For successful GETs of the public API and pages; a view that set its own
    Cache-Control (a verified, unmasked answer) keeps it.
    """
    if (response.status_code != 200 or request.method not in ("GET", "HEAD") or response.is_streamed
            or not request.path.startswith(CACHED_PREFIXES)):
        return response
    headers = response.headers
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = CACHE_CONTROL
    if "Vary" in headers:
        response.vary.add("Accept-Language")
    else:
        headers["Vary"] = "Accept-Language"
    headers["ETag"] = '"%s"' % hashlib.blake2b(response.get_data(), digest_size=16).hexdigest()
    if "If-None-Match" in request.headers:
        return response.make_conditional(request)
    return response
