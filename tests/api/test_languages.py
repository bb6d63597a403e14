"""Languages: pages in Vietnamese unless English is picked; API errors after Accept-Language; the 429 page."""
from __future__ import annotations

import re

import pytest

from tests.api.test_public import _ip, _seed
from tests.conftest import assert_problem
from tracker.extensions import limiter

UNKNOWN = "000.01.00.H57-990101-0001"


def test_public_api_errors_are_vietnamese_by_default(city, client):
    body = assert_problem(client.get(f"/api/v1/public/dossiers/{UNKNOWN}"), 404)
    assert body["detail"] == (f"Không tìm thấy hồ sơ có mã {UNKNOWN}. Vui lòng kiểm tra lại mã in trên "
                              "Phiếu tiếp nhận và hẹn trả kết quả.")
    assert body["title"] == "Không tìm thấy"
    english = assert_problem(client.get(f"/api/v1/public/dossiers/{UNKNOWN}", headers={"Accept-Language": "en"}), 404)
    assert english["detail"] == f"No dossier has the code {UNKNOWN}. Check the code printed on the receipt."
    assert english["title"] == "Not Found"


@pytest.mark.parametrize("params, field, vietnamese, english", [
    ({"period": "2026-Q7"}, "period", "Một năm có các quý Q1 đến Q4, không có Q7.", "not Q7"),
    ({"min_resolved": "-1"}, "min_resolved", "Phải từ 0 đến 1000000000.", "greater than or equal to 0"),
    ({"min_resolved": "many"}, "min_resolved", "Phải là một số nguyên.", "Not a valid integer."),
    ({"agency": "nope"}, "agency", "Không có cơ quan nào có mã nope.", "No agency has the code nope."),
    ({"from": "2025-03-02"}, "to", "Cần cả ngày bắt đầu (from) và ngày kết thúc (to)", "Give both from and to"),
    ({"channel": "fax"}, "channel", "Phải là một trong các giá trị: direct, online, postal.", "Must be one of"),
])
def test_statistics_errors_follow_accept_language(city, client, params, field, vietnamese, english):
    body = assert_problem(client.get("/api/v1/public/stats", query_string=params), 422)
    assert any(vietnamese in message for message in body["errors"][field]), body
    assert body["detail"] != "The request is well-formed but some values are invalid."
    body = assert_problem(client.get("/api/v1/public/stats", query_string=params,
                                     headers={"Accept-Language": "en-GB,en;q=0.8"}), 422)
    assert any(english in message for message in body["errors"][field]), body


def test_staff_api_speaks_english_unless_asked_for_vietnamese(client):
    assert assert_problem(client.get("/api/v1/dossiers"), 401)["detail"] == "A bearer token is required."
    assert assert_problem(client.get("/api/v1/dossiers", headers={"Accept-Language": "vi"}), 401)["detail"] == (
        "Cần gửi mã truy cập (bearer token).")
    assert assert_problem(client.get("/api/v1/nothing-here"), 404)["detail"] == "No such resource."


@pytest.fixture
def limited(make_app):
    app = make_app(TRACKER_RATELIMIT_PUBLIC="2/minute")
    code = _seed(app)
    with app.app_context():
        limiter.reset()
    return app, code


def _use_up(client, me, path):
    for _ in range(2):
        assert client.get(path, environ_base=me).status_code in (200, 404)


@pytest.mark.parametrize("path", ["/lookup", "/stats", "/embed/stats"])
def test_a_page_visitor_over_the_limit_gets_a_page_saying_when(limited, path):
    app, code = limited
    client = app.test_client()
    me = {"REMOTE_ADDR": _ip()}
    _use_up(client, me, path)
    response = client.get(path, environ_base=me, headers={"Accept-Language": "en"})
    assert response.status_code == 429 and response.mimetype == "text/html"
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 60
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html and f"Vui lòng thử lại sau {seconds} giây." in html
    assert f'data-retry-after="{seconds}"' in html and "Content-Security-Policy" in response.headers
    assert "store" in response.headers["Cache-Control"]
    # In English once picked (the cookie is set by the refused request too).
    english = client.get(path + "?lang=en", environ_base=me)
    assert english.status_code == 429
    text = english.get_data(as_text=True)
    assert '<html lang="en">' in text and re.search(r"Please try again in \d+ seconds?\.", text)


def test_the_widget_s_429_page_may_still_be_framed_by_the_portal(limited):
    app, _ = limited
    client = app.test_client()
    me = {"REMOTE_ADDR": _ip()}
    _use_up(client, me, "/embed/stats")
    response = client.get("/embed/stats", environ_base=me)
    assert response.status_code == 429
    assert "frame-ancestors 'self' https://portal.example.vn" in response.headers["Content-Security-Policy"]


def test_the_api_keeps_its_problem_document(limited):
    app, code = limited
    client = app.test_client()
    me = {"REMOTE_ADDR": _ip()}
    _use_up(client, me, "/api/v1/public/stats")
    body = assert_problem(client.get("/api/v1/public/stats", environ_base=me), 429)
    assert body["detail"].startswith("Địa chỉ của bạn đã gửi quá nhiều yêu cầu")
    assert client.get("/api/v1/public/stats", environ_base=me).headers["Retry-After"].isdigit()
    english = assert_problem(client.get("/api/v1/public/stats", environ_base=me,
                                        headers={"Accept-Language": "en"}), 429)
    assert english["detail"].startswith("Too many requests from your address")


@pytest.mark.parametrize("value", ["-1", "many"])
def test_a_negative_minimum_on_the_dashboard_is_refused(city, client, value):
    response = client.get("/stats", query_string={"min_resolved": value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<li data-field="min_resolved"><strong>Số hồ sơ đã giải quyết tối thiểu để xếp hạng</strong>' in html
    assert "Phải" in html  # the reason, in Vietnamese


def test_the_dashboard_remembers_english(city, client):
    assert '<html lang="en">' in client.get("/stats?lang=en").get_data(as_text=True)
    html = client.get("/embed/stats", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Received" in html
    assert '<html lang="vi">' in client.get("/stats?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in client.get("/lookup").get_data(as_text=True)
