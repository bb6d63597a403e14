"""The audit trail, for admins: who wrote what, when, from where."""
from __future__ import annotations

import json

import marshmallow as ma
from flask_smorest import Blueprint

from tracker.api.common import paginate
from tracker.api.security import roles_required
from tracker.schemas.fields import LocalDateTime
from tracker.schemas.paging import PageArgs, page_schema
from tracker.services import audit

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit",
               description="The tamper-evident audit trail (admins).")


class AuditQuerySchema(PageArgs):
    target = ma.fields.String(metadata={"description": "A target id (dossier code, username, agency code...)."})
    target_type = ma.fields.String()
    actor = ma.fields.String(metadata={"description": "A username."})
    action = ma.fields.String()
    from_ = LocalDateTime(data_key="from")
    to = LocalDateTime()


class AuditRecordSchema(ma.Schema):
    id = ma.fields.Integer()
    at = LocalDateTime()
    actor = ma.fields.String(allow_none=True)
    client_ip = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    target_type = ma.fields.String()
    target_id = ma.fields.String()
    change = ma.fields.Function(lambda record: json.loads(record.change))
    prev_hash = ma.fields.String()
    hash = ma.fields.String()
    kid = ma.fields.String(allow_none=True, metadata={"description": "The id of the key that sealed the record."})
    steps_sealed = ma.fields.Integer(allow_none=True, metadata={
        "description": "How many processing steps the record seals (null: none)."})


AuditPageSchema = page_schema(AuditRecordSchema)


@bp.get("")
@roles_required("admin")
@bp.arguments(AuditQuerySchema(), location="query")
@bp.response(200, AuditPageSchema)
def all(args):
    """Audit records, newest first, filtered by target, actor, action and time."""
    return paginate(audit.records_query(args), args["page"], args["page_size"])
