"""The public list of late dossiers (công khai hồ sơ trễ hạn): no applicant, no internal notes."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_smorest import Blueprint

from tracker.api.public_stats import build_query
from tracker.http.limits import public_limit
from tracker.schemas.fields import CodeNameSchema, LocalDateTime
from tracker.schemas.paging import PageArgs, page_schema
from tracker.services.late_dossiers import late_dossiers, late_total

bp = Blueprint("late_dossiers", __name__, url_prefix="/api/v1/public",
               description="Dossiers resolved late or overdue, per agency and period.")


class LateQuerySchema(PageArgs):
    period = ma.fields.String(validate=ma.validate.Length(max=16), metadata={
        "description": "`YYYY`, `YYYY-MM`, `YYYY-Qn`, `YYYY-H1`/`H2` or `YYYY-9M`; the current year by default.",
        "example": "2025-Q1"})
    from_ = ma.fields.Date(data_key="from", metadata={"description": "First local day (with `to`)."})
    to = ma.fields.Date(metadata={"description": "Last local day, included (with `from`)."})
    agency = ma.fields.String(validate=ma.validate.Length(max=32), metadata={
        "description": "Agency code: the dossiers received by this agency and its whole subtree."})


class ApologySchema(ma.Schema):
    at = LocalDateTime()
    reason = ma.fields.String(allow_none=True)
    new_appointment_at = LocalDateTime(allow_none=True)


class LateDossierSchema(ma.Schema):
    code = ma.fields.String()
    procedure = ma.fields.Nested(CodeNameSchema)
    agency = ma.fields.Nested(CodeNameSchema)
    due_at = LocalDateTime(allow_none=True)
    finished_at = LocalDateTime(allow_none=True, metadata={"description": "Null when still open at the period's end."})
    timeliness = ma.fields.String(allow_none=True, metadata={"enum": ["late", None]})
    overdue = ma.fields.Boolean(metadata={"description": "Open and past its deadline at the period's end (or now)."})
    apology = ma.fields.Nested(ApologySchema, allow_none=True)


@bp.get("/late-dossiers")
@public_limit
@bp.arguments(LateQuerySchema(), location="query")
@bp.response(200, page_schema(LateDossierSchema))
@bp.alt_response(422, description="An impossible period or an unknown agency.")
@bp.alt_response(429, description="Too many requests from this client; see Retry-After.")
@bp.doc(security=[])
def all(args):
    """Dossiers resolved late in the period, or open and overdue at its end, with the apology given, if any."""
    query = build_query({k: args.get(k) for k in ("period", "from_", "to", "agency")})
    first = (args["page"] - 1) * args["page_size"]
    # Read in code order up to the end of the page only; the total comes from the counters.
    entries = late_dossiers(query, current_app.config["TRACKER_PAYMENT_PAUSES"], limit=first + args["page_size"])
    return {"items": entries[first:], "page": args["page"], "page_size": args["page_size"],
            "total": late_total(query)}
