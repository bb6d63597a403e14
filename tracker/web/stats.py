"""``/stats``, the public dashboard, and ``/embed/stats``, its minimal widget for the portal's iframe.

Both are rendered on the server from the same report as ``/api/v1/public/stats``
(``tracker.services.statistics``): a plain GET form (period, agency, grouping), an
SVG bar chart of early / on-time / late dossiers per agency or per month, the II.06a
table, and a ranking by on-time rate among groups with a minimum number of resolved
dossiers. No JavaScript, nothing from other hosts, readable on a 360 px phone.
Vietnamese first; English with ``?lang=en``.

The widget may be framed by this service and the portal origins listed in
``TRACKER_CORS_ORIGINS`` (``Content-Security-Policy: frame-ancestors``); the
dashboard only by this service.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import marshmallow as ma
from flask import Blueprint, current_app, render_template, request, url_for

from tracker.domain import statistics as rules_of
from tracker.domain.statuses import LANGUAGES
from tracker.models.types import utcnow
from tracker.http.limits import public_limit
from tracker.schemas.statistics import StatsQuerySchema
from tracker.services import reference, statistics
from tracker.services.statistics.exports import table
from tracker.services.calendar import deadlines
from tracker.services.errors import Invalid

bp = Blueprint("stats", __name__, template_folder="templates")

#: A ranking leaves out groups that resolved fewer dossiers than this, unless asked otherwise.
DEFAULT_MIN_RESOLVED = 5
MAX_AGE = 60
PAGE_GROUPS = ("agency", "month")
_POLICY = ("default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; "
           "frame-ancestors {ancestors}")

TEXT = {
    "vi": {
        "title": "Thống kê giải quyết thủ tục hành chính",
        "skip": "Bỏ qua, đến nội dung chính",
        "intro": "Số hồ sơ tiếp nhận, đã giải quyết trước hạn, đúng hạn, quá hạn và đang giải quyết "
                 "(mẫu II.06a); tỷ lệ đúng hạn theo Quyết định 766/QĐ-TTg.",
        "period": "Kỳ báo cáo", "agency": "Cơ quan, đơn vị", "all_agencies": "Toàn thành phố",
        "group_by": "Xem theo", "by_agency": "Cơ quan, đơn vị", "by_month": "Tháng",
        "min_resolved": "Số hồ sơ đã giải quyết tối thiểu để xếp hạng", "submit": "Xem thống kê",
        "chart": "Hồ sơ đã giải quyết: trước hạn, đúng hạn, quá hạn",
        "early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn",
        "table": "Tình hình, kết quả giải quyết thủ tục hành chính (mẫu II.06a)",
        "ranking": "Xếp hạng theo tỷ lệ giải quyết đúng hạn",
        "ranking_note": "Chỉ xếp hạng các đơn vị đã giải quyết từ {n} hồ sơ trở lên.",
        "rank": "Hạng", "rate": "Tỷ lệ đúng hạn", "resolved": "Đã giải quyết",
        "nothing": "Không có hồ sơ nào trong kỳ này.", "no_ranking": "Chưa đơn vị nào đủ số hồ sơ để xếp hạng.",
        "download": "Tải về", "csv": "Bảng tính CSV", "xlsx": "Tệp Excel",
        "period_label": "Từ {start} đến {end}", "details": "Xem chi tiết",
        "error": "Yêu cầu thống kê chưa hợp lệ", "language": "Ngôn ngữ",
        "year": "Năm {y}", "nine": "9 tháng năm {y}", "half": "6 tháng {h} năm {y}",
        "halves": ("đầu", "cuối"), "quarter": "Quý {q} năm {y}", "month": "Tháng {m:02d}/{y}",
        "custom": "Từ {start} đến {end}",
        "footer": "Số liệu tổng hợp tự động từ các bước xử lý hồ sơ; hồ sơ đang giải quyết được đánh giá "
                  "vào cuối ngày cuối của kỳ (hoặc thời điểm hiện tại nếu kỳ chưa kết thúc).",
    },
    "en": {
        "title": "Administrative procedure statistics",
        "skip": "Skip to main content",
        "intro": "Dossiers received, resolved early, on time and late, and pending (form II.06a); "
                 "on-time rate as in Decision 766/QĐ-TTg.",
        "period": "Period", "agency": "Agency", "all_agencies": "Whole city",
        "group_by": "Show by", "by_agency": "Agency", "by_month": "Month",
        "min_resolved": "Minimum resolved dossiers to be ranked", "submit": "Show statistics",
        "chart": "Resolved dossiers: early, on time, late",
        "early": "Early", "on_time": "On time", "late": "Late",
        "table": "Dossiers received and resolved (form II.06a)",
        "ranking": "Ranking by on-time rate",
        "ranking_note": "Only groups that resolved at least {n} dossiers are ranked.",
        "rank": "Rank", "rate": "On-time rate", "resolved": "Resolved",
        "nothing": "No dossier in this period.", "no_ranking": "No group resolved enough dossiers to be ranked.",
        "download": "Download", "csv": "CSV spreadsheet", "xlsx": "Excel file",
        "period_label": "{start} to {end}", "details": "See the details",
        "error": "The statistics request is not valid", "language": "Language",
        "year": "Year {y}", "nine": "First nine months of {y}", "half": "{h} half of {y}",
        "halves": ("First", "Second"), "quarter": "Q{q} {y}", "month": "{m:02d}/{y}",
        "custom": "{start} to {end}",
        "footer": "Figures computed from every recorded processing step; pending dossiers are judged at the end "
                  "of the period's last day (or now, for a period that has not ended).",
    },
}
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}

# -- presentation helpers -------------------------------------------------------------------------


def number(value, lang: str) -> str:
    """An integer with the language's thousands separator (1.234 / 1,234)."""
    if value is None:
        return "–"
    text = f"{int(value):,}"
    return text.replace(",", ".") if lang == "vi" else text


