"""A person on a phone looks up a dossier in a real Chromium (Playwright, Debian's chromium)."""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tracker.domain.people import mask_name
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser



@pytest.fixture
def served(app):
    """The test app on a free local port, in a thread, for the time of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def dossier(client, city, auth) -> str:
    """A dossier in processing, with a note for the citizen and one for the office only."""
    clerk = auth.headers("clerk")
    created = client.post("/api/v1/dossiers", headers=clerk, json={
        "procedure_code": "1.000001", "channel": "online",
        "applicant": {"name": "Nguyễn Thị Hồng Nhung", "id_number": "046195001122", "phone": "0912345678",
                      "address": "27 Trần Phú, phường Phú Xuân, Huế"}})
    assert created.status_code == 201, created.get_data(as_text=True)
    code = created.get_json()["code"]
    step = client.post(f"/api/v1/dossiers/{code}/steps", headers=clerk, json={
        "action": "process", "public_note": "Hồ sơ đã chuyển Phòng Hộ tịch thẩm định",
        "note": "Kiểm tra lại bản sao giấy khai sinh", "handler": "Lê Văn Tám"})
    assert step.status_code == 201, step.get_data(as_text=True)
    return code


@pytest.fixture
def phone(browser, served):
    """A phone-sized page that records every request and console error."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN", extra_http_headers={"Accept-Language": "vi"})
    page = context.new_page()
    page.requests, page.errors = [], []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def _no_horizontal_scrolling(page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


def test_a_citizen_looks_up_a_dossier_on_a_phone(phone, served, dossier, tmp_path):
    page = phone
    response = page.goto(served + "/lookup")
    assert response.status == 200
    assert page.evaluate("document.documentElement.lang") == "vi"
    _no_horizontal_scrolling(page)

    # Keyboard order: skip link, language switch, the code field, the button.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "code"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "the focused field must show where the focus is"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"

    # The person types the code as it is printed, in lower case with stray spaces, and submits.
    field = page.get_by_label("Mã hồ sơ")
    field.fill(f"  {dossier.lower()} ")
    with page.expect_navigation():
        page.get_by_role("button", name="Tra cứu").click()
    assert urlsplit(page.url).path == "/lookup"
    assert page.locator(".status-label").inner_text() == "Đang xử lý"
    assert page.locator("#result-title").inner_text() == f"Hồ sơ {dossier}"
    assert "Đang trong hạn" in page.locator("#deadline-badge").inner_text()
    assert page.locator(".facts .name").inner_text() == mask_name("Nguyễn Thị Hồng Nhung") == "N***** T** H*** N****"
    timeline = page.locator("ol.timeline > li .step-label").all_inner_texts()
    assert timeline == ["Tiếp nhận hồ sơ", "Chuyển xử lý hồ sơ"]
    assert "Hồ sơ đã chuyển Phòng Hộ tịch thẩm định" in page.locator("ol.timeline").inner_text()
    assert page.locator("figure.qr svg").is_visible()
    text = page.locator("body").inner_text()
    for secret in ("Nguyễn Thị", "046195001122", "0912345678", "Trần Phú", "giấy khai sinh", "Lê Văn Tám"):
        assert secret not in text, secret
    _no_horizontal_scrolling(page)
    shot = tmp_path / "lookup-phone.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    # The English switch keeps the dossier, and so does the next search.
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator(".status-label").inner_text() == "Processing"
    assert page.locator("ol.timeline > li .step-label").all_inner_texts() == [
        "Dossier accepted", "Dossier forwarded for processing"]
    assert "Within the deadline" in page.locator("#deadline-badge").inner_text()
    _no_horizontal_scrolling(page)
    page.screenshot(path=str(tmp_path / "lookup-phone-en.png"), full_page=True)
    page.get_by_label("Dossier code").fill("000.01.00.H57-990101-0001")
    with page.expect_navigation():
        page.get_by_role("button", name="Look up").click()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "No dossier has the code 000.01.00.H57-990101-0001" in page.locator("[role=alert]").inner_text()
    _no_horizontal_scrolling(page)

    # Nothing came from another host, and the Content-Security-Policy refused nothing of ours.
    origin = served + "/"
    assert [url for url in page.requests if not url.startswith(origin)] == []
    assert [e for e in page.errors if "404" not in e] == []  # only the unknown code's own 404


def test_an_unknown_code_gets_help_not_an_error_page(phone, served, dossier):
    response = phone.goto(served + "/lookup?code=ABC")
    assert response.status == 404
    alert = phone.locator("[role=alert]").inner_text()
    assert "Không tìm thấy hồ sơ có mã ABC" in alert and "Phiếu tiếp nhận" in alert
    assert phone.get_by_label("Mã hồ sơ").input_value() == "ABC"
    _no_horizontal_scrolling(phone)
