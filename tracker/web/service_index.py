"""``/stats/index``: the service index of each agency, ranked, and the public list of late dossiers.

Rendered on the server from the same figures as ``/api/v1/public/service-index`` and
``/api/v1/public/late-dossiers``: a plain GET form, an SVG bar chart of each agency's
score out of the maximum of the measured groups, the points per group in a table, and
the late dossiers of the period. ``/embed/stats?view=index`` is the same chart and
table for the portal's iframe. No JavaScript, readable on a 360 px phone.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from tracker.domain.service_index import GROUPS
from tracker.domain.statuses import LANGUAGES
from tracker.models.types import utcnow
from tracker.http.limits import public_limit
from tracker.services import reference, statistics
from tracker.services.calendar import deadlines
from tracker.services.errors import Invalid
from tracker.services.late_dossiers import late_dossiers
from tracker.services.service_index import index_report
from tracker.web.stats import (LANGUAGE_NAMES, _finish, _language, _min_resolved, day_text, embedding_origins,
                               number, percent, period_options)

bp = Blueprint("service_index_pages", __name__, template_folder="templates")

#: The late dossiers shown on the page (the API lists them all, page by page).
LATE_SHOWN = 50
CHART_WIDTH, BAR_AREA, ROW_HEIGHT = 360, 240, 38

TEXT = {
    "vi": {
        "title": "Chỉ số phục vụ người dân, doanh nghiệp", "skip": "Bỏ qua, đến nội dung chính",
        "intro": "Điểm theo Quyết định 766/QĐ-TTg của các nhóm chỉ số hệ thống đo được: tiến độ, dịch vụ trực tuyến, "
                 "số hóa hồ sơ và mức độ hài lòng. Nhóm công khai, minh bạch không được đo ở đây.",
        "period": "Kỳ báo cáo", "agency": "Cơ quan, đơn vị", "all_agencies": "Toàn thành phố",
        "min_resolved": "Số hồ sơ đã giải quyết tối thiểu để xếp hạng", "submit": "Xem chỉ số",
        "chart": "Điểm của từng đơn vị trên điểm tối đa của các nhóm đo được",
        "table": "Điểm theo nhóm chỉ số", "rank": "Hạng", "name": "Cơ quan, đơn vị", "score": "Điểm",
        "max_score": "Tối đa", "total": "Tổng cộng",
        "groups": {"progress": "Tiến độ giải quyết", "online": "Dịch vụ trực tuyến", "digitization": "Số hóa",
                   "satisfaction": "Hài lòng"},
        "ranking_note": "Chỉ xếp hạng các đơn vị đã giải quyết từ {n} hồ sơ trở lên.",
        "nothing": "Chưa đơn vị nào đủ số hồ sơ để xếp hạng.", "error": "Yêu cầu chưa hợp lệ",
        "late": "Hồ sơ trễ hạn", "late_note": "Hồ sơ giải quyết quá hạn trong kỳ hoặc còn quá hạn vào cuối kỳ.",
        "code": "Mã hồ sơ", "procedure": "Thủ tục", "due": "Hạn giải quyết", "finished": "Ngày giải quyết",
        "apology": "Xin lỗi, hẹn lại", "open": "Đang quá hạn", "no_late": "Không có hồ sơ trễ hạn trong kỳ.",
        "late_more": "Xem toàn bộ danh sách (JSON)", "period_label": "Từ {start} đến {end}",
        "back": "Thống kê II.06a", "details": "Xem chi tiết", "language": "Ngôn ngữ",
    },
    "en": {
        "title": "Service index for citizens and businesses", "skip": "Skip to main content",
        "intro": "Points as in Decision 766/QĐ-TTg for the groups this system measures: progress, online service, "
                 "digitisation and satisfaction. Transparency is not measured here.",
        "period": "Period", "agency": "Agency", "all_agencies": "Whole city",
        "min_resolved": "Minimum resolved dossiers to be ranked", "submit": "Show the index",
        "chart": "Each agency's score out of the measured groups' maximum",
        "table": "Points by group", "rank": "Rank", "name": "Agency", "score": "Score", "max_score": "Maximum",
        "total": "Total",
        "groups": {"progress": "Progress", "online": "Online service", "digitization": "Digitisation",
                   "satisfaction": "Satisfaction"},
        "ranking_note": "Only agencies that resolved at least {n} dossiers are ranked.",
        "nothing": "No agency resolved enough dossiers to be ranked.", "error": "Invalid request",
        "late": "Late dossiers", "late_note": "Dossiers resolved late in the period, or still overdue at its end.",
        "code": "Dossier", "procedure": "Procedure", "due": "Due", "finished": "Resolved",
        "apology": "Apology, new date", "open": "Overdue", "no_late": "No late dossier in this period.",
        "late_more": "The whole list (JSON)", "period_label": "From {start} to {end}",
        "back": "II.06a statistics", "details": "Details", "language": "Language",
    },
}


def bars(groups: list[dict]) -> list[dict]:
    """One bar per ranked group: its score and maximum as widths of the chart's bar area."""
    top = max([g["max_score"] for g in groups] + [1])
    return [{"key": g["key"], "name": g["name"], "score": g["score"], "max_score": g["max_score"],
             "y": i * ROW_HEIGHT, "width": round(BAR_AREA * g["score"] / top, 1),
             "max_width": round(BAR_AREA * g["max_score"] / top, 1)} for i, g in enumerate(groups)]