def percent(value, lang: str) -> str:
    """A fraction as a percentage with two decimals (83,33% / 83.33%); a dash for none."""
    if value is None:
        return "–"
    text = f"{value * 100:.2f}%"
    return text.replace(".", ",") if lang == "vi" else text


def decimal(value, lang: str) -> str:
    """A number with two decimals in the language's style."""
    if value is None:
        return "–"
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "vi" else text


def show(value, kind: str | None, lang: str) -> str:
    """A table cell as people read it."""
    if kind == "rate":
        return percent(value, lang)
    if kind == "days":
        return decimal(value, lang)
    if isinstance(value, int):
        return number(value, lang)
    return "" if value is None else str(value)


def day_text(value: str, lang: str) -> str:
    """``2025-03-01`` as ``01/03/2025`` (vi) or ``1 Mar 2025`` (en)."""
    day = date.fromisoformat(value)
    return f"{day.day} {day:%b %Y}" if lang == "en" else f"{day:%d/%m/%Y}"


def period_options(year: int, lang: str) -> list[tuple[str, str]]:
    """The periods offered in the picker: this year and the two before, whole and in parts."""
    t = TEXT[lang]
    options = []
    for y in (year, year - 1, year - 2):
        options.append((f"{y}", t["year"].format(y=y)))
        options.append((f"{y}-9M", t["nine"].format(y=y)))
        for h in (1, 2):
            options.append((f"{y}-H{h}", t["half"].format(h=t["halves"][h - 1], y=y)))
        for q in (1, 2, 3, 4):
            options.append((f"{y}-Q{q}", t["quarter"].format(q=q, y=y)))
        for m in range(1, 13):
            options.append((f"{y}-{m:02d}", t["month"].format(m=m, y=y)))
    return options


@dataclass
class Bar:
    """One row of the chart, in SVG user units."""

    key: str
    name: str
    early: int
    on_time: int
    late: int
    y: int
    widths: tuple[float, float, float]

    @property
    def total(self) -> int:
        return self.early + self.on_time + self.late


CHART_WIDTH = 360
BAR_AREA = 240
ROW_HEIGHT = 38


def chart_bars(body: dict) -> list[Bar]:
    """One bar per group (or the totals when there is no group), widths relative to the largest."""
    sources = body["groups"] or ([{"key": "", "name": "", **body["totals"]}]
                                 if body["totals"]["resolved"]["total"] else [])
    largest = max((g["resolved"]["total"] for g in sources), default=0) or 1
    bars = []
    for index, group in enumerate(sources):
        resolved = group["resolved"]
        counts = (resolved["early"], resolved["on_time"], resolved["late"])
        bars.append(Bar(key=group["key"], name=group["name"], early=counts[0], on_time=counts[1], late=counts[2],
                        y=index * ROW_HEIGHT,
                        widths=tuple(round(BAR_AREA * c / largest, 2) for c in counts)))
    return bars


def ranking(body: dict, min_resolved: int) -> list[dict]:
    """Groups with at least ``min_resolved`` resolved dossiers, best on-time rate first."""
    ranked = [g for g in body["groups"] if g["resolved"]["total"] >= max(1, min_resolved)]
    return sorted(ranked, key=lambda g: (-(g["on_time_rate"] or 0), -g["resolved"]["total"], g["key"]))


