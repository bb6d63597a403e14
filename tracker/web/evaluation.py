"""``/lookup/evaluation``: the applicant of a finished dossier evaluates it (a plain POST form, no JavaScript).

The applicant proves who they are with the ID number or phone on the dossier, as the
lookup unmasks the name, under the same throttle of failed attempts; the comment is
read by staff only. Vietnamese first; English with ``?lang=en``.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.exceptions import HTTPException

from tracker.domain.service_levels import EVALUABLE, LEVELS, level_label
from tracker.domain.statuses import LANGUAGES, status_label
from tracker.extensions import db
from tracker.http.limits import check_verify_allowed, count_failed_verification, public_limit
from tracker.services import dossiers, evaluations
from tracker.services.errors import Conflict, Forbidden, Invalid
from tracker.web import secure_page

bp = Blueprint("evaluation_page", __name__, template_folder="templates")
bp.after_request(secure_page)
public_limit(bp)

TEXT = {
    "vi": {
        "title": "Đánh giá mức độ hài lòng", "service": "Tra cứu tình trạng hồ sơ thủ tục hành chính",
        "skip": "Bỏ qua, đến nội dung chính", "code": "Mã hồ sơ", "verify": "Số định danh cá nhân hoặc số điện thoại",
        "verify_hint": "Số đã khai khi nộp hồ sơ, để xác nhận ông/bà là người nộp.",
        "overall": "Mức độ hài lòng chung", "criteria": "Theo từng tiêu chí (không bắt buộc)",
        "comment": "Góp ý (chỉ cán bộ đọc được)", "submit": "Gửi đánh giá", "thanks": "Cảm ơn ông/bà đã đánh giá.",
        "replaced": "Đánh giá mới đã thay cho đánh giá trước.", "not_found": "Không tìm thấy hồ sơ có mã {code}.",
        "not_finished": "Hồ sơ đang ở tình trạng “{status}”: chỉ đánh giá được hồ sơ đã giải quyết xong.",
        "wrong": "Số định danh hoặc số điện thoại không khớp với người nộp hồ sơ.",
        "limited": "Đã nhập sai quá nhiều lần cho hồ sơ này. Vui lòng thử lại sau {seconds} giây.",
        "skip_level": "Không đánh giá", "back": "Quay lại tra cứu",
        "footer": "Đánh giá không công khai thông tin cá nhân; góp ý chỉ cán bộ cơ quan đọc được.",
    },
    "en": {
        "title": "Rate the service", "service": "Administrative dossier lookup", "skip": "Skip to main content",
        "code": "Dossier code", "verify": "ID number or phone number",
        "verify_hint": "The one given with the dossier, to confirm you are the applicant.",
        "overall": "Overall satisfaction", "criteria": "Per criterion (optional)",
        "comment": "Comment (read by staff only)", "submit": "Send", "thanks": "Thank you for your evaluation.",
        "replaced": "Your new evaluation replaces the earlier one.", "not_found": "No dossier has the code {code}.",
        "not_finished": "The dossier is “{status}”: only a finished dossier can be evaluated.",
        "wrong": "The ID number or phone number does not match the applicant.",
        "limited": "Too many wrong attempts for this dossier. Please try again in {seconds} seconds.",
        "skip_level": "No answer", "back": "Back to the lookup",
        "footer": "Evaluations publish nothing personal; comments are read by the agency's staff only.",
    },
}


def _language() -> str:
    chosen = (request.values.get("lang") or "").strip().lower()
    return chosen if chosen in LANGUAGES else "vi"


def _render(status: int = 200, headers: dict | None = None, **context):
    lang = _language()
    code = (request.values.get("code") or "").strip()
    page = render_template("evaluation.html", lang=lang, t=TEXT[lang], code=code, levels=LEVELS,
                           level_label=level_label, criteria=evaluations.public_criteria(lang), **context)
    return page, status, headers or {}


@bp.get("/lookup/evaluation")
def form():
    """The evaluation form of one dossier."""
    dossier = dossiers.find(request.args.get("code", "")) if request.args.get("code") else None
    if request.args.get("code") and dossier is None:
        return _render(404, error=TEXT[_language()]["not_found"].format(code=request.args["code"][:64]))
    if dossier is not None and dossier.status not in EVALUABLE:
        return _render(409, error=TEXT[_language()]["not_finished"].format(
            status=status_label(dossier.status, _language())))
    return _render()


@bp.post("/lookup/evaluation")
def submit():
    """Record the evaluation sent by the form; the same rules as the API's."""
    t = TEXT[_language()]
    code = (request.form.get("code") or "").strip()
    dossier = dossiers.find(code) if code else None
    if dossier is None:
        return _render(404, error=t["not_found"].format(code=code[:64]))
    try:
        check_verify_allowed(dossier.code)
    except HTTPException as refused:
        seconds = getattr(refused, "data", {}).get("headers", {}).get("Retry-After", "")
        return _render(429, error=t["limited"].format(seconds=seconds), headers={"Retry-After": seconds})
    chosen = {key: request.form.get(f"criterion-{key}") for key in (c["key"] for c in evaluations.public_criteria("vi"))}
    data = {"verify": (request.form.get("verify") or "").strip()[:32], "overall": request.form.get("overall"),
            "criteria": {k: v for k, v in chosen.items() if v in LEVELS},
            "comment": (request.form.get("comment") or "").strip()[:2000] or None}
    if data["overall"] not in LEVELS or not data["verify"]:
        return _render(422, error=t["overall"] if data["overall"] not in LEVELS else t["verify"])
    try:
        _, replaced = evaluations.evaluate(dossier, {**data, "client_ip": request.remote_addr})
    except Forbidden:
        db.session.rollback()
        count_failed_verification(dossier.code)
        return _render(403, error=t["wrong"])
    except (Conflict, Invalid) as refused:
        db.session.rollback()
        return _render(409 if isinstance(refused, Conflict) else 422, error=refused.message)
    db.session.commit()
    return _render(201, done=t["replaced"] if replaced else t["thanks"])
