"""/stats/index and /embed/stats?view=index through the test client: language, errors, headers, the 429 page."""
from __future__ import annotations

import re

import pytest

from tests.api.test_languages import _use_up, limited  # noqa: F401  (the fixture)
from tests.api.test_public import _ip
from tests.api.test_statistics_api import DEPT, ROOT, history  # noqa: F401  (the fixture)


def test_the_index_page_in_vietnamese_then_english(client, history):  # noqa: F811
    query = {"period": "2025-Q1", "agency": ROOT, "min_resolved": 1}
    html = client.get("/stats/index", query_string=query, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="vi">' in html
    for text in ("<h1>Chỉ số phục vụ người dân, doanh nghiệp</h1>", "Điểm theo nhóm chỉ số", "Tiến độ giải quyết",
                 "Hồ sơ trễ hạn", "Từ 01/01/2025 đến 31/03/2025", "từ 1 hồ sơ trở lên"):
        assert text in html, text
    english = client.get("/stats/index", query_string={**query, "lang": "en"})
    text = english.get_data(as_text=True)
    assert '<html lang="en">' in text and "<h1>Service index for citizens and businesses</h1>" in text
    assert "1 Jan 2025 to 31 Mar 2025" in text and "at least 1 dossier are ranked" in text
    assert 'name="lang" value="en"' in text and english.headers["Set-Cookie"].startswith("lang=en")
    assert "Chỉ số" not in re.sub(r'<nav class="languages".*?</nav>', "", text, flags=re.S)


@pytest.mark.parametrize("params, field, label", [({"period": "2026-Q7"}, "period", "Kỳ báo cáo"),
                                                  ({"agency": "nope"}, "agency", "Cơ quan, đơn vị"),
                                                  ({"min_resolved": "many"}, "min_resolved", "Số hồ sơ")])
@pytest.mark.parametrize("path, view", [("/stats/index", {}), ("/embed/stats", {"view": "index"})])
def test_impossible_requests_show_the_reason(city, client, path, view, params, field, label):
    response = client.get(path, query_string={**view, **params})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'<li data-field="{field}"><strong>{label}[^<]*</strong>: ', html), html
    assert "Traceback" not in html


def test_the_index_widget_may_be_framed_by_the_portal(client, history):  # noqa: F811
    response = client.get("/embed/stats", query_string={"view": "index", "period": "2025-Q1", "agency": ROOT})
    assert response.status_code == 200
    assert re.search(r"frame-ancestors 'self' https://portal\.example\.vn(;|$)",
                     response.headers["Content-Security-Policy"])
    html = response.get_data(as_text=True)
    assert "<form" not in html and 'id="late"' not in html and f'data-key="{DEPT}"' in html


@pytest.mark.parametrize("path", ["/stats/index", "/embed/stats?view=index"])
def test_a_visitor_over_the_limit_gets_the_page_saying_when(limited, path):  # noqa: F811
    app, _ = limited
    client = app.test_client()
    me = {"REMOTE_ADDR": _ip()}
    _use_up(client, me, path)
    response = client.get(path, environ_base=me)
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert f"Vui lòng thử lại sau {response.headers['Retry-After']} giây." in response.get_data(as_text=True)
