"""``/stats``, the public dashboard, and ``/embed/stats``, its minimal widget for the portal's iframe.

Both are rendered on the server from the same report as ``/api/v1/public/stats``
(``tracker.services.statistics``): a plain GET form (period, agency, grouping), an
SVG bar chart of early / on-time / late dossiers per agency or per month, the II.06a
table, and a ranking by on-time rate among groups with a minimum number of resolved
dossiers. No JavaScript, nothing from other hosts, readable on a 360 px phone.
Vietnamese, or English once picked with the language switch (``tracker.http.i18n``).

The widget may be framed by this service and the portal origins listed in
``TRACKER_CORS_ORIGINS`` (``Content-Security-Policy: frame-ancestors``); the
dashboard only by this service.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import marshmallow as ma
from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import get_locale, gettext, lazy_gettext

from tracker.domain import statistics as rules_of
from tracker.http.i18n import translate
from tracker.http.limits import public_limit
from tracker.models.types import utcnow
from tracker.schemas.statistics import StatsQuerySchema
from tracker.services import reference, statistics
from tracker.services.statistics.exports import cell_text, table
from tracker.services.errors import Invalid
from tracker.web import page_blueprint

bp = Blueprint("stats", __name__, template_folder="templates")
page_blueprint(bp)

#: A ranking leaves out groups that resolved fewer dossiers than this, unless asked otherwise.
DEFAULT_MIN_RESOLVED = 5
MAX_AGE = 60
PAGE_GROUPS = ("agency", "month")
_POLICY = ("default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; "
           "frame-ancestors {ancestors}")

#: How the page names each query parameter in an error message.
FIELD_LABELS = {
    "period": lazy_gettext("Period"), "from": lazy_gettext("From"), "to": lazy_gettext("To"),
    "agency": lazy_gettext("Agency"), "group_by": lazy_gettext("Show by"),
    "min_resolved": lazy_gettext("Minimum resolved dossiers to be ranked"),
}
#: The mark written before a rate, so that its grade does not rest on colour alone.
RATE_MARKS = {"good": "▲", "fair": "■", "poor": "▼"}

# -- presentation helpers -------------------------------------------------------------------------


def show(value, kind: str | None, lang: str) -> str:
    """A table cell as people read it (the same text as in the CSV)."""
    return cell_text(value, kind, lang)


def number(value, lang: str) -> str:
    """A count with the language's thousands separator (1.234 / 1,234)."""
    return cell_text(value, "count", lang)


def percent(value, lang: str) -> str:
    """A fraction as a percentage with two decimals (83,33% / 83.33%); a dash for none."""
    return cell_text(value, "rate", lang)


def rate_grade(value) -> str | None:
    """``good``, ``fair`` or ``poor`` for a rate (docs/rules.md#rates), None for none."""
    return rules_of.rate_grade(value)


def day_text(value: str, lang: str) -> str:
    """``2025-03-01`` as ``01/03/2025`` (vi) or ``1 Mar 2025`` (en)."""
    day = date.fromisoformat(value)
    return f"{day.day} {day:%b %Y}" if lang == "en" else f"{day:%d/%m/%Y}"


def period_options(year: int) -> list[tuple[str, str]]:
    """The periods offered in the picker: this year and the two before, whole and in parts."""
    options = []
    halves = (gettext("First half of %(year)s"), gettext("Second half of %(year)s"))
    for y in (year, year - 1, year - 2):
        options.append((f"{y}", gettext("Year %(year)s", year=y)))
        options.append((f"{y}-9M", gettext("First nine months of %(year)s", year=y)))
        for h in (1, 2):
            options.append((f"{y}-H{h}", halves[h - 1] % {"year": y}))
        for q in (1, 2, 3, 4):
            options.append((f"{y}-Q{q}", gettext("Q%(quarter)s %(year)s", quarter=q, year=y)))
        for m in range(1, 13):
            options.append((f"{y}-{m:02d}", gettext("%(month)s/%(year)s", month=f"{m:02d}", year=y)))
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
_ARGUMENTS = ("period", "from", "to", "agency", "group_by", "min_resolved")


