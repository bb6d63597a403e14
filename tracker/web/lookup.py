"""``/lookup``: a citizen types the code from the receipt and sees where the dossier is.

Rendered on the server (a plain GET form), so ``/lookup?code=…`` is a link to
share or to print as a QR code, and the page works without JavaScript.
Vietnamese, or English once picked with the language switch (``tracker.http.i18n``).

The page says only what is true now (docs/rules.md#notices-and-what-the-citizen-is-told):
a stopped dossier is stopped, never "finished on time"; a paused one says since when
and what was asked, and shows no appointment the pause has made meaningless; an
apology shows the new appointment and its reason.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import get_locale, gettext, lazy_gettext

from tracker.domain.codes import normalize_dossier_code, parse_dossier_code
from tracker.domain.statuses import Status, channel_label
from tracker.domain.workflow import PAUSED_STATUSES, Action
from tracker.http.i18n import chosen_language
from tracker.http.limits import public_limit
from tracker.services.lookup import find_public
from tracker.web import page_blueprint

bp = Blueprint("lookup", __name__)
page_blueprint(bp)
public_limit(bp)  # the pages share the per-client budget of the public API

CODE_EXAMPLE = "000.00.00.H57-250124-0001"

#: What a step's public reason is, by action (the notices of docs/rules.md#notices-and-what-the-citizen-is-told).
REASON_LABELS = {
    Action.REFUSE_INTAKE: lazy_gettext("Reason for not accepting"),
    Action.REQUEST_SUPPLEMENT: lazy_gettext("Documents to add"),
    Action.REQUEST_PAYMENT: lazy_gettext("To pay"),
    Action.STOP: lazy_gettext("Reason for stopping"),
    Action.APOLOGIZE: lazy_gettext("Reason for the delay"),
}
PAUSING = (Action.REQUEST_SUPPLEMENT, Action.REQUEST_PAYMENT)
TIMELINESS = {"early": lazy_gettext("Finished early"), "on_time": lazy_gettext("Finished on time"),
              "late": lazy_gettext("Finished late")}


def format_time(value, lang: str | None = None) -> str:
    """A local time as people write it: ``05/02/2025 17:00`` (vi) or ``5 Feb 2025, 17:00`` (en)."""
    value = local_time(value)
    if value is None:
        return ""
    if (lang or str(get_locale())) == "en":
        return f"{value.day} {value:%b %Y, %H:%M}"
    return f"{value:%d/%m/%Y %H:%M}"


def local_time(value) -> datetime | None:
    """A time of the view (aware datetime or ISO 8601 text) in the business time zone."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(current_app.config["OFFICE_HOURS"].tz) if value.tzinfo else value


@dataclass
class Badge:
    """One statement about the deadline: ``kind`` styles it (good, bad, neutral), ``text`` says it."""

    kind: str
    text: str

    @property
    def tone(self) -> str:
        return {"within": "good", "early": "good", "on_time": "good", "overdue": "bad", "late": "bad",
                "stopped": "bad", "refused": "bad"}.get(self.kind, "neutral")


@dataclass
class Situation:
    """What the page says at the top of a dossier: badges, the notice behind them, which dates hold."""

    badges: list[Badge]
    notice_title: str | None = None
    reason: str | None = None
    show_appointment: bool = True
    apology: dict | None = None


def _last(view: dict, *actions) -> dict | None:
    found = [step for step in view.get("steps") or [] if step.get("action") in actions]
    return found[-1] if found else None


def _reason(step: dict | None) -> str | None:
    if step is None:
        return None
    return step.get("reason") or step.get("public_note") or None


def is_paused(view: dict) -> bool:
    """Whether the deadline clock is stopped now (docs/rules.md#pauses).

    The read model's ``paused_since`` says so when it is there; without it, waiting for
    documents always pauses, waiting for a payment only when ``TRACKER_PAYMENT_PAUSES``.
    """
    status = view.get("status")
    if status not in PAUSED_STATUSES:
        return False
    if "paused_since" in view:
        return view["paused_since"] is not None
    return status == Status.SUPPLEMENT_REQUESTED or bool(current_app.config.get("TRACKER_PAYMENT_PAUSES", True))


def paused_since(view: dict):
    """When the running pause began: the view's ``paused_since``, else the request step's time."""
    if not is_paused(view):
        return None
    since = view.get("paused_since")
    if since is None:
        step = _last(view, *PAUSING)
        since = step.get("at") if step else None
    return local_time(since)


