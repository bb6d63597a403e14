"""Public statistics (no authentication; rate limited; CORS for the portal): JSON, CSV and Excel.

The figures of the II.06a report form and the Decision 766 rates, for a period and
optional filters, read from the pre-aggregated counters (``tracker.services.statistics``).
Answers carry an ``ETag`` (304 on a matching ``If-None-Match``) and a short
``Cache-Control``, so the portal and phones may cache them briefly.
"""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

import marshmallow as ma
import orjson
from flask import Response, request
from flask_smorest import Blueprint

from tracker.domain import statistics as rules_of
from tracker.domain.statuses import normalize_language, pick_language
from tracker.services import statistics

try:
    from tracker.api.public_limits import public_limit
except ModuleNotFoundError as missing:  # the shared public limit lands with the lookup
    if missing.name != "tracker.api.public_limits":
        raise

    def public_limit(view):
        """No shared public limit in this build."""
        return view

bp = Blueprint("public_stats", __name__, url_prefix="/api/v1/public",
               description="How many dossiers each agency received and resolved, early, on time and late.")

#: Browsers and the portal's proxy may keep an answer this long (seconds).
MAX_AGE = 60
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


class SpreadsheetQuerySchema(StatsQuerySchema):
    lang = ma.fields.String(load_default="vi", validate=ma.validate.OneOf(("vi", "en")), metadata={
        "description": "Column headers: Vietnamese (default, those of the II.06a form) or English."})


NOT_MODIFIED = "Not modified: the figures have not changed since the ETag sent in If-None-Match."


def build(args: dict, lang: str | None = None) -> dict:
    """The report for parsed query arguments (``Invalid`` -> 422 for impossible values).

    Group names (channels, months) are in ``lang``, by default the ``Accept-Language``'s.
    """
    lang = lang or pick_language(request.headers.get("Accept-Language"))
    return statistics.report(statistics.resolve(args, lang))


def _etag(body: dict, kind: str) -> str:
    digest = hashlib.sha256(kind.encode() + b"\n" + orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()[:32]


def _cached(response: Response, body: dict, kind: str) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.vary.add("Accept-Language")
    response.set_etag(_etag(body, kind))
    return response.make_conditional(request)


# -- the II.06a table -----------------------------------------------------------------------------

GROUP_HEADERS = {
    None: ("Phạm vi", "Scope"), "agency": ("Cơ quan, đơn vị", "Agency"),
    "procedure": ("Thủ tục hành chính", "Procedure"), "field": ("Lĩnh vực", "Field"),
    "month": ("Tháng", "Month"), "channel": ("Kênh nộp hồ sơ", "Channel"),
}
TOTAL_LABEL = {"vi": "Tổng cộng", "en": "Total"}


def _value(counters: dict, path: str):
    value = counters
    for part in path.split("."):
        value = value[part]
    return value


def table(body: dict, lang: str) -> tuple[list[str], list[list]]:
    """The II.06a table of a report: headers and rows (groups, then the totals row).

    Rates stay fractions and mean days stay numbers; formats decide how to print them.
    """
    english = normalize_language(lang) == "en"
    group_header = GROUP_HEADERS.get(body["filters"]["group_by"], GROUP_HEADERS[None])[english]
    headers = ["STT" if not english else "No.", "Mã" if not english else "Code", group_header]
    headers += [en if english else vi for _path, vi, en, _kind in rules_of.II06A_COLUMNS]
    rows = []
    for number, group in enumerate(body["groups"], start=1):
        rows.append([number, group["key"], group["name"],
                     *[_value(group, path) for path, *_ in rules_of.II06A_COLUMNS]])
    rows.append(["", "", TOTAL_LABEL["en" if english else "vi"],
                 *[_value(body["totals"], path) for path, *_ in rules_of.II06A_COLUMNS]])
    return headers, rows


def _csv_cell(value, kind: str | None):
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.2f}%"
    if kind == "days":
        return f"{value:.2f}"
    return value


def _filename(body: dict, extension: str) -> str:
    period = body["period"]
    return f"thong-ke-{period['from']}_{period['to']}.{extension}"