def _messages(messages) -> list[str]:
    return [str(translate(str(m))) for m in (messages if isinstance(messages, list) else [messages])]


def _arguments(default_group: str) -> tuple[dict, dict[str, list[str]]]:
    """The page's query arguments, parsed like the API's; errors per field instead of a 422 body."""
    raw = {k: v for k, v in request.args.items() if k in _ARGUMENTS and v.strip()}
    raw.setdefault("group_by", default_group)
    try:
        args = _schema.load(raw)
    except ma.ValidationError as invalid:
        return {}, {k: _messages(v) for k, v in invalid.messages.items()}
    if args.get("group_by") not in PAGE_GROUPS:
        return {}, {"group_by": [gettext("Must be one of: %(choices)s.", choices=", ".join(PAGE_GROUPS))]}
    return args, {}


def _errors_shown(errors: dict[str, list[str]]) -> list[tuple[str, str, list[str]]]:
    """Each field at fault with its name as the page calls it, in the page's language."""
    return [(field, str(FIELD_LABELS.get(field, field)), _messages(messages)) for field, messages in errors.items()]


def headline(body: dict) -> list[tuple[str, str, str | None]]:
    """The widget's three first figures: received, resolved, on-time rate (label, text, grade)."""
    lang = str(get_locale())
    totals = body["totals"]
    return [(gettext("Received"), number(totals["received"]["total"], lang), None),
            (gettext("Resolved"), number(totals["resolved"]["total"], lang), None),
            (gettext("On-time rate"), percent(totals["on_time_rate"], lang), rate_grade(totals["on_time_rate"]))]


def _context(default_group: str) -> tuple[dict, int]:
    lang = str(get_locale())
    args, errors = _arguments(default_group)
    body = None
    if not errors and not args.get("agency") and args.get("group_by") == "agency":
        # One group per top-level agency says little when the city is the only one: show its children.
        tops = reference.top_agency_codes()
        if len(tops) == 1:
            args["agency"] = tops[0]
    if not errors:
        try:
            body = statistics.report(statistics.resolve({k: v for k, v in args.items() if k != "min_resolved"},
                                                        lang))
        except Invalid as invalid:
            errors = invalid.extra["errors"]
    min_resolved = args.get("min_resolved", DEFAULT_MIN_RESOLVED)
    context = {
        "errors": _errors_shown(errors), "body": body, "args": request.args,
        "group_by": args.get("group_by", default_group), "min_resolved": min_resolved,
        "show": show, "number": number, "percent": percent, "day_text": day_text, "rate_grade": rate_grade,
        "rate_marks": RATE_MARKS, "chart_width": CHART_WIDTH, "bar_area": BAR_AREA, "row_height": ROW_HEIGHT,
    }
    if body is not None:
        context.update(table=table(body, lang), bars=chart_bars(body), ranking=ranking(body, min_resolved),
                       headline=headline(body))
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


def allow_framing(blueprint: Blueprint, endpoint: str) -> None:
    """Let the portal frame every answer of the widget ``endpoint`` (its 429 page too)."""

    @blueprint.after_request
    def _framable_widget(response):
        if request.endpoint == endpoint:
            response.headers["Content-Security-Policy"] = _POLICY.format(ancestors=embedding_origins())
        return response


allow_framing(bp, "stats.embed")


def dashboard_page(template: str, context: dict, status: int):
    """A dashboard: ``template`` with ``context`` and the choices of its period and agency pickers."""
    # The business time zone is all the year needs (not the calendar and its overrides' query).
    year = utcnow().astimezone(current_app.config["OFFICE_HOURS"].tz).year
    context.update(periods=period_options(year), agencies=reference.agency_options(),
                   selected_period=request.args.get("period", "") or (str(year) if not request.args.get("from")
                                                                      else ""))
    response = current_app.make_response((render_template(template, **context), status))
    return _finish(response, "'self'")


@bp.get("/stats")
@public_limit
def dashboard():
    """The public dashboard: pickers, chart, II.06a table and ranking."""
    return dashboard_page("stats/dashboard.html", *_context("agency"))


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
