"""The statistics dashboard and the portal's widget in a real Chromium (Playwright, Debian's chromium).

The app is served by werkzeug in a thread on 127.0.0.1; a stand-in for the portal is a
second tiny server on another loopback address (127.0.0.2), whose origin is listed in
TRACKER_CORS_ORIGINS, and a third one that is not listed.
"""
from __future__ import annotations

import re
import threading
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.conftest import Auth, Factory
from tracker.domain.statistics import II06A_COLUMNS
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT, DEPT, SUB, OTHER = "000.00.00.H57", "000.01.00.H57", "000.01.01.H57", "000.02.00.H57"


class Served:
    """A WSGI app on a free port of a loopback address, in a thread."""

    def __init__(self, app, host: str = "127.0.0.1"):
        self.server = make_server(host, 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.origin = f"http://{host}:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def portal_page(widget_url: str):
    """A stand-in for the city portal: one page that frames the widget."""

    @Request.application
    def portal(request):
        html = (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Cổng thông tin</title></head>'
                f'<body><h1>Cổng thông tin điện tử</h1>'
                f'<iframe id="widget" title="Thống kê" src="{widget_url}" width="360" height="640"></iframe>'
                f'</body></html>')
        return Response(html, mimetype="text/html")

    return portal


def _history(app) -> None:
    """A few dossiers in the first quarter of 2025, loaded through the API as the admin."""
    factory = Factory(app)
    factory.agency(ROOT, "UBND thành phố Huế", level="province")
    factory.agency(DEPT, "Sở Tư pháp", parent=ROOT, level="department")
    factory.agency(SUB, "Phòng Hộ tịch", parent=DEPT)
    factory.agency(OTHER, "Sở Xây dựng", parent=ROOT, level="department")
    factory.procedure("1.000001", 3, "working_days")
    factory.procedure("1.000002", 4, "working_hours", field="Chứng thực")
    factory.user("admin", "admin")
    client = app.test_client()
    headers = Auth(client).headers("admin")

    def at(text):
        return datetime.fromisoformat(text).replace(tzinfo=TZ).isoformat()

    plans = [
        (DEPT, "direct", "1.000001", "2025-01-24 10:00", [("complete", "2025-02-05 09:00")]),
        (DEPT, "online", "1.000001", "2025-01-24 16:00", [("complete", "2025-02-04 10:00")]),
        (SUB, "postal", "1.000001", "2025-02-03 08:00", [("request_supplement", "2025-02-04 09:00"),
                                                         ("receive_supplement", "2025-02-07 10:00"),
                                                         ("complete", "2025-02-12 09:00")]),
        (OTHER, "direct", "1.000001", "2025-02-04 09:00", [("withdraw", "2025-02-05 10:00")]),
        (OTHER, "online", "1.000001", "2025-02-10 09:00", [("complete", "2025-02-11 09:00")]),
        (OTHER, "online", "1.000002", "2025-03-04 10:00", [("complete", "2025-03-04 16:05")]),
        (DEPT, "direct", "1.000001", "2025-03-26 09:00", []),
        (SUB, "direct", "1.000002", "2025-03-03 15:30", [("complete", "2025-03-04 11:30")]),
    ]
    for agency, channel, procedure, accepted, steps in plans:
        created = client.post("/api/v1/dossiers", headers=headers, json={
            "procedure_code": procedure, "channel": channel, "agency_code": agency,
            "applicant": {"name": "Phạm Thị Dung"}, "accepted_at": at(accepted)})
        assert created.status_code == 201, created.get_json()
        code = created.get_json()["code"]
        for action, when in [("process", accepted)] + steps:
            body = {"action": action, "at": at(when), "reason": "Lý do"}
            if action == "complete":
                body["result"] = "approved"
            response = client.post(f"/api/v1/dossiers/{code}/steps", headers=headers, json=body)
            assert response.status_code == 201, response.get_json()


@pytest.fixture
def portals(make_app):
    """The app with data, a listed portal origin and an unlisted one; yields (app origin, portal, stranger)."""
    listed = Served(lambda environ, start: portal_app(environ, start), host="127.0.0.2")
    unlisted = Served(lambda environ, start: stranger_app(environ, start), host="127.0.0.2")
    app = make_app(TRACKER_CORS_ORIGINS=[listed.origin])
    _history(app)
    served = Served(app)
    widget = f"{served.origin}/embed/stats?period=2025-Q1&agency={ROOT}"
    portal_app = portal_page(widget)
    stranger_app = portal_page(widget)
    yield served.origin, listed.origin, unlisted.origin
    for server in (served, listed, unlisted):
        server.stop()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    page.requests, page.console = [], []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("console", lambda message: page.console.append(message.text))
    yield page
    context.close()


def _number(text: str) -> float | None:
    """A number as the page prints it in Vietnamese: 1.234 / 83,33% / 4,50; a dash for none."""
    text = text.strip().lstrip("▲■▼").strip()  # a rate's grade mark
    if text in ("–", ""):
        return None
    if text.endswith("%"):
        return round(float(text[:-1].replace(".", "").replace(",", ".")) / 100, 4)
    return float(text.replace(".", "").replace(",", "."))


def _value(counters: dict, path: str):
    for part in path.split("."):
        counters = counters[part]
    return counters


def _check_against_api(page, api: dict) -> None:
    """The chart's bars and the II.06a table carry the figures of the API answer."""
    bars = page.eval_on_selector_all("svg.bars g.bar", """els => els.map(e => ({
        key: e.dataset.key, early: +e.dataset.early, on_time: +e.dataset.onTime, late: +e.dataset.late,
        shown: [...e.querySelectorAll('tspan')].map(t => t.textContent)}))""")
    assert [b["key"] for b in bars] == [g["key"] for g in api["groups"]]
    for bar, group in zip(bars, api["groups"]):
        resolved = group["resolved"]
        assert (bar["early"], bar["on_time"], bar["late"]) == (resolved["early"], resolved["on_time"], resolved["late"])
        assert [_number(t) for t in bar["shown"]] == [resolved["early"], resolved["on_time"], resolved["late"]]
    rows = page.eval_on_selector_all("#ii06a tbody tr", """rows => rows.map(r => ({
        key: r.dataset.key || null, cells: [...r.querySelectorAll('td')].slice(2).map(c => c.textContent)}))""")
    assert [r["key"] for r in rows] == [g["key"] for g in api["groups"]] + [None]
    for row, counters in zip(rows, api["groups"] + [api["totals"]]):
        for (path, *_), shown in zip(II06A_COLUMNS, row["cells"]):
            expected = _value(counters, path)
            if expected is not None and path.endswith("rate"):
                expected = round(expected, 4)
            assert _number(shown) == (None if expected is None else pytest.approx(expected, abs=0.005)), (
                row["key"], path, shown, expected)


def test_the_dashboard_shows_the_api_figures_on_a_phone(portals, phone):
    origin, _, _ = portals
    page = phone
    response = page.goto(f"{origin}/stats?period=2025-Q1&agency={ROOT}&min_resolved=1")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == "Thống kê giải quyết thủ tục hành chính"
    api = page.request.get(f"{origin}/api/v1/public/stats?period=2025-Q1&agency={ROOT}&group_by=agency").json()
    assert api["groups"], api
    _check_against_api(page, api)
    assert page.locator("#api-link").get_attribute("href").startswith("/api/v1/public/stats?")
    # The ranking: on-time rate, best first, among groups with at least one resolved dossier.
    ranked = page.eval_on_selector_all("#ranking li", "els => els.map(e => e.dataset.key)")
    expected = sorted((g for g in api["groups"] if g["resolved"]["total"] >= 1),
                      key=lambda g: (-(g["on_time_rate"] or 0), -g["resolved"]["total"], g["key"]))
    assert ranked == [g["key"] for g in expected]
    # A phone: the page itself never scrolls sideways (the wide table scrolls inside its box).
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert page.locator("svg.bars").bounding_box()["width"] <= PHONE["width"]
    # Nothing from other hosts.
    assert all(urlsplit(url).netloc == urlsplit(origin).netloc for url in page.requests), page.requests

    # The pickers: a GET form; by month, the chart follows.
    page.select_option("#group_by", "month")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "group_by=month" in page.url
    monthly = page.request.get(f"{origin}/api/v1/public/stats?period=2025-Q1&agency={ROOT}&group_by=month").json()
    _check_against_api(page, monthly)
    assert [g["key"] for g in monthly["groups"]] == ["2025-01", "2025-02", "2025-03"]

    page.goto(f"{origin}/stats?period=2025-Q1&agency={DEPT}&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#chart figcaption").inner_text().startswith("Resolved dossiers")
    english = page.request.get(f"{origin}/api/v1/public/stats?period=2025-Q1&agency={DEPT}&group_by=agency").json()
    bars = page.eval_on_selector_all("svg.bars g.bar", "els => els.map(e => e.dataset.key)")
    assert bars == [g["key"] for g in english["groups"]] == [DEPT, SUB]


def test_the_widget_is_framed_by_the_listed_portal_only(portals, phone):
    origin, portal, stranger = portals
    page = phone
    page.goto(portal + "/")
    frame = page.frame_locator("#widget")
    frame.locator("#ii06a").wait_for(timeout=15000)
    api = page.request.get(f"{origin}/api/v1/public/stats?period=2025-Q1&agency={ROOT}&group_by=agency").json()
    widget = next(f for f in page.frames if f.url.startswith(origin + "/embed/stats"))
    _check_against_api(widget, api)
    assert widget.locator("form").count() == 0  # minimal: no pickers

    refused = page.context.new_page()
    messages: list[str] = []
    refused.on("console", lambda message: messages.append(message.text))
    refused.goto(stranger + "/")
    refused.wait_for_timeout(1500)
    frames = [f for f in refused.frames if f != refused.main_frame]
    assert frames, "the iframe element exists"
    assert all(f.locator("#ii06a").count() == 0 for f in frames if not f.is_detached())
    assert not any(f.url.startswith(origin + "/embed/stats") and f.locator("#ii06a").count() for f in frames)
    assert any("frame-ancestors" in m for m in messages), messages


def test_the_widget_headers(portals, phone):
    origin, portal, stranger = portals
    response = phone.request.get(f"{origin}/embed/stats?period=2025-Q1")
    policy = response.headers["content-security-policy"]
    ancestors = re.search(r"frame-ancestors ([^;]*)", policy).group(1).split()
    assert ancestors == ["'self'", portal]
    assert stranger not in policy
    assert "x-frame-options" not in response.headers
    dashboard = phone.request.get(f"{origin}/stats?period=2025-Q1")
    assert re.search(r"frame-ancestors 'self'(;|$)", dashboard.headers["content-security-policy"])
