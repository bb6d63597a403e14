"""``/lookup``: a citizen types the code from the receipt and sees where the dossier is.

Rendered on the server (a plain GET form), so ``/lookup?code=…`` is a link to
share or to print as a QR code, and the page works without JavaScript.
Vietnamese first; English with ``?lang=en`` or the browser's Accept-Language.
"""
from __future__ import annotations

import io
from datetime import datetime

import segno
from flask import Blueprint, Response, abort, render_template, request, url_for

from tracker.http.limits import public_limit
from tracker.domain.codes import normalize_dossier_code, parse_dossier_code
from tracker.domain.progress import OPEN
from tracker.domain.statuses import LANGUAGES, channel_label, normalize_language, pick_language
from tracker.domain.workflow import FINISHED
from tracker.services.lookup import find_public
from tracker.web import secure_page

bp = Blueprint("lookup", __name__)
bp.after_request(secure_page)
public_limit(bp)  # the pages share the per-client budget of the public API

CODE_EXAMPLE = "000.00.00.H57-250124-0001"

TEXT = {
    "vi": {
        "title": "Tra cứu hồ sơ",
        "service": "Tra cứu tình trạng hồ sơ thủ tục hành chính",
        "skip": "Bỏ qua, đến nội dung chính",
        "intro": "Nhập mã hồ sơ in trên Phiếu tiếp nhận và hẹn trả kết quả để xem hồ sơ đang được "
                 "giải quyết đến đâu.",
        "code_label": "Mã hồ sơ",
        "code_hint": f"Ví dụ: {CODE_EXAMPLE}",
        "submit": "Tra cứu",
        "result_for": "Hồ sơ",
        "status": "Tình trạng",
        "procedure": "Thủ tục",
        "agency": "Cơ quan tiếp nhận",
        "applicant": "Người nộp",
        "channel": "Hình thức nộp",
        "accepted_at": "Ngày tiếp nhận",
        "appointment_at": "Ngày hẹn trả kết quả",
        "due_at": "Hạn giải quyết theo quy định",
        "finished_at": "Ngày có kết quả",
        "returned_at": "Ngày trả kết quả",
        "timeline": "Quá trình xử lý",
        "no_steps": "Chưa có bước xử lý nào được công khai.",
        "not_found": "Không tìm thấy hồ sơ có mã {code}.",
        "not_found_help": "Vui lòng kiểm tra lại mã in trên Phiếu tiếp nhận và hẹn trả kết quả. "
                          "Mã hồ sơ gồm mã cơ quan, ngày tiếp nhận (năm, tháng, ngày) và số thứ tự, "
                          f"ví dụ: {CODE_EXAMPLE}. Chữ hoa hay chữ thường đều được.",
        "bad_format": "Mã vừa nhập không đúng dạng thường gặp của mã hồ sơ.",
        "share": "Liên kết để xem lại hoặc chia sẻ",
        "qr": "Mã QR dẫn tới trang này",
        "qr_download": "Tải mã QR (SVG)",
        "badge": {
            "within": "Đang trong hạn",
            "overdue": "Đã quá hạn",
            "early": "Hoàn thành trước hạn",
            "on_time": "Hoàn thành đúng hạn",
            "late": "Hoàn thành quá hạn",
        },
        "masked_note": "Tên được che một phần để bảo vệ thông tin cá nhân.",
        "language": "Ngôn ngữ",
        "footer": "Thông tin chỉ để tham khảo; kết quả chính thức theo văn bản của cơ quan giải quyết.",
    },
    "en": {
        "title": "Dossier lookup",
        "service": "Administrative-procedure dossier status",
        "skip": "Skip to main content",
        "intro": "Enter the dossier code printed on your receipt to see how far its processing has got.",
        "code_label": "Dossier code",
        "code_hint": f"Example: {CODE_EXAMPLE}",
        "submit": "Look up",
        "result_for": "Dossier",
        "status": "Status",
        "procedure": "Procedure",
        "agency": "Receiving agency",
        "applicant": "Applicant",
        "channel": "Submitted",
        "accepted_at": "Accepted on",
        "appointment_at": "Result promised for",
        "due_at": "Legal deadline",
        "finished_at": "Result ready on",
        "returned_at": "Result handed over on",
        "timeline": "Processing history",
        "no_steps": "No public processing step yet.",
        "not_found": "No dossier has the code {code}.",
        "not_found_help": "Please check the code printed on your receipt. A dossier code is the agency's "
                          "code, the date of intake (year, month, day) and a number, for example "
                          f"{CODE_EXAMPLE}. Upper or lower case does not matter.",
        "bad_format": "What you typed does not look like a dossier code.",
        "share": "Link to come back to or share",
        "qr": "QR code of this page",
        "qr_download": "Download the QR code (SVG)",
        "badge": {
            "within": "Within the deadline",
            "overdue": "Overdue",
            "early": "Finished early",
            "on_time": "Finished on time",
            "late": "Finished late",
        },
        "masked_note": "The name is partly hidden to protect personal data.",
        "language": "Language",
        "footer": "For information only; the official result is the agency's written decision.",
    },
}

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def _language() -> tuple[str, bool]:
    """The page language and whether the visitor chose it with ``?lang=``."""
    chosen = request.args.get("lang", "").strip().lower()
    if chosen in LANGUAGES:
        return chosen, True
    return pick_language(request.headers.get("Accept-Language")), False


