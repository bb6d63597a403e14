"""Schemas of the reference data: agencies, procedures and calendar overrides.

The import file's ``agency``, ``procedure`` and ``calendar_override`` records are
these same bodies.
"""
from __future__ import annotations

import marshmallow as ma

from tracker.domain.codes import AGENCY_CODE_RE
from tracker.domain.deadlines import DAYS, HOURS
from tracker.schemas.fields import FullMatch
from tracker.domain.service_levels import ONLINE_LEVELS
from tracker.schemas.paging import PageArgs, page_schema

LEVELS = ("province", "department", "commune", "other")
AGENCY_CODE = FullMatch(
    AGENCY_CODE_RE, error="Use 3 to 32 characters among 0-9, A-Z and dots (e.g. 000.00.00.H57).")


class AgencySchema(ma.Schema):
    code = ma.fields.String(required=True, validate=AGENCY_CODE)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    parent_code = ma.fields.String(load_default=None, allow_none=True, validate=AGENCY_CODE)
    level = ma.fields.String(load_default="other", validate=ma.validate.OneOf(LEVELS))


class AgencyPatchSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    parent_code = ma.fields.String(allow_none=True, validate=AGENCY_CODE)
    level = ma.fields.String(validate=ma.validate.OneOf(LEVELS))


class AgencyQuerySchema(PageArgs):
    parent = ma.fields.String(metadata={"description": "Only the children of this agency code."})


class TimeLimitSchema(ma.Schema):
    value = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=3650))
    unit = ma.fields.String(required=True, validate=ma.validate.OneOf((DAYS, HOURS)))


class ProcedureSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=FullMatch(
        r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$", error="Use up to 32 letters, digits, dots, dashes (e.g. 1.004227)."))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    field = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    time_limit = ma.fields.Nested(TimeLimitSchema, required=True)
    online_level = ma.fields.String(load_default="none", validate=ma.validate.OneOf(ONLINE_LEVELS), metadata={
        "description": "full (toàn trình), partial (một phần) or none (in person or by post only)."})


class ProcedurePatchSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=500))
    field = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    time_limit = ma.fields.Nested(TimeLimitSchema)
    online_level = ma.fields.String(validate=ma.validate.OneOf(ONLINE_LEVELS))


class ProcedureQuerySchema(PageArgs):
    field = ma.fields.String(metadata={"description": "Exact field (lĩnh vực)."})
    online_level = ma.fields.String(validate=ma.validate.OneOf(ONLINE_LEVELS))
    q = ma.fields.String(metadata={"description": "Part of the code or of the name, accents optional."})


class OverrideSchema(ma.Schema):
    date = ma.fields.Date(required=True)
    working = ma.fields.Boolean(required=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))


AgencyPageSchema = page_schema(AgencySchema)
ProcedurePageSchema = page_schema(ProcedureSchema)
OverridePageSchema = page_schema(OverrideSchema)
