"""What the lookup page says for every status × timeliness × overdue: the right badge, never a contradiction.

The views are built here (the read model is replaced), so every combination the page
could be handed is shown, including the reasons of the steps and the start of a pause.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from tracker.domain.statuses import STATUS_CODES, Status, status_label
from tracker.services.lookup import Lookup

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.now(TZ).replace(second=0, microsecond=0)
ACCEPTED = NOW - timedelta(days=20)
APPOINTMENT = NOW - timedelta(days=3)  # already behind us
PAUSED = NOW - timedelta(days=5, hours=2)
ASKED = "Thiếu bản sao giấy khai sinh có chứng thực"
STOP_REASON = "Người nộp không bổ sung hồ sơ trong thời hạn"
REFUSED = "Hồ sơ không thuộc thẩm quyền giải quyết"
PAYMENT = "Nộp lệ phí 50.000 đồng"


def _step(seq, action, at, label, **extra):
    return {"seq": seq, "action": action, "label": label, "at": at, "agency": "000.01.00.H57",
            "agency_name": "Sở Tư pháp", "public_note": None, "reason": None, "new_appointment_at": None, **extra}


def _steps(status: str) -> list[dict]:
    steps = [_step(1, "accept", ACCEPTED, "Tiếp nhận hồ sơ")]
    if status == "not_accepted":
        return [_step(1, "refuse_intake", ACCEPTED, "Từ chối tiếp nhận", reason=REFUSED)]
    if status == "registered":
        return [_step(1, "register", ACCEPTED, "Nộp hồ sơ trực tuyến")]
    if status == "supplement_requested":
        steps.append(_step(2, "request_supplement", PAUSED, "Yêu cầu bổ sung hồ sơ", reason=ASKED))
    if status == "payment_requested":
        steps.append(_step(2, "request_payment", PAUSED, "Yêu cầu thực hiện nghĩa vụ tài chính",
                           public_note=PAYMENT))
    if status == "stopped":
        steps.append(_step(2, "stop", NOW - timedelta(days=1), "Dừng xử lý", reason=STOP_REASON))
    return steps


def view(status: str, timeliness: str | None, overdue: bool) -> dict:
    finished = status in ("done", "returned", "stopped")
    built = {
        "code": "000.01.00.H57-250124-0001", "procedure": {"code": "1.000001", "name": "Đăng ký khai sinh"},
        "agency": {"code": "000.01.00.H57", "name": "Sở Tư pháp"}, "channel": "direct", "status": status,
        "status_code": STATUS_CODES[Status(status)], "status_label": status_label(status, "vi"),
        "accepted_at": ACCEPTED if status != "registered" else None, "due_at": APPOINTMENT,
        "appointment_at": APPOINTMENT, "finished_at": NOW - timedelta(days=1) if finished else None,
        "returned_at": NOW if status == "returned" else None, "timeliness": timeliness, "overdue": overdue,
        "applicant_name": "N***** V** A", "verified": False, "steps": _steps(status),
    }
    if status == "supplement_requested":  # the read model's own field; payment_requested falls back on the step
        built["paused_since"] = PAUSED
    return built


def _page(client, monkeypatch, shown: dict, lang: str = "vi") -> str:
    monkeypatch.setattr("tracker.web.lookup.find_public", lambda code, lang, verify=None: Lookup(shown, False, False))
    response = client.get("/lookup", query_string={"code": shown["code"], "lang": lang})
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def _badges(html: str) -> list[tuple[str, str]]:
    return [(kind, re.sub(r"\s+", " ", text).strip()) for kind, text in
            re.findall(r'data-kind="([^"]+)"><span aria-hidden="true">[^<]*</span>(.*?)</span>', html, re.S)]


def _shown(moment: datetime) -> str:
    return f"{moment:%d/%m/%Y %H:%M}"


FINISHED_TEXT = {"early": "Hoàn thành trước hạn", "on_time": "Hoàn thành đúng hạn", "late": "Hoàn thành quá hạn"}


def expected_badges(status: str, timeliness: str | None, overdue: bool) -> list[tuple[str, str]]:
    """The rule, written out again: what each state earns."""
    if status == "stopped":
        return [("stopped", "Dừng xử lý")]
    if status == "not_accepted":
        return [("refused", "Không được tiếp nhận")]
    if status == "withdrawn":
        return [("withdrawn", "Đã rút hồ sơ theo yêu cầu của người nộp")]
    if status == "registered":
        return [("waiting", "Đang chờ tiếp nhận")]
    if status in ("supplement_requested", "payment_requested"):
        paused = [("paused", f"Tạm dừng tính thời gian giải quyết từ {_shown(PAUSED)}")]
        return paused + ([("overdue", "Đã quá hạn trước khi tạm dừng")] if overdue else [])
    if status in ("done", "returned"):
        return [(timeliness, FINISHED_TEXT[timeliness])] if timeliness else []
    return [("overdue", "Đã quá hạn")] if overdue else [("within", "Đang trong hạn")]


@pytest.mark.parametrize("overdue", [False, True])
@pytest.mark.parametrize("timeliness", [None, "early", "on_time", "late"])
@pytest.mark.parametrize("status", [s.value for s in Status])
def test_every_combination_is_worded_without_contradiction(client, monkeypatch, status, timeliness, overdue):
    html = _page(client, monkeypatch, view(status, timeliness, overdue))
    result = html[html.index('class="result"'):]
    badges = _badges(result)
    assert badges == expected_badges(status, timeliness, overdue)
    finished_badge = any(kind in FINISHED_TEXT for kind, _ in badges)
    if status not in ("done", "returned"):
        assert not finished_badge and "Hoàn thành" not in result
    if status in ("stopped", "not_accepted", "withdrawn", "registered", "done", "returned",
                  "supplement_requested", "payment_requested") or overdue:
        assert "Đang trong hạn" not in result
    if status == "stopped":
        assert "đúng hạn" not in result.lower() and "trước hạn" not in result.lower()
        assert "Cơ quan đã dừng xử lý hồ sơ này" in result and STOP_REASON in result
        assert "Ngày dừng xử lý" in result and "Ngày có kết quả" not in result
        assert _shown(APPOINTMENT) not in result  # no result will come on the promised day
    if status in ("supplement_requested", "payment_requested"):
        # The pause made the appointment meaningless: no date is promised.
        assert _shown(APPOINTMENT) not in result
        assert "Ngày hẹn mới được tính lại khi cơ quan nhận đủ những gì đã yêu cầu." in result
        asked = ASKED if status == "supplement_requested" else PAYMENT
        assert re.search(r'id="situation-reason">' + re.escape(asked), result)
    if status == "not_accepted":
        assert REFUSED in result and "Lý do không tiếp nhận: " + REFUSED in re.sub(r"<[^>]+>", "", result)
    if status in ("accepted", "processing", "done", "returned"):
        assert _shown(APPOINTMENT) in result  # the appointment still holds (or held)


def test_step_reasons_are_shown_with_what_they_are(client, monkeypatch):
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _page(client, monkeypatch,
                                                             view("supplement_requested", None, False))))
    assert f"Nội dung cần bổ sung: {ASKED}" in text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _page(client, monkeypatch, view("stopped", "late", False))))
    assert f"Lý do dừng xử lý: {STOP_REASON}" in text


def test_an_apology_shows_the_new_appointment_and_its_reason(client, monkeypatch):
    new = NOW + timedelta(days=4)
    shown = view("processing", None, False)
    shown["appointment_at"] = new
    shown["steps"].append(_step(2, "apologize", NOW - timedelta(hours=3), "Xin lỗi và hẹn lại ngày trả kết quả",
                                reason="Chờ ý kiến của cơ quan phối hợp", new_appointment_at=new.isoformat()))
    html = _page(client, monkeypatch, shown)
    apology = html[html.index('id="apology"'):html.index("</div>", html.index('id="apology"'))]
    assert "Cơ quan đã xin lỗi vì chậm trễ và hẹn lại ngày trả kết quả" in apology
    assert _shown(new) in apology and "Chờ ý kiến của cơ quan phối hợp" in apology
    assert "Ngày hẹn trả kết quả mới" in html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert f"Ngày hẹn mới: {_shown(new)}" in text and "Lý do chậm trễ: Chờ ý kiến của cơ quan phối hợp" in text


def test_the_english_page_says_the_same(client, monkeypatch):
    html = _page(client, monkeypatch, view("stopped", "on_time", False), lang="en")
    assert _badges(html[html.index('class="result"'):]) == [("stopped", "Processing stopped")]
    assert "on time" not in html.lower() and STOP_REASON in html
    html = _page(client, monkeypatch, view("payment_requested", None, False), lang="en")
    assert _badges(html) == [("paused", f"Clock paused since {PAUSED.day} {PAUSED:%b %Y, %H:%M}")]
    assert "Within the deadline" not in html


def test_a_payment_that_does_not_stop_the_clock_keeps_the_appointment(client, monkeypatch):
    shown = view("payment_requested", None, False)
    shown["paused_since"] = None  # the read model: no pause in progress
    html = _page(client, monkeypatch, shown)
    assert _badges(html) == [("within", "Đang trong hạn")]
    assert "Cơ quan đang chờ thực hiện nghĩa vụ tài chính" in html and PAYMENT in html
    assert _shown(APPOINTMENT) in html and "Tạm dừng" not in html


def test_without_the_read_model_s_word_the_setting_decides(make_app, monkeypatch):
    app = make_app(TRACKER_PAYMENT_PAUSES=False)
    html = _page(app.test_client(), monkeypatch, view("payment_requested", None, True))
    assert _badges(html) == [("overdue", "Đã quá hạn")] and _shown(APPOINTMENT) in html