def format_time(value: datetime | None, lang: str) -> str:
    """A local time as people write it: ``05/02/2025 17:00`` (vi) or ``5 Feb 2025, 17:00`` (en)."""
    if value is None:
        return ""
    if normalize_language(lang) == "en":
        return f"{value.day} {value:%b %Y, %H:%M}"
    return f"{value:%d/%m/%Y %H:%M}"


def badge(view: dict) -> str | None:
    """Which deadline badge the dossier earns: within/overdue while open, early/on_time/late once finished."""
    if view["status"] in FINISHED and view["timeliness"]:
        return view["timeliness"]
    if view["status"] in OPEN and view["due_at"] is not None:
        return "overdue" if view["overdue"] else "within"
    return None


def share_link(code: str) -> str:
    """The absolute address of the dossier's lookup page (seen through the trusted proxies)."""
    return url_for("lookup.page", code=code, _external=True)


def _qr(link: str) -> segno.QRCode:
    return segno.make(link, error="m")


def _switch_links(code: str) -> dict[str, str]:
    return {lang: url_for("lookup.page", code=code or None, lang=lang) for lang in LANGUAGES}


@bp.get("/lookup")
def page():
    """The form, and the dossier when ``?code=`` is given (404 with the page when unknown)."""
    lang, chosen = _language()
    code = normalize_dossier_code(request.args.get("code", ""))[:200]
    context = {
        "lang": lang, "chosen_lang": lang if chosen else None, "t": TEXT[lang], "code": code,
        "switch": _switch_links(code), "language_names": LANGUAGE_NAMES, "format_time": format_time,
        "view": None, "not_found": False,
    }
    if not code:
        return render_template("lookup.html", **context)
    found = find_public(code, lang)
    if found is None:
        context.update(not_found=True, bad_format=parse_dossier_code(code) is None)
        return render_template("lookup.html", **context), 404
    view = found.view
    link = share_link(view["code"])
    context.update(
        view=view, badge=badge(view), channel=channel_label(view["channel"], lang), link=link,
        qr_svg=_qr(link).svg_inline(scale=1, border=4, omitsize=True, light="#fff", title=TEXT[lang]["qr"],
                                    svgclass="qr"),
        qr_url=url_for("lookup.qr", code=view["code"]),
    )
    return render_template("lookup.html", **context)


@bp.get("/lookup/<code>/qr.svg")
def qr(code):
    """A QR code (SVG) of the dossier's shareable lookup link; 404 for unknown codes."""
    found = find_public(code, "vi")
    if found is None:
        abort(404, f"No dossier has the code {normalize_dossier_code(code)[:64]}.")
    out = io.BytesIO()
    _qr(share_link(found.view["code"])).save(out, kind="svg", scale=8, border=4, light="#fff",
                                             title=found.view["code"])
    return Response(out.getvalue(), mimetype="image/svg+xml")
