"""Public statistics (no authentication; rate limited; CORS for the portal): JSON, CSV and Excel.

The figures of the II.06a report form, for a period and optional filters, read from
the pre-aggregated counters (``tracker.services.statistics``). Answers carry an
``ETag`` (304 on a matching ``If-None-Match``, ``tracker.http.caching``) and a short
``Cache-Control``, so the portal and phones may cache them briefly.
"""
from __future__ import annotations

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint

from tracker.domain.statuses import pick_language
from tracker.http.limits import public_limit
from tracker.schemas.statistics import SpreadsheetQuerySchema, StatsQuerySchema
from tracker.services import statistics
from tracker.services.statistics import exports

bp = Blueprint("public_stats", __name__, url_prefix="/api/v1/public",
               description="How many dossiers each agency received and resolved, early, on time and late.")

#: Browsers and the portal's proxy may keep an answer this long (seconds).
MAX_AGE = 60


class ReceivedSchema(ma.Schema):
    total = ma.fields.Integer(metadata={"description": "carried_over + online + direct + postal"})
    carried_over = ma.fields.Integer(metadata={"description": "Accepted before `from`, still open then."})
    online = ma.fields.Integer()
    direct = ma.fields.Integer()
    postal = ma.fields.Integer()


class ResolvedSchema(ma.Schema):
    total = ma.fields.Integer()
    early = ma.fields.Integer()
    on_time = ma.fields.Integer()
    late = ma.fields.Integer()


class PendingSchema(ma.Schema):
    total = ma.fields.Integer(metadata={"description": "Accepted by the end of `to`, neither finished nor "
                                                       "withdrawn then."})
    within_deadline = ma.fields.Integer()
    overdue = ma.fields.Integer(metadata={"description": "Judged at the end of `to`, or now for a period "
                                                         "reaching today or later."})


class CountersSchema(ma.Schema):
    received = ma.fields.Nested(ReceivedSchema)
    resolved = ma.fields.Nested(ResolvedSchema)
    pending = ma.fields.Nested(PendingSchema)
    withdrawn = ma.fields.Integer()
    on_time_rate = ma.fields.Float(allow_none=True, metadata={"description": "(early + on_time) / resolved, "
                                                                             "4 decimals; null if none resolved."})
    progress_rate = ma.fields.Float(allow_none=True, metadata={
        "description": "(early + on_time + pending within deadline) / (resolved + pending), 4 decimals."})
    avg_processing_working_days = ma.fields.Float(allow_none=True, metadata={
        "description": "Mean working days from intake to finish over resolved dossiers, pauses excluded."})


class GroupSchema(CountersSchema):
    key = ma.fields.String(metadata={"description": "Agency or procedure code, field, `YYYY-MM` or channel."})
    name = ma.fields.String()


class PeriodSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from")
    to = ma.fields.Date()


class FiltersSchema(ma.Schema):
    agency = ma.fields.String(allow_none=True)
    procedure = ma.fields.String(allow_none=True)
    field = ma.fields.String(allow_none=True)
    channel = ma.fields.String(allow_none=True)
    group_by = ma.fields.String(allow_none=True)
    min_resolved = ma.fields.Integer(allow_none=True)


class StatsSchema(ma.Schema):
    period = ma.fields.Nested(PeriodSchema)
    filters = ma.fields.Nested(FiltersSchema)
    totals = ma.fields.Nested(CountersSchema)
    groups = ma.fields.List(ma.fields.Nested(GroupSchema))


NOT_MODIFIED = "Not modified: the figures have not changed since the ETag sent in If-None-Match."


def build(args: dict, lang: str | None = None) -> dict:
    """The report for parsed query arguments (``Invalid`` -> 422 for impossible values).

    Group names (channels, months) are in ``lang``, by default the ``Accept-Language``'s.
    """
    lang = lang or pick_language(request.headers.get("Accept-Language"))
    return statistics.report(statistics.resolve(args, lang))


def build_query(args: dict, lang: str | None = None):
    """The statistics query of parsed query arguments (``Invalid`` -> 422), group names in ``lang``."""
    return statistics.resolve(args, lang or pick_language(request.headers.get("Accept-Language")))


def cacheable(response: Response) -> Response:
    """The answer with the short public ``Cache-Control`` of the statistics."""
    return _cacheable(response)


def _cacheable(response: Response) -> Response:
    # The ETag and the 304 come from tracker.http.caching, after the view.
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.vary.add("Accept-Language")
    return response


def _download(args: dict, render, mimetype: str, extension: str) -> Response:
    lang = args["lang"]
    body = build(args, lang)
    response = Response(render(body, lang), content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.filename(body, extension)}"'
    return _cacheable(response)


@bp.get("/stats")
@public_limit
@bp.arguments(StatsQuerySchema(), location="query")
@bp.response(200, StatsSchema)
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.alt_response(422, description="An impossible period (2026-Q7, 2026-13, from after to, a bad date) "
                                  "or an unknown agency, procedure, field, channel or grouping.")
@bp.alt_response(429, description="Too many requests from this client; see Retry-After.")
@bp.doc(security=[])
def stats(args):
    """The statistics of a period: received (carried over, by channel), resolved (early, on time, late),
    pending (within deadline, overdue), withdrawn, rates; optionally grouped."""
    return _cacheable(Response(statistics.report_json(build_query(args)), mimetype="application/json"))


@bp.get("/stats.csv")
@public_limit
@bp.arguments(SpreadsheetQuerySchema(), location="query")
@bp.response(200, {"type": "string"}, content_type="text/csv",
             description="The II.06a table, UTF-8 with a byte-order mark (Excel reads the Vietnamese), "
                         "groups then the total.")
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.alt_response(422, description="Impossible period or unknown filter value.")
@bp.doc(security=[])
def stats_csv(args):
    """The same figures as a CSV table with the Vietnamese column headers of the II.06a form."""
    return _download(args, exports.csv_bytes, exports.CSV_MIMETYPE, "csv")


@bp.get("/stats.xlsx")
@public_limit
@bp.arguments(SpreadsheetQuerySchema(), location="query")
@bp.response(200, {"type": "string", "format": "binary"}, content_type=exports.XLSX_MIMETYPE,
             description="The II.06a table as an Excel workbook.")
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.alt_response(422, description="Impossible period or unknown filter value.")
@bp.doc(security=[])
def stats_xlsx(args):
    """The same figures as an Excel workbook (sheet II.06a), rates formatted as percentages."""
    return _download(args, exports.workbook, exports.XLSX_MIMETYPE, "xlsx")
