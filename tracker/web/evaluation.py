"""``/lookup/evaluation``: the applicant of a finished dossier evaluates it (a plain POST form, no JavaScript).

The applicant proves who they are with the ID number or phone on the dossier, as the
lookup unmasks the name, under the same throttle of failed attempts; the comment is
read by staff only. Vietnamese, or English once picked with the language switch
(``tracker.http.i18n``); the form carries its language to the answer.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import force_locale, get_locale, gettext
from werkzeug.exceptions import HTTPException

from tracker.domain.service_levels import EVALUABLE, LEVELS, level_label
from tracker.domain.statuses import LANGUAGES, status_label
from tracker.extensions import db
from tracker.http.i18n import translate
from tracker.http.limits import check_verify_allowed, count_failed_verification, public_limit
from tracker.services import dossiers, evaluations
from tracker.services.errors import Conflict, Forbidden, Invalid
from tracker.web import page_blueprint, retry_after

bp = Blueprint("evaluation_page", __name__, template_folder="templates")
page_blueprint(bp)
public_limit(bp)  # the pages share the per-client budget of the public API


def _render(status: int = 200, headers: dict | None = None, **context):
    lang = str(get_locale())
    code = (request.values.get("code") or "").strip()[:64]
    # The language switch of an answer to the form leads back to the form of the same dossier.
    switch = {other: url_for("evaluation_page.form", **({"code": code} if code else {}), lang=other)
              for other in LANGUAGES}
    page = render_template("evaluation.html", code=code, levels=LEVELS, level_label=level_label,
                           criteria=evaluations.public_criteria(lang), switch=switch, **context)
    return page, status, headers or {}


def _not_found(code: str):
    return _render(404, error=gettext("No dossier has the code %(code)s.", code=code[:64]))


@bp.get("/lookup/evaluation")
def form():
    """The evaluation form of one dossier."""
    code = request.args.get("code", "").strip()
    dossier = dossiers.find(code) if code else None
    if code and dossier is None:
        return _not_found(code)
    if dossier is not None and dossier.status not in EVALUABLE:
        return _render(409, error=gettext("The dossier is “%(status)s”: only a finished dossier can be evaluated.",
                                          status=status_label(dossier.status, str(get_locale()))))
    return _render()


@bp.post("/lookup/evaluation")
def submit():
    """Record the evaluation sent by the form, in the form's language; the same rules as the API's."""
    chosen = (request.form.get("lang") or "").strip().lower()
    with force_locale(chosen if chosen in LANGUAGES else str(get_locale())):
        return _submit()


def _submit():
    code = (request.form.get("code") or "").strip()
    dossier = dossiers.find(code) if code else None
    if dossier is None:
        return _not_found(code)
    try:
        check_verify_allowed(dossier.code)
    except HTTPException as refused:
        seconds = retry_after(refused)
        return _render(429, error=gettext("Too many wrong attempts for this dossier. Please try again in "
                                          "%(seconds)s seconds.", seconds=seconds),
                       headers={"Retry-After": str(seconds)})
    chosen = {key: request.form.get(f"criterion-{key}") for key in (c["key"] for c in evaluations.public_criteria("vi"))}
    data = {"verify": (request.form.get("verify") or "").strip()[:32], "overall": request.form.get("overall"),
            "criteria": {k: v for k, v in chosen.items() if v in LEVELS},
            "comment": (request.form.get("comment") or "").strip()[:2000] or None}
    if data["overall"] not in LEVELS:
        return _render(422, error=gettext("Choose your overall satisfaction."))
    if not data["verify"]:
        return _render(422, error=gettext("Give the ID number or phone number given with the dossier."))
    try:
        _, replaced = evaluations.evaluate(dossier, {**data, "client_ip": request.remote_addr})
    except Forbidden:
        db.session.rollback()
        count_failed_verification(dossier.code)
        return _render(403, error=gettext("The ID number or phone number does not match the applicant."))
    except (Conflict, Invalid) as refused:
        db.session.rollback()
        return _render(409 if isinstance(refused, Conflict) else 422, error=translate(refused.message))
    db.session.commit()
    return _render(201, done=gettext("Your new evaluation replaces the earlier one.") if replaced
                   else gettext("Thank you for your evaluation."))