def _running(view: dict) -> list[Badge]:
    """The badge of a dossier whose clock runs: within its deadline or overdue."""
    if view.get("due_at") is None:
        return []
    return [Badge("overdue", gettext("Overdue")) if view.get("overdue")
            else Badge("within", gettext("Within the deadline"))]


def situation(view: dict) -> Situation:
    """What the dossier's status, timeliness and deadline allow the page to say, without contradiction."""
    status = view["status"]
    if status == Status.STOPPED:
        return Situation([Badge("stopped", gettext("Processing stopped"))],
                         gettext("The office stopped processing this dossier"),
                         _reason(_last(view, Action.STOP)), show_appointment=False)
    if status == Status.NOT_ACCEPTED:
        return Situation([Badge("refused", gettext("Not accepted"))], gettext("The dossier was not accepted"),
                         _reason(_last(view, Action.REFUSE_INTAKE)), show_appointment=False)
    if status == Status.WITHDRAWN:
        return Situation([Badge("withdrawn", gettext("Withdrawn at the applicant's request"))],
                         show_appointment=False)
    if status == Status.REGISTERED:
        return Situation([Badge("waiting", gettext("Waiting to be accepted"))], show_appointment=False)
    if status in PAUSED_STATUSES:
        title = (gettext("The office is waiting for additional documents") if status == Status.SUPPLEMENT_REQUESTED
                 else gettext("The office is waiting for a payment"))
        asked = _reason(_last(view, *PAUSING))
        if not is_paused(view):  # a payment that does not stop the clock: the appointment holds
            return Situation(_running(view), title, asked)
        since = paused_since(view)
        text = (gettext("Clock paused since %(since)s", since=format_time(since)) if since
                else gettext("Clock paused"))
        badges = [Badge("paused", text)]
        if view.get("overdue"):  # a pause moves the deadline on: past it now means past it when paused
            badges.append(Badge("overdue", gettext("Overdue before the pause")))
        return Situation(badges, title, asked, show_appointment=False)
    if status in (Status.DONE, Status.RETURNED):
        badges = [Badge(view["timeliness"], str(TIMELINESS[view["timeliness"]]))] \
            if view.get("timeliness") in TIMELINESS else []
        return Situation(badges)
    # accepted or processing: the clock runs
    apology = _last(view, Action.APOLOGIZE)
    return Situation(_running(view), apology=apology and {
        "reason": _reason(apology), "new_appointment_at": local_time(apology.get("new_appointment_at"))})


def step_reason_label(action: str) -> str:
    """How the page introduces a step's reason."""
    return str(REASON_LABELS.get(action, lazy_gettext("Reason")))


def share_link(code: str) -> str:
    """The absolute address of the dossier's lookup page (seen through the trusted proxies)."""
    return url_for("lookup.page", code=code, _external=True)


def _qr(link: str) -> segno.QRCode:
    return segno.make(link, error="m")


@bp.get("/lookup")
def page():
    """The form, and the dossier when ``?code=`` is given (404 with the page when unknown)."""
    lang = str(get_locale())
    code = normalize_dossier_code(request.args.get("code", ""))[:200]
    context = {"code": code, "chosen_lang": chosen_language(), "code_example": CODE_EXAMPLE,
               "format_time": format_time, "local_time": local_time, "view": None, "not_found": False}
    if not code:
        return render_template("lookup.html", **context)
    found = find_public(code, lang)
    if found is None:
        context.update(not_found=True, bad_format=parse_dossier_code(code) is None)
        return render_template("lookup.html", **context), 404
    view = found.view
    link = share_link(view["code"])
    context.update(
        view=view, situation=situation(view), channel=channel_label(view["channel"], lang), link=link,
        reason_label=step_reason_label, finished_label=(gettext("Stopped on") if view["status"] == Status.STOPPED
                                                        else gettext("Result ready on")),
        qr_svg=_qr(link).svg_inline(scale=1, border=4, omitsize=True, light="#fff",
                                    title=gettext("QR code of this page"), svgclass="qr"),
        qr_url=url_for("lookup.qr", code=view["code"]),
    )
    return render_template("lookup.html", **context)


@bp.get("/lookup/<code>/qr.svg")
def qr(code):
    """A QR code (SVG) of the dossier's shareable lookup link; 404 for unknown codes."""
    found = find_public(code, "vi")
    if found is None:
        abort(404, gettext("No dossier has the code %(code)s.", code=normalize_dossier_code(code)[:64]))
    out = io.BytesIO()
    _qr(share_link(found.view["code"])).save(out, kind="svg", scale=8, border=4, light="#fff",
                                             title=found.view["code"])
    return Response(out.getvalue(), mimetype="image/svg+xml")
