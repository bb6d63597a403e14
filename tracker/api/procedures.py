"""Procedures (thủ tục hành chính) and their time limits."""
from __future__ import annotations

from flask_smorest import Blueprint

from tracker.api.crud import Resource, add_reference_routes
from tracker.schemas.reference import (ProcedurePageSchema, ProcedurePatchSchema, ProcedureQuerySchema,
                                       ProcedureSchema)
from tracker.services import reference

bp = Blueprint("procedures", __name__, url_prefix="/api/v1/procedures",
               description="Administrative procedures and their time limits.")

add_reference_routes(bp, Resource(
    noun="procedure", schema=ProcedureSchema, patch_schema=ProcedurePatchSchema, query_schema=ProcedureQuerySchema,
    page_schema=ProcedurePageSchema, find=reference.procedure_by_code,
    listing=lambda args: reference.procedures_query(args.get("field"), args.get("q"), args.get("online_level")),
    create=reference.create_procedure, update=reference.update_procedure,
    summaries={"all": "List procedures, by field or by a search.", "get": "One procedure.",
               "new": "Add a procedure (admins).",
               "update": "Correct a procedure (admins); accepted dossiers keep their deadlines."},
))
