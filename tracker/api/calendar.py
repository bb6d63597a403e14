"""The working-day calendar: days, deadline preview, and the overrides admins manage."""
from __future__ import annotations

from datetime import date

import marshmallow as ma
from flask_smorest import Blueprint, abort

from tracker.api.common import actor, paginate
from tracker.api.security import roles_required
from tracker.api.unit_of_work import writes
from tracker.domain.deadlines import DAYS, HOURS, TimeLimit
from tracker.schemas.fields import LocalDateTime
from tracker.schemas.paging import PageArgs
from tracker.schemas.reference import OverridePageSchema, OverrideSchema
from tracker.services import calendar, overrides, reference

bp = Blueprint("calendar", __name__, url_prefix="/api/v1/calendar",
               description="Working days (holidays, swaps, local overrides) and deadlines.")

MAX_DAYS = 366


class DaysQuerySchema(ma.Schema):
    from_ = ma.fields.Date(required=True, data_key="from")
    to = ma.fields.Date(required=True)

    @ma.validates_schema
    def _span(self, data, **_):
        if data["to"] < data["from_"]:
            raise ma.ValidationError("'to' must not be before 'from'.", "to")
        if (data["to"] - data["from_"]).days + 1 > MAX_DAYS:
            raise ma.ValidationError(f"At most {MAX_DAYS} days at once.", "to")


class DaySchema(ma.Schema):
    date = ma.fields.Date()
    working = ma.fields.Boolean()
    name = ma.fields.String(allow_none=True)


class DueQuerySchema(ma.Schema):
    accepted_at = LocalDateTime(required=True)
    procedure = ma.fields.String()
    days = ma.fields.Integer(validate=ma.validate.Range(min=1, max=3650))
    hours = ma.fields.Integer(validate=ma.validate.Range(min=1, max=10000))

    @ma.validates_schema
    def _one_limit(self, data, **_):
        given = [k for k in ("procedure", "days", "hours") if k in data]
        if len(given) != 1:
            raise ma.ValidationError("Give exactly one of procedure, days or hours.", "procedure")


class DueSchema(ma.Schema):
    accepted_at = LocalDateTime()
    effective_intake_at = LocalDateTime()
    due_at = LocalDateTime()
    time_limit = ma.fields.Dict()


class OverrideQuerySchema(PageArgs):
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()




@bp.get("/days")
@bp.arguments(DaysQuerySchema(), location="query")
@bp.response(200, DaySchema(many=True))
def days(args):
    """Each day of a range (at most 366), working or not, with its holiday or override name."""
    cal = calendar.working_calendar()
    return [{"date": d, "working": w, "name": n} for d, w, n in cal.days(args["from_"], args["to"])]


@bp.get("/due")
@bp.arguments(DueQuerySchema(), location="query")
@bp.response(200, DueSchema)
def due(args):
    """The effective intake time and the deadline for an acceptance time and a time limit."""
    if "procedure" in args:
        procedure = reference.procedure_by_code(args["procedure"])
        if procedure is None:
            abort(422, message=f"No procedure has the code {args['procedure']}.",
                  errors={"procedure": ["Unknown procedure."]})
        limit = TimeLimit(procedure.time_limit_value, procedure.time_limit_unit)
    else:
        limit = TimeLimit(args["days"], DAYS) if "days" in args else TimeLimit(args["hours"], HOURS)
    rules = calendar.deadlines()
    try:
        effective = rules.effective_intake(args["accepted_at"])
        due_at = rules.due(effective, limit)
    except (ValueError, OverflowError):
        # Near year 1 or 9999 the deadline falls outside the dates Python can represent.
        abort(422, message="No deadline can be computed that far in the past or the future.",
              errors={"accepted_at": ["Out of the range of dates a deadline can be computed for."]})
    return {"accepted_at": args["accepted_at"], "effective_intake_at": effective,
            "due_at": due_at, "time_limit": {"value": limit.value, "unit": limit.unit}}


@bp.get("/overrides")
@roles_required("admin")
@bp.arguments(OverrideQuerySchema(), location="query")
@bp.response(200, OverridePageSchema)
def all_overrides(args):
    """The local overrides of the national calendar."""
    query = overrides.overrides_query(args.get("from_"), args.get("to"))
    return paginate(query, args["page"], args["page_size"])


@bp.post("/overrides")
@roles_required("admin")
@writes
@bp.arguments(OverrideSchema())
@bp.response(201, OverrideSchema)
@bp.alt_response(409, description="That date has an override already.")
def new_override(data):
    """Make a date a working day or a day off (admins)."""
    return overrides.create_override(actor(), data)


@bp.delete("/overrides/<date_text>")
@roles_required("admin")
@writes
@bp.response(204)
def delete_override(date_text):
    """Remove an override: the national calendar applies again that day."""
    try:
        day = date.fromisoformat(date_text)
    except ValueError:
        abort(404, message=f"{date_text} is not a date (YYYY-MM-DD).")
    overrides.delete_override(actor(), day)


