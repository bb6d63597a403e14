"""The pages at 360×740 (a phone) and 1280×900 (a desk) in a real Chromium: what a stopped, a paused
and a supplement-requested dossier say, the 429 page, the II.06a table's two header rows, and the
widget in the portal's 640-px iframe. Screenshots go to tests/browser/screenshots/ (not in git)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.test_lookup_wording import ASKED, PAUSED, PAYMENT, _shown, view
from tests.browser.conftest import PHONE
from tests.browser.test_stats_pages import ROOT, Served, _history, portal_page
from tests.conftest import Auth, Factory
from tracker.services.lookup import Lookup

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "screenshots"
DESK = {"width": 1280, "height": 900}
SIZES = {"phone": PHONE, "desk": DESK}


@pytest.fixture(params=["phone", "desk"])
def size(request):
    return request.param


@pytest.fixture
def page(browser, size):
    context = browser.new_context(viewport=SIZES[size], locale="vi-VN")
    opened = context.new_page()
    yield opened
    context.close()


def shot(page, name: str, size: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}-{size}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000
    return path


def no_sideways_scrolling(page, size: str) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= SIZES[size]["width"], f"the page is {width}px wide on a {SIZES[size]['width']}px screen"


@pytest.fixture
def served_app(make_app):
    app = make_app()
    server = Served(app)
    yield app, server.origin
    server.stop()


def test_a_supplement_request_shows_what_is_asked(served_app, page, size, monkeypatch):
    app, origin = served_app
    shown = view("supplement_requested", None, False)
    monkeypatch.setattr("tracker.web.lookup.find_public", lambda code, lang, verify=None: Lookup(shown, False, False))
    page.goto(f"{origin}/lookup?code={shown['code']}")
    badge = page.locator("#deadline-badge").inner_text()
    assert f"Tạm dừng tính thời gian giải quyết từ {_shown(PAUSED)}" in badge and "Đang trong hạn" not in badge
    assert page.locator("#situation-reason").inner_text() == ASKED
    assert page.locator("#situation-reason").is_visible()
    assert f"Nội dung cần bổ sung: {ASKED}" in page.locator("ol.timeline").inner_text()
    assert page.locator(".facts .appointment").count() == 0
    no_sideways_scrolling(page, size)
    shot(page, "lookup-supplement", size)


def test_a_paused_dossier_promises_no_date(served_app, page, size, monkeypatch):
    app, origin = served_app
    shown = view("payment_requested", None, True)
    monkeypatch.setattr("tracker.web.lookup.find_public", lambda code, lang, verify=None: Lookup(shown, False, False))
    page.goto(f"{origin}/lookup?code={shown['code']}")
    kinds = page.eval_on_selector_all("#deadline-badge .badge", "els => els.map(e => e.dataset.kind)")
    assert kinds == ["paused", "overdue"]
    assert page.locator("#situation-reason").inner_text() == PAYMENT
    assert "Ngày hẹn mới được tính lại" in page.locator(".facts").inner_text()
    no_sideways_scrolling(page, size)
    shot(page, "lookup-paused", size)


def test_a_stopped_dossier_is_stopped(served_app, page, size):
    app, origin = served_app
    factory = Factory(app)
    factory.agency("000.01.00.H57", "Sở Tư pháp")
    factory.procedure("1.000001", 3, "working_days")
    factory.user("clerk", "clerk", "000.01.00.H57")
    client = app.test_client()
    headers = Auth(client).headers("clerk")
    code = client.post("/api/v1/dossiers", headers=headers, json={
        "procedure_code": "1.000001", "channel": "direct", "applicant": {"name": "Trần Thị Bích"}}).get_json()["code"]
    for step in ({"action": "process"}, {"action": "stop", "reason": "Người nộp đề nghị dừng",
                                         "public_note": "Hồ sơ dừng theo đề nghị của người nộp"}):
        assert client.post(f"/api/v1/dossiers/{code}/steps", headers=headers, json=step).status_code == 201
    page.goto(f"{origin}/lookup?code={code}")
    assert page.locator(".status-label").inner_text() == "Dừng xử lý"
    badges = page.eval_on_selector_all("#deadline-badge .badge", "els => els.map(e => e.dataset.kind)")
    assert badges == ["stopped"]
    result = page.locator(".result").inner_text()
    assert "Hoàn thành" not in result and "đúng hạn" not in result.lower() and "Ngày dừng xử lý" in result
    assert "Cơ quan đã dừng xử lý hồ sơ này" in result
    no_sideways_scrolling(page, size)
    shot(page, "lookup-stopped", size)


def test_the_429_page(make_app, page, size):
    app = make_app(TRACKER_RATELIMIT_PUBLIC="2/minute")
    from tracker.extensions import limiter

    with app.app_context():
        limiter.reset()
    server = Served(app)
    try:
        for year in (2024, 2025):  # two addresses: the browser may cache a page it has seen
            assert page.goto(f"{server.origin}/stats?period={year}").status == 200
        response = page.goto(server.origin + "/lookup?code=000.01.00.H57-250124-0001")
        assert response.status == 429
        seconds = int(response.headers["retry-after"])
        assert page.locator("#rate-limited .retry").inner_text() == f"Vui lòng thử lại sau {seconds} giây."
        assert page.locator("html").get_attribute("lang") == "vi"
        no_sideways_scrolling(page, size)
        shot(page, "too-many", size)
    finally:
        server.stop()


@pytest.fixture
def stats_origin(make_app):
    app = make_app()
    _history(app)
    server = Served(app)
    yield server.origin
    server.stop()


def test_the_table_has_two_header_rows_and_fits(stats_origin, page, size):
    page.goto(f"{stats_origin}/stats?period=2025-Q1&agency={ROOT}&min_resolved=1")
    top = page.eval_on_selector_all("#ii06a thead tr.groups th",
                                    "els => els.map(e => [e.textContent, e.colSpan, e.rowSpan])")
    assert top[3:6] == [["Tiếp nhận", 5, 1], ["Đã giải quyết", 4, 1], ["Đang giải quyết", 3, 1]]
    assert top[6] == ["Rút hồ sơ", 1, 2]
    under = page.eval_on_selector_all("#ii06a thead tr.columns th", "els => els.map(e => e.textContent)")
    assert under == ["Tổng số", "Kỳ trước chuyển qua", "Trực tuyến", "Trực tiếp", "Dịch vụ bưu chính",
                     "Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn", "Tổng số", "Trong hạn", "Quá hạn"]
    # Rates carry a mark and a colour by grade.
    grades = page.eval_on_selector_all("#ii06a td.rate",
                                       "els => els.map(e => [e.dataset.grade, e.textContent.trim()[0]])")
    assert grades and all({"good": "▲", "fair": "■", "poor": "▼"}[g] == mark for g, mark in grades)
    no_sideways_scrolling(page, size)
    wrap = page.evaluate("(() => { const w = document.querySelector('.table-wrap'); "
                         "return [w.scrollWidth, w.clientWidth]; })()")
    if size == "desk":
        assert wrap[0] <= wrap[1], f"the table needs {wrap[0]}px in {wrap[1]}px at 1280"
    else:
        # A phone: the figures scroll inside their box; the group's name stays in view.
        name = page.locator("#ii06a tbody tr:first-child th")
        before = name.bounding_box()["x"]
        page.evaluate("document.querySelector('.table-wrap').scrollLeft = 400")
        assert abs(name.bounding_box()["x"] - before) < 1
        assert name.bounding_box()["width"] >= 100
        # The group of the columns in view is still named, just right of the name column.
        edge = name.bounding_box()["x"] + name.bounding_box()["width"]
        labels = page.eval_on_selector_all("#ii06a .group-label", """els => els.map(e => {
            const box = e.getBoundingClientRect(); return [e.textContent, box.left]; })""")
        assert any(0 <= left - edge < 24 for _, left in labels), (edge, labels)
        shot(page, "stats-table-scrolled", size)
        page.evaluate("document.querySelector('.table-wrap').scrollLeft = 0")
    shot(page, "stats-table", size)
    # In English, once picked; the same layout.
    page.goto(f"{stats_origin}/stats?period=2025-Q1&agency={ROOT}&min_resolved=1&lang=en")
    top = page.eval_on_selector_all("#ii06a thead tr.groups th", "els => els.map(e => e.textContent)")
    assert top[3:7] == ["Received", "Resolved", "Pending", "Withdrawn"]
    no_sideways_scrolling(page, size)
    shot(page, "stats-table-en", size)


def test_the_widget_in_a_640px_iframe(make_app, page, size):
    portal_host = {}
    portal = Served(lambda environ, start: portal_host["app"](environ, start), host="127.0.0.2")
    app = make_app(TRACKER_CORS_ORIGINS=[portal.origin])
    _history(app)
    server = Served(app)
    portal_host["app"] = portal_page(f"{server.origin}/embed/stats?period=2025-Q1&agency={ROOT}")
    try:
        page.goto(portal.origin + "/")
        frame_element = page.locator("#widget")
        assert frame_element.evaluate("e => e.clientHeight") == 640
        widget = page.frame_locator("#widget")
        widget.locator("#headline").wait_for(timeout=15000)
        frame = next(f for f in page.frames if f.url.startswith(server.origin + "/embed/stats"))
        labels = frame.eval_on_selector_all("#headline dt", "els => els.map(e => e.textContent)")
        assert labels == ["Tiếp nhận", "Đã giải quyết", "Tỷ lệ đúng hạn"]
        # The headline and the link to the dashboard are in the first 640 px of the frame.
        assert frame.evaluate("document.querySelector('#headline').getBoundingClientRect().bottom") <= 640
        assert frame.evaluate("document.querySelector('#more').getBoundingClientRect().bottom") <= 640
        assert frame.locator("#more a").first.get_attribute("href").startswith("/stats?")
        # No row is hidden: the frame scrolls to the total row.
        frame.locator("#ii06a tr.total").scroll_into_view_if_needed()
        assert frame.locator("#ii06a tr.total").is_visible()
        assert frame.evaluate("document.scrollingElement.scrollWidth") <= 360
        page.evaluate("window.scrollTo(0, 0)")
        frame.evaluate("window.scrollTo(0, 0)")
        shot(page, "widget-iframe", size)
    finally:
        server.stop()
        portal.stop()
