"""``/stats/index``: the service index of each agency, ranked, and the public list of late dossiers.

Rendered on the server from the same figures as ``/api/v1/public/service-index`` and
``/api/v1/public/late-dossiers``: a plain GET form, an SVG bar chart of each agency's
score out of the maximum of the measured groups, the points per group in a table, and
the late dossiers of the period. ``/embed/stats?view=index`` is the same chart and
table for the portal's iframe. No JavaScript, readable on a 360 px phone; Vietnamese,
or English once picked with the language switch (``tracker.http.i18n``).
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import get_locale, lazy_gettext

from tracker.domain.service_index import GROUPS
from tracker.http.limits import public_limit
from tracker.services import reference, statistics
from tracker.services.errors import Invalid
from tracker.services.late_dossiers import late_dossiers
from tracker.services.service_index import index_report
from tracker.web import page_blueprint
from tracker.web.stats import (DEFAULT_MIN_RESOLVED, _arguments, _errors_shown, _finish, allow_framing,
                               dashboard_page, day_text, embedding_origins, number, percent)

bp = Blueprint("service_index_pages", __name__, template_folder="templates")
page_blueprint(bp)

#: The late dossiers shown on the page (the API lists them all, page by page).
LATE_SHOWN = 50
CHART_WIDTH, BAR_AREA, ROW_HEIGHT = 360, 240, 38
#: How the page names each measured group of the index.
GROUP_NAMES = {"progress": lazy_gettext("Progress"), "online": lazy_gettext("Online service"),
               "digitization": lazy_gettext("Digitisation"), "satisfaction": lazy_gettext("Satisfaction")}


def bars(groups: list[dict]) -> list[dict]:
    """One bar per ranked group: its score and maximum as widths of the chart's bar area."""
    top = max([g["max_score"] for g in groups] + [1])
    return [{"key": g["key"], "name": g["name"], "score": g["score"], "max_score": g["max_score"],
             "y": i * ROW_HEIGHT, "width": round(BAR_AREA * g["score"] / top, 1),
             "max_width": round(BAR_AREA * g["max_score"] / top, 1)} for i, g in enumerate(groups)]


def local_day(value, lang: str) -> str:
    """An aware time as its day in the business time zone, written as the page's language writes days."""
    return day_text(value.astimezone(current_app.config["OFFICE_HOURS"].tz).date().isoformat(), lang)


def _query(lang: str) -> tuple[dict, dict]:
    """The parsed request (by agency; the city's children when it is the only top agency) or errors per field."""
    args, errors = _arguments("agency")
    if errors:
        return {}, errors
    args.update(group_by="agency", min_resolved=args.get("min_resolved", DEFAULT_MIN_RESOLVED))
    if not args.get("agency"):
        tops = reference.top_agency_codes()
        if len(tops) == 1:
            args["agency"] = tops[0]
    try:
        return {"query": statistics.resolve(args, lang), "min_resolved": args["min_resolved"]}, {}
    except Invalid as invalid:
        return {}, invalid.extra["errors"]


def _context() -> tuple[dict, int]:
    lang = str(get_locale())
    found, errors = _query(lang)
    context = {"errors": _errors_shown(errors), "args": request.args, "groups_order": GROUPS,
               "group_names": GROUP_NAMES, "number": number, "percent": percent, "day_text": day_text,
               "local_day": local_day, "min_resolved": found.get("min_resolved", DEFAULT_MIN_RESOLVED),
               "chart_width": CHART_WIDTH, "row_height": ROW_HEIGHT}
    if found:
        query = found["query"]
        body = index_report(query)
        ranked = sorted(body["groups"], key=lambda g: (-g["score"], g["key"]))
        period = {"period": request.args["period"].strip()} if request.args.get("period", "").strip() else {}
        agency = {"agency": request.args["agency"]} if request.args.get("agency") else {}
        context.update(body=body, ranked=ranked, bars=bars(ranked),
                       late=late_dossiers(query, current_app.config["TRACKER_PAYMENT_PAUSES"], limit=LATE_SHOWN),
                       late_url=url_for("late_dossiers.all", **period, **agency))
    return context, (422 if errors else 200)


allow_framing(bp, "service_index_pages.embed")


@bp.get("/stats/index")
@public_limit
def dashboard():
    """The service index of each agency, ranked, and the late dossiers of the period."""
    return dashboard_page("stats/index.html", *_context())


@bp.get("/embed/stats/index")
@public_limit
def embed():
    """``/embed/stats?view=index``: the ranked chart and the table, for the portal's iframe."""
    context, status = _context()
    response = current_app.make_response((render_template("stats/embed_index.html", **context), status))
    return _finish(response, embedding_origins())
