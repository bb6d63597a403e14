"""Agencies: a public tree, edited by admins."""
from __future__ import annotations

from flask_smorest import Blueprint

from tracker.api.crud import Resource, add_reference_routes
from tracker.schemas.reference import AgencyPageSchema, AgencyPatchSchema, AgencyQuerySchema, AgencySchema
from tracker.services import reference

bp = Blueprint("agencies", __name__, url_prefix="/api/v1/agencies",
               description="Agencies (cơ quan): a tree of any depth.")

add_reference_routes(bp, Resource(
    noun="agency", schema=AgencySchema, patch_schema=AgencyPatchSchema, query_schema=AgencyQuerySchema,
    page_schema=AgencyPageSchema, find=reference.agency_by_code,
    listing=lambda args: reference.agencies_query(args.get("parent")),
    create=reference.create_agency, update=reference.update_agency,
    summaries={"all": "List agencies, optionally the children of one.", "get": "One agency.",
               "new": "Add an agency (admins).", "update": "Rename or move an agency (admins); cycles are refused."},
))
