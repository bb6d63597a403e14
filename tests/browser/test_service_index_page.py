"""The service-index page, its widget and the late dossiers, in a real Chromium on a 360 px phone."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import PHONE
from tests.browser.test_stats_pages import DEPT, OTHER, ROOT, Served, _history

pytestmark = pytest.mark.browser
SHOTS = "/tmp"


@pytest.fixture
def served(make_app):
    app = make_app()
    _history(app)
    server = Served(app)
    yield server.origin
    server.stop()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()


def test_the_index_page_ranks_the_agencies_as_the_api_scores_them(served, phone):
    page = phone
    response = page.goto(f"{served}/stats/index?period=2025-Q1&agency={ROOT}&min_resolved=1")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Chỉ số phục vụ người dân, doanh nghiệp"
    api = page.request.get(f"{served}/api/v1/public/service-index?period=2025-Q1&agency={ROOT}"
                           "&group_by=agency&min_resolved=1").json()
    expected = sorted(api["groups"], key=lambda g: (-g["score"], g["key"]))
    assert len(expected) == 2
    bars = page.eval_on_selector_all("#index-chart g.bar", "els => els.map(e => [e.dataset.key, e.dataset.score, "
                                                           "e.dataset.max])")
    assert bars == [[g["key"], str(g["score"]), str(g["max_score"])] for g in expected]
    rows = page.eval_on_selector_all("#index-table tbody tr[data-key]", "els => els.map(e => e.dataset.key)")
    assert rows == [g["key"] for g in expected]
    total = page.locator("#index-table tr.total td.score").inner_text()
    assert float(total) == api["totals"]["score"]
    # The late dossiers of the quarter: those the API lists.
    late = page.request.get(f"{served}/api/v1/public/late-dossiers?period=2025-Q1&agency={ROOT}").json()
    listed = page.eval_on_selector_all("#late-table tbody tr", "els => els.map(e => e.dataset.code)")
    assert listed == [e["code"] for e in late["items"]] and listed
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert page.locator("#index-chart svg").bounding_box()["width"] <= PHONE["width"]
    assert all(urlsplit(url).netloc == urlsplit(served).netloc for url in page.requests), page.requests
    page.screenshot(path=f"{SHOTS}/service-index-phone.png", full_page=True)

    # The form is a plain GET: another agency, fewer groups.
    page.select_option("#agency", DEPT)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert f"agency={DEPT}" in page.url.replace("%2E", ".")
    keys = page.eval_on_selector_all("#index-chart g.bar", "els => els.map(e => e.dataset.key)")
    assert OTHER not in keys


def test_the_index_widget(served, phone):
    page = phone
    response = page.goto(f"{served}/embed/stats?view=index&period=2025-Q1&agency={ROOT}&min_resolved=1&lang=en")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Service index for citizens and businesses"
    assert page.locator("#index-chart g.bar").count() == 2
    assert page.locator("#late").count() == 0  # the widget is the chart and the table only
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=f"{SHOTS}/service-index-widget.png", full_page=True)


def test_the_applicant_evaluates_with_the_form_on_a_phone(make_app, phone):
    from tests.conftest import Auth, Factory

    app = make_app()
    factory = Factory(app)
    factory.agency(DEPT, "Sở Tư pháp")
    factory.procedure("1.000001", 3, "working_days")
    factory.user("clerk", "clerk", DEPT)
    client = app.test_client()
    headers = Auth(client).headers("clerk")
    code = client.post("/api/v1/dossiers", headers=headers, json={
        "procedure_code": "1.000001", "channel": "direct",
        "applicant": {"name": "Lê Văn Tư", "phone": "0912345678"}}).get_json()["code"]
    for body in ({"action": "process"}, {"action": "complete", "result": "approved"}):
        assert client.post(f"/api/v1/dossiers/{code}/steps", headers=headers, json=body).status_code == 201
    server = Served(app)
    try:
        page = phone
        assert page.goto(f"{server.origin}/lookup/evaluation?code={code}").status == 200
        page.screenshot(path=f"{SHOTS}/evaluation-form.png", full_page=True)
        # The comment box and the pickers take the width of the form, as the text fields do.
        for field in ("#comment", "#verify"):
            assert page.eval_on_selector(field, "e => e.getBoundingClientRect().width") >= PHONE["width"] * 0.8
        page.fill("#verify", "0912345678")
        page.check("input[name=overall][value=very_satisfied]")
        page.fill("#comment", "Cán bộ hướng dẫn tận tình")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert page.locator("#evaluation-done").inner_text() == "Cảm ơn ông/bà đã đánh giá."
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=f"{SHOTS}/evaluation-phone.png", full_page=True)
        staff = client.get(f"/api/v1/dossiers/{code}/evaluation", headers=headers).get_json()
        assert (staff["overall"], staff["comment"]) == ("very_satisfied", "Cán bộ hướng dẫn tận tình")
        assert page.request.get(f"{server.origin}/api/v1/public/stats").ok
    finally:
        server.stop()
