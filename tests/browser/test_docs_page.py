"""/docs renders Swagger UI under its Content-Security-Policy, with no violation reported."""
from __future__ import annotations

import pytest

from tests.browser.test_lookup_page import served  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_under_its_policy(browser, served, tmp_path):  # noqa: F811
    page = browser.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    response = page.goto(served + "/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-tag", timeout=20000)
    assert page.locator(".opblock").count() > 25
    page.screenshot(path=str(tmp_path / "docs.png"))
    assert refused == []
