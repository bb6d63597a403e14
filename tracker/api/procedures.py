"""Procedures (thủ tục hành chính) and their time limits."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint, abort

from tracker.api.common import PageArgs, actor, page_schema, paginate
from tracker.api.security import roles_required
from tracker.api.unit_of_work import writes
from tracker.domain.deadlines import DAYS, HOURS
from tracker.services import reference

bp = Blueprint("procedures", __name__, url_prefix="/api/v1/procedures",
               description="Administrative procedures and their time limits.")


class TimeLimitSchema(ma.Schema):
    value = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=3650))
    unit = ma.fields.String(required=True, validate=ma.validate.OneOf((DAYS, HOURS)))


class ProcedureSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$", error="Use up to 32 letters, digits, dots, dashes (e.g. 1.004227)."))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    field = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    time_limit = ma.fields.Nested(TimeLimitSchema, required=True)


class ProcedurePatchSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=500))
    field = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    time_limit = ma.fields.Nested(TimeLimitSchema)


class ProcedureQuerySchema(PageArgs):
    field = ma.fields.String(metadata={"description": "Exact field (lĩnh vực)."})
    q = ma.fields.String(metadata={"description": "Part of the code or of the name, accents optional."})


ProcedurePageSchema = page_schema(ProcedureSchema)


def _get_or_404(code: str):
    procedure = reference.procedure_by_code(code)
    if procedure is None:
        abort(404, message=f"No procedure has the code {code}.")
    return procedure


@bp.get("")
@bp.arguments(ProcedureQuerySchema, location="query")
@bp.response(200, ProcedurePageSchema)
def all(args):
    """List procedures, by field or by a search."""
    query = reference.procedures_query(args.get("field"), args.get("q"))
    return paginate(query, args["page"], args["page_size"])


@bp.get("/<code>")
@bp.response(200, ProcedureSchema)
def get(code):
    """One procedure."""
    return _get_or_404(code)


@bp.post("")
@roles_required("admin")
@writes
@bp.arguments(ProcedureSchema)
@bp.response(201, ProcedureSchema)
@bp.alt_response(409, description="The code exists already.")
def new(data):
    """Add a procedure (admins)."""
    return reference.create_procedure(actor(), data)


@bp.patch("/<code>")
@roles_required("admin")
@writes
@bp.arguments(ProcedurePatchSchema)
@bp.response(200, ProcedureSchema)
def update(data, code):
    """Correct a procedure (admins); accepted dossiers keep their deadlines."""
    return reference.update_procedure(actor(), _get_or_404(code), data)
