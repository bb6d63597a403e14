"""Agencies: a public tree, edited by admins."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint, abort

from tracker.api.common import PageArgs, actor, page_schema, paginate
from tracker.api.security import roles_required
from tracker.api.unit_of_work import writes
from tracker.domain.codes import AGENCY_CODE_RE
from tracker.services import reference

bp = Blueprint("agencies", __name__, url_prefix="/api/v1/agencies",
               description="Agencies (cơ quan): a tree of any depth.")

LEVELS = ("province", "department", "commune", "other")
CODE = ma.validate.Regexp(AGENCY_CODE_RE, error="Use 3 to 32 characters among 0-9, A-Z and dots (e.g. 000.00.00.H57).")


class AgencySchema(ma.Schema):
    code = ma.fields.String(required=True, validate=CODE)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    parent_code = ma.fields.String(load_default=None, allow_none=True, validate=CODE)
    level = ma.fields.String(load_default="other", validate=ma.validate.OneOf(LEVELS))


class AgencyPatchSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    parent_code = ma.fields.String(allow_none=True, validate=CODE)
    level = ma.fields.String(validate=ma.validate.OneOf(LEVELS))


class AgencyQuerySchema(PageArgs):
    parent = ma.fields.String(metadata={"description": "Only the children of this agency code."})


agency_schema = AgencySchema()
AgencyPageSchema = page_schema(AgencySchema)


def _get_or_404(code: str):
    agency = reference.agency_by_code(code)
    if agency is None:
        abort(404, message=f"No agency has the code {code}.")
    return agency


@bp.get("")
@bp.arguments(AgencyQuerySchema, location="query")
@bp.response(200, AgencyPageSchema)
def all(args):
    """List agencies, optionally the children of one."""
    return paginate(reference.agencies_query(args.get("parent")), args["page"], args["page_size"])


@bp.get("/<code>")
@bp.response(200, AgencySchema)
def get(code):
    """One agency."""
    return _get_or_404(code)


@bp.post("")
@roles_required("admin")
@writes
@bp.arguments(AgencySchema)
@bp.response(201, AgencySchema)
@bp.alt_response(409, description="The code exists already.")
def new(data):
    """Add an agency (admins)."""
    return reference.create_agency(actor(), data)


@bp.patch("/<code>")
@roles_required("admin")
@writes
@bp.arguments(AgencyPatchSchema)
@bp.response(200, AgencySchema)
def update(data, code):
    """Rename or move an agency (admins); cycles are refused."""
    return reference.update_agency(actor(), _get_or_404(code), data)