@bp.get("/stats")
@public_limit
@bp.arguments(StatsQuerySchema, location="query")
@bp.response(200, StatsSchema)
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.alt_response(422, description="An impossible period (2026-Q7, 2026-13, from after to, a bad date) "
                                  "or an unknown agency, procedure, field, channel or grouping.")
@bp.alt_response(429, description="Too many requests from this client; see Retry-After.")
@bp.doc(security=[])
def stats(args):
    """The statistics of a period: received (carried over, by channel), resolved (early, on time, late),
    pending (within deadline, overdue), withdrawn, rates; optionally grouped."""
    body = build(args)
    response = Response(orjson.dumps(body), mimetype="application/json")
    return _cached(response, body, "json")


@bp.get("/stats.csv")
@public_limit
@bp.arguments(SpreadsheetQuerySchema, location="query")
@bp.response(200, {"type": "string"}, content_type="text/csv",
             description="The II.06a table, UTF-8 with a byte-order mark (Excel reads the Vietnamese), "
                         "groups then the total.")
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.alt_response(422, description="Impossible period or unknown filter value.")
@bp.doc(security=[])
def stats_csv(args):
    """The same figures as a CSV table with the Vietnamese column headers of the II.06a form."""
    lang = args["lang"]
    body = build(args, lang)
    headers, rows = table(body, lang)
    kinds = [None, None, None] + [kind for *_, kind in rules_of.II06A_COLUMNS]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(value, kind) for value, kind in zip(row, kinds)])
    response = Response(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(body, "csv")}"'
    return _cached(response, body, "csv-" + lang)


@bp.get("/stats.xlsx")
@public_limit
@bp.arguments(SpreadsheetQuerySchema, location="query")
@bp.response(200, {"type": "string", "format": "binary"}, content_type=XLSX_MIMETYPE,
             description="The II.06a table as an Excel workbook.")
@bp.alt_response(304, description=NOT_MODIFIED)
@bp.alt_response(422, description="Impossible period or unknown filter value.")
@bp.doc(security=[])
def stats_xlsx(args):
    """The same figures as an Excel workbook (sheet II.06a), rates formatted as percentages."""
    lang = args["lang"]
    body = build(args, lang)
    response = Response(workbook(body, lang), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(body, "xlsx")}"'
    return _cached(response, body, "xlsx-" + lang)


def workbook(body: dict, lang: str) -> bytes:
    """An .xlsx file: the II.06a table on the first sheet, the period and filters on the second."""
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    english = normalize_language(lang) == "en"
    headers, rows = table(body, lang)
    kinds = [None, None, None] + [kind for *_, kind in rules_of.II06A_COLUMNS]
    book = Workbook()
    sheet = book.active
    sheet.title = "II.06a"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append(row)
        for cell, kind in zip(sheet[sheet.max_row], kinds):
            if kind == "rate":
                cell.number_format = "0.00%"
            elif kind == "days":
                cell.number_format = "0.00"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "D2"
    for index in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 40 if index == 3 else 14
    about = book.create_sheet("Kỳ báo cáo" if not english else "Period")
    period, filters = body["period"], body["filters"]
    about.append(["Từ ngày" if not english else "From", date.fromisoformat(period["from"])])
    about.append(["Đến ngày" if not english else "To", date.fromisoformat(period["to"])])
    for key, value in filters.items():
        about.append([key, value if value is not None else ""])
    for row in about.iter_rows(min_row=1, max_row=2, min_col=2, max_col=2):
        row[0].number_format = "dd/mm/yyyy"
    # A fixed creation time: the same figures give the same file.
    book.properties.created = book.properties.modified = datetime(2000, 1, 1)
    out = io.BytesIO()
    book.save(out)
    return _without_timestamps(out.getvalue())


def _without_timestamps(data: bytes) -> bytes:
    """The same archive with every member dated 2000-01-01, so the file (and its ETag) is reproducible.

    The zip format stamps each member with the time it was written, and openpyxl
    stamps the document's "modified" property with the time of saving; two requests
    a second apart would otherwise give different bytes for the same figures.
    """
    import re
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            fixed = zipfile.ZipInfo(member.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(member.filename)
            if member.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", content)
            target.writestr(fixed, content)
    return out.getvalue()