def _query(lang: str) -> tuple[dict, dict]:
    """The parsed request (agency grouping; the city's children when it is the only top agency) or errors."""
    raw = {k: request.args.get(k, "").strip() for k in ("period", "agency")}
    args = {"period": raw["period"] or None, "agency": raw["agency"] or None, "group_by": "agency",
            "min_resolved": _min_resolved()}
    if not args["agency"]:
        tops = reference.top_agency_codes()
        if len(tops) == 1:
            args["agency"] = tops[0]
    try:
        return {"query": statistics.resolve(args, lang)}, {}
    except Invalid as invalid:
        return {}, invalid.extra["errors"]


def _context() -> tuple[dict, int]:
    lang = _language()
    t = TEXT[lang]
    found, errors = _query(lang)
    context = {"lang": lang, "t": t, "errors": errors, "args": request.args, "groups_order": GROUPS,
               "number": number, "percent": percent, "day_text": day_text, "language_names": LANGUAGE_NAMES,
               "min_resolved": _min_resolved(), "chart_width": CHART_WIDTH, "row_height": ROW_HEIGHT,
               "tz": current_app.config["OFFICE_HOURS"].tz,
               "switch": {other: url_for(request.endpoint, **{**request.args.to_dict(), "lang": other})
                          for other in LANGUAGES}}
    if found:
        query = found["query"]
        body = index_report(query)
        ranked = sorted(body["groups"], key=lambda g: (-g["score"], g["key"]))
        period = {"period": request.args.get("period", "").strip()} if request.args.get("period") else {}
        context.update(body=body, ranked=ranked, bars=bars(ranked),
                       late=late_dossiers(query, current_app.config["TRACKER_PAYMENT_PAUSES"])[:LATE_SHOWN],
                       late_url=url_for("late_dossiers.all", **period,
                                        **({"agency": request.args["agency"]} if request.args.get("agency") else {})))
    return context, (422 if errors else 200)


@bp.get("/stats/index")
@public_limit
def dashboard():
    """The service index of each agency, ranked, and the late dossiers of the period."""
    context, status = _context()
    year = deadlines().local(utcnow()).year
    context.update(periods=period_options(year, context["lang"]), agencies=reference.agency_options(),
                   selected_period=request.args.get("period", "") or str(year))
    response = current_app.make_response((render_template("stats/index.html", **context), status))
    return _finish(response, "'self'")


@bp.get("/embed/stats/index")
@public_limit
def embed():
    """``/embed/stats?view=index``: the ranked chart and the table, for the portal's iframe."""
    context, status = _context()
    response = current_app.make_response((render_template("stats/embed_index.html", **context), status))
    return _finish(response, embedding_origins())