# -- requests -------------------------------------------------------------------------------------

_schema = StatsQuerySchema()


def _language() -> str:
    chosen = request.args.get("lang", "").strip().lower()
    return chosen if chosen in LANGUAGES else "vi"


def _arguments(default_group: str) -> tuple[dict, dict[str, list[str]]]:
    """The page's query arguments, parsed like the API's; errors per field instead of a 422 body."""
    raw = {k: v for k, v in request.args.items() if k in ("period", "from", "to", "agency", "group_by")
           and v.strip()}
    raw.setdefault("group_by", default_group)
    try:
        args = _schema.load(raw)
    except ma.ValidationError as invalid:
        return {}, {k: (v if isinstance(v, list) else [str(v)]) for k, v in invalid.messages.items()}
    if args.get("group_by") not in PAGE_GROUPS:
        return {}, {"group_by": [f"Must be one of: {', '.join(PAGE_GROUPS)}."]}
    return args, {}


def _min_resolved() -> int:
    try:
        return max(0, min(int(request.args.get("min_resolved", DEFAULT_MIN_RESOLVED)), 1_000_000_000))
    except ValueError:
        return DEFAULT_MIN_RESOLVED


def _context(default_group: str) -> tuple[dict, int]:
    lang = _language()
    t = TEXT[lang]
    args, errors = _arguments(default_group)
    body = None
    if not errors and not args.get("agency") and args.get("group_by") == "agency":
        # One group per top-level agency says little when the city is the only one: show its children.
        tops = reference.top_agency_codes()
        if len(tops) == 1:
            args["agency"] = tops[0]
    if not errors:
        try:
            body = statistics.report(statistics.resolve(args, lang))
        except Invalid as invalid:
            errors = invalid.extra["errors"]
    min_resolved = _min_resolved()
    context = {
        "lang": lang, "t": t, "errors": errors, "body": body, "args": request.args,
        "group_by": args.get("group_by", default_group), "min_resolved": min_resolved,
        "show": show, "number": number, "percent": percent, "day_text": day_text,
        "language_names": LANGUAGE_NAMES,
        "switch": {other: url_for(request.endpoint, **{**request.args.to_dict(), "lang": other})
                   for other in LANGUAGES},
        "chart_width": CHART_WIDTH, "bar_area": BAR_AREA, "row_height": ROW_HEIGHT,
    }
    if body is not None:
        headers, rows = table(body, lang)
        kinds = [None, None, None] + [kind for *_, kind in rules_of.II06A_COLUMNS]
        context.update(headers=headers, rows=rows, kinds=kinds, bars=chart_bars(body),
                       ranking=ranking(body, min_resolved))
        query = {k: v for k, v in request.args.items() if k in ("period", "from", "to", "group_by") and v.strip()}
        query.update(group_by=args["group_by"], **({"agency": args["agency"]} if args.get("agency") else {}))
        context["downloads"] = {kind: url_for(f"public_stats.stats_{kind}", **query, lang=lang)
                                for kind in ("csv", "xlsx")}
        context["api_url"] = url_for("public_stats.stats", **query)
    return context, (422 if errors else 200)


def _finish(response, ancestors: str):
    response.headers["Content-Security-Policy"] = _POLICY.format(ancestors=ancestors)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        response.add_etag()
        response = response.make_conditional(request)
    return response


def embedding_origins() -> str:
    """``'self'`` and the portal origins allowed to frame the widget."""
    return " ".join(["'self'", *current_app.config.get("TRACKER_CORS_ORIGINS", [])])


@bp.get("/stats")
@public_limit
def dashboard():
    """The public dashboard: pickers, chart, II.06a table and ranking."""
    context, status = _context("agency")
    year = deadlines().local(utcnow()).year
    context.update(periods=period_options(year, context["lang"]), agencies=reference.agency_options(),
                   selected_period=request.args.get("period", "") or (str(year) if not request.args.get("from")
                                                                      else ""))
    response = current_app.make_response((render_template("stats/dashboard.html", **context), status))
    return _finish(response, "'self'")


@bp.get("/embed/stats")
@public_limit
def embed():
    """The widget for the portal's iframe: the chart and a compact table, nothing else
    (``?view=index``: the service index instead)."""
    if request.args.get("view") == "index":
        # tracker.web.service_index, without counting the request against the public limit twice
        return current_app.view_functions["service_index_pages.embed"].__wrapped__()
    context, status = _context("agency")
    response = current_app.make_response((render_template("stats/embed.html", **context), status))
    return _finish(response, embedding_origins())
