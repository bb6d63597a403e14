"""/stats and /embed/stats through the test client: language, errors, headers, no other hosts."""
from __future__ import annotations

import re

import pytest

from tests.api.test_statistics_api import DEPT, ROOT, SUB, history  # noqa: F401  (the fixture)


def test_dashboard_in_vietnamese_by_default(client, history):  # noqa: F811
    response = client.get("/stats", query_string={"period": "2025-Q1", "agency": ROOT, "min_resolved": 1},
                          headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    for text in ("Thống kê giải quyết thủ tục hành chính", "Kỳ trước chuyển qua", "Trong hạn",
                 "Xếp hạng theo tỷ lệ giải quyết đúng hạn", "<svg", 'id="ii06a"'):
        assert text in html, text
    # The form's two header rows: the groups over their columns, the single columns spanning both rows.
    for key, span, label in (("received", 5, "Tiếp nhận"), ("resolved", 4, "Đã giải quyết"),
                             ("pending", 3, "Đang giải quyết")):
        assert re.search(rf'<th scope="colgroup" data-key="{key}"[^>]* colspan="{span}">'
                         rf'<span class="group-label">{label}</span></th>', html), key
    assert re.search(r'<th scope="col" data-key="withdrawn"[^>]* rowspan="2">Rút hồ sơ</th>', html)
    assert re.search(r'<g class="bar" data-key="000\.01\.00\.H57" data-early="1" data-on-time="2"\s+data-late="4"',
                     html), html
    # Nothing from other hosts, no script at all.
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and re.search(r"frame-ancestors 'self'(;|$)", policy)
    assert response.headers.get("X-Frame-Options") is None


def test_dashboard_in_english_and_by_month(client, history):  # noqa: F811
    html = client.get("/stats", query_string={"period": "2025-Q1", "group_by": "month", "lang": "en"}).get_data(
        as_text=True)
    assert '<html lang="en">' in html and ">Received</span></th>" in html and "Resolved dossiers" in html
    assert [m for m in re.findall(r'<g class="bar" data-key="([^"]+)"', html)] == ["2025-01", "2025-02", "2025-03"]
    assert 'name="lang" value="en"' in html  # the form keeps the language


def test_the_only_top_level_agency_is_opened(client, history):  # noqa: F811
    html = client.get("/stats", query_string={"period": "2025-Q1"}).get_data(as_text=True)
    assert re.findall(r'<g class="bar" data-key="([^"]+)"', html) == [DEPT, "000.02.00.H57"]
    link = re.search(r'href="([^"]*)" id="api-link"', html).group(1)
    assert link == f"/api/v1/public/stats?period=2025-Q1&amp;group_by=agency&amp;agency={ROOT}"


@pytest.mark.parametrize("params, field", [({"period": "2026-Q7"}, "period"), ({"agency": "nope"}, "agency"),
                                           ({"group_by": "procedure"}, "group_by"),
                                           ({"from": "2025-03-02", "to": "2025-03-01"}, "to")])
@pytest.mark.parametrize("path", ["/stats", "/embed/stats"])
def test_impossible_requests_show_the_reason(city, client, path, params, field):
    response = client.get(path, query_string=params)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and f'<li data-field="{field}">' in html
    assert "Traceback" not in html


def test_embed_may_be_framed_by_the_portal(client, history):  # noqa: F811
    response = client.get("/embed/stats", query_string={"period": "2025-Q1", "agency": DEPT})
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert re.search(r"frame-ancestors 'self' https://portal\.example\.vn(;|$)", policy), policy
    assert response.headers.get("X-Frame-Options") is None
    html = response.get_data(as_text=True)
    assert "<form" not in html and "<header" not in html
    assert re.findall(r'<g class="bar" data-key="([^"]+)"', html) == [DEPT, SUB]


def test_pages_are_cached_briefly(client, history):  # noqa: F811
    first = client.get("/embed/stats", query_string={"period": "2025-Q1"})
    assert "max-age=" in first.headers["Cache-Control"]
    again = client.get("/embed/stats", query_string={"period": "2025-Q1"},
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_stylesheet_is_served_here(client):
    response = client.get("/assets/stats.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert "http" not in response.get_data(as_text=True)
