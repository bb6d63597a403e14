"""The statistics query, as the API, the spreadsheets and the dashboard read it."""
from __future__ import annotations

import marshmallow as ma

from tracker.domain import statistics as rules_of


class StatsQuerySchema(ma.Schema):
    period = ma.fields.String(validate=ma.validate.Length(max=16), metadata={
        "description": "`YYYY`, `YYYY-MM`, `YYYY-Q1`..`Q4`, `YYYY-H1`, `YYYY-H2` or `YYYY-9M` (nine months). "
                       "Default: the current year. Not with `from`/`to`.", "example": "2025-Q1"})
    from_ = ma.fields.Date(data_key="from", metadata={"description": "First local day (with `to`)."})
    to = ma.fields.Date(metadata={"description": "Last local day, included (with `from`)."})
    agency = ma.fields.String(validate=ma.validate.Length(max=32), metadata={
        "description": "Agency code: the dossiers received by this agency and its whole subtree."})
    procedure = ma.fields.String(validate=ma.validate.Length(max=32), metadata={"description": "Procedure code."})
    field = ma.fields.String(validate=ma.validate.Length(max=255), metadata={"description": "Field (lĩnh vực)."})
    channel = ma.fields.String(validate=ma.validate.OneOf(("direct", "online", "postal")))
    group_by = ma.fields.String(validate=ma.validate.OneOf(rules_of.GROUP_BY), metadata={
        "description": "agency: one group per child of the filtered agency (or per top-level agency), plus the "
                       "filtered agency for what it received itself; month: each month's own report."})
    min_resolved = ma.fields.Integer(validate=ma.validate.Range(min=0, max=1_000_000_000), metadata={
        "description": "Leave out groups that resolved fewer dossiers (for rankings)."})


class SpreadsheetQuerySchema(StatsQuerySchema):
    lang = ma.fields.String(load_default="vi", validate=ma.validate.OneOf(("vi", "en")), metadata={
        "description": "Column headers: Vietnamese (default, those of the II.06a form) or English."})
