"""The citizen-facing lookup: the public API, the /lookup page, its QR code, limits, CORS, caching."""
from __future__ import annotations

import io
import json
import os
import random
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import cairosvg
import pytest
import segno
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from PIL import Image

from tests.conftest import PASSWORD, Auth, Factory, assert_problem
from tracker.domain.people import mask_name
from tracker.domain.workflow import action_label, allowed_actions
from tracker.extensions import limiter

PUBLIC = "/api/v1/public/dossiers/"
DOSSIER_KEYS = {"code", "procedure", "agency", "channel", "status", "status_code", "status_label", "accepted_at",
                "due_at", "appointment_at", "finished_at", "returned_at", "timeliness", "overdue", "applicant_name",
                "verified", "paused_since", "steps"}
STEP_KEYS = {"seq", "action", "label", "at", "agency", "agency_name", "public_note", "reason", "new_appointment_at"}
#: The actions whose reason is the notice the applicant receives, and so public.
NOTICES = ("refuse_intake", "request_supplement", "stop", "apologize")
APPLICANT = {"name": "Phạm Thị Kiểm", "id_number": "046195001122", "phone": "0912345678",
             "email": "kiem.pham@example.vn", "address": "12 Lê Lợi, phường Thuận Hóa, Huế"}
ISO_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+07:00")


def _ip() -> str:
    """A client address no other test (nor the other xdist worker) uses."""
    return "10.%d.%d.%d" % tuple(random.SystemRandom().randrange(1, 255) for _ in range(3))


def new_dossier(client, headers, applicant=None, **fields) -> dict:
    body = {"procedure_code": "1.000001", "channel": "direct", "applicant": applicant or APPLICANT, **fields}
    response = client.post("/api/v1/dossiers", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def add_step(client, headers, code, **body) -> dict:
    response = client.post(f"/api/v1/dossiers/{code}/steps", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def clerk(client, city, auth):
    return auth.headers("clerk")


@pytest.fixture
def dossier(client, clerk) -> str:
    """A dossier in processing with a public and an internal note."""
    code = new_dossier(client, clerk)["code"]
    add_step(client, clerk, code, action="process", note="Hồ sơ thiếu chữ ký, gọi lại sau",
             public_note="Hồ sơ đang được thẩm định", handler="Trần Văn Bình")
    return code


# -- the answer ------------------------------------------------------------------------------------


def test_lookup_answers_the_contract(client, dossier):
    response = client.get(PUBLIC + dossier)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    raw = response.get_data()
    assert b"\\u" not in raw and "Phạm".encode() not in raw  # UTF-8 as is; the name masked
    body = response.get_json()
    assert set(body) == DOSSIER_KEYS
    assert body["code"] == dossier
    assert body["procedure"] == {"code": "1.000001", "name": "Thủ tục 1.000001"}
    assert body["agency"] == {"code": "000.01.00.H57", "name": "Sở Tư pháp"}
    assert (body["channel"], body["status"], body["status_code"]) == ("direct", "processing", 4)
    assert body["status_label"] == "Đang xử lý"
    assert body["applicant_name"] == "P*** T** K***" and body["verified"] is False
    assert body["timeliness"] is None and body["overdue"] is False
    for name in ("accepted_at", "due_at", "appointment_at"):
        assert ISO_LOCAL.fullmatch(body[name]), (name, body[name])
    assert body["due_at"].endswith("T17:00:00+07:00")
    assert body["finished_at"] is None and body["returned_at"] is None
    assert [set(step) for step in body["steps"]] == [STEP_KEYS, STEP_KEYS]
    first, second = body["steps"]
    assert (first["seq"], first["action"], first["label"]) == (1, "accept", "Tiếp nhận hồ sơ")
    assert (second["seq"], second["action"], second["label"]) == (2, "process", "Chuyển xử lý hồ sơ")
    assert second["public_note"] == "Hồ sơ đang được thẩm định" and first["public_note"] is None
    assert second["agency"] == "000.01.00.H57" and second["agency_name"] == "Sở Tư pháp"
    assert ISO_LOCAL.fullmatch(second["at"])
    text = raw.decode()
    for secret in ("046195001122", "0912345678", "kiem.pham", "Lê Lợi", "chữ ký", "Trần Văn Bình", "clerk",
                   "Clerk"):
        assert secret not in text, secret


def test_labels_follow_accept_language(client, dossier):
    body = client.get(PUBLIC + dossier, headers={"Accept-Language": "en-US,en;q=0.9,vi;q=0.5"}).get_json()
    assert body["status_label"] == "Processing"
    assert [s["label"] for s in body["steps"]] == ["Dossier accepted", "Dossier forwarded for processing"]
    body = client.get(PUBLIC + dossier, headers={"Accept-Language": "fr"}).get_json()
    assert body["status_label"] == "Đang xử lý"


def test_online_submission_shows_the_register_step(client, clerk):
    code = new_dossier(client, clerk, channel="online", status="registered")["code"]
    body = client.get(PUBLIC + code).get_json()
    assert (body["status"], body["status_code"], body["status_label"]) == ("registered", 1, "Mới đăng ký")
    assert body["accepted_at"] is None and body["due_at"] is None and body["overdue"] is False
    assert [(s["action"], s["label"]) for s in body["steps"]] == [("register", "Nộp hồ sơ trực tuyến")]


def test_internal_comments_stay_internal(client, clerk, dossier):
    add_step(client, clerk, dossier, action="comment", note="Chỉ nội bộ: chờ lãnh đạo ký")
    add_step(client, clerk, dossier, action="comment", public_note="Mời ông/bà bổ sung bản sao")
    body = client.get(PUBLIC + dossier).get_json()
    assert [s["seq"] for s in body["steps"]] == [1, 2, 4]
    assert body["steps"][-1]["public_note"] == "Mời ông/bà bổ sung bản sao"
    assert "lãnh đạo" not in client.get(PUBLIC + dossier).get_data(as_text=True)


def test_unknown_code_is_a_problem_document(client, dossier):
    body = assert_problem(client.get(PUBLIC + "000.01.00.H57-990101-0001"), 404)
    assert "000.01.00.H57-990101-0001" in body["detail"]
    assert_problem(client.get(PUBLIC + "x" * 300), 404)


def test_code_case_and_surrounding_spaces_are_ignored(client, dossier):
    for typed in (dossier.lower(), f"  {dossier} ", f"%20{dossier.lower()}%20%20"):
        response = client.get(PUBLIC + typed)
        assert response.status_code == 200, typed
        assert response.get_json()["code"] == dossier


def test_overdue_and_paused_dossiers(client, city, auth):
    admin = auth.headers("admin")
    long_ago = (datetime.now(timezone.utc) - timedelta(days=30)).isoformat()
    late = new_dossier(client, admin, agency_code="000.01.00.H57", accepted_at=long_ago)["code"]
    paused = new_dossier(client, admin, agency_code="000.01.00.H57", accepted_at=long_ago)["code"]
    add_step(client, admin, paused, action="request_supplement", reason="Thiếu bản sao",
             at=(datetime.now(timezone.utc) - timedelta(days=29)).isoformat())
    done = new_dossier(client, admin, agency_code="000.01.00.H57")["code"]
    add_step(client, admin, done, action="process")
    add_step(client, admin, done, action="complete", result="approved")

    assert client.get(PUBLIC + late).get_json()["overdue"] is True
    # Waiting for the applicant: the deadline has moved by the pause so far.
    assert client.get(PUBLIC + paused).get_json()["overdue"] is False
    finished = client.get(PUBLIC + done).get_json()
    assert (finished["status"], finished["timeliness"], finished["overdue"]) == ("done", "early", False)
    assert ISO_LOCAL.fullmatch(finished["finished_at"])
    for code in (late, paused, done):  # the staff view judges the same
        staff = client.get(f"/api/v1/dossiers/{code}", headers=admin).get_json()
        assert client.get(PUBLIC + code).get_json()["overdue"] is staff["overdue"]

    assert "Đã quá hạn" in client.get(f"/lookup?code={late}").get_data(as_text=True)
    assert "Overdue" in client.get(f"/lookup?code={late}&lang=en").get_data(as_text=True)
    assert "Overdue" in client.get(f"/lookup?code={late}").get_data(as_text=True)  # the choice is remembered
    assert "Hoàn thành trước hạn" in client.get(f"/lookup?code={done}&lang=vi").get_data(as_text=True)
    # Waiting for the applicant: the page says so, with what was asked, and promises no date.
    html = client.get(f"/lookup?code={paused}").get_data(as_text=True)
    assert "Tạm dừng tính thời gian giải quyết từ" in html
    assert "Đang trong hạn" not in html and "Ngày hẹn trả kết quả</dt><dd><time" not in html


# -- verification ----------------------------------------------------------------------------------


@pytest.mark.parametrize("verify", ["046195001122", "0461 9500 1122", "0912345678", "+84912345678",
                                    "+84 912 345 678", "091.234.5678"])
def test_verify_by_id_number_or_phone_unmasks(client, dossier, verify):
    response = client.get(PUBLIC + dossier, query_string={"verify": verify})
    body = response.get_json()
    assert body["applicant_name"] == "Phạm Thị Kiểm" and body["verified"] is True
    assert "no-store" in response.headers["Cache-Control"]  # a full name is not for shared caches
    text = response.get_data(as_text=True)
    assert "046195001122" not in text and "0912345678" not in text


@pytest.mark.parametrize("verify", ["046195001123", "0912345679", "", "   ", "kiem.pham@example.vn", "P"])
def test_wrong_verify_keeps_the_mask(client, dossier, verify):
    body = client.get(PUBLIC + dossier, query_string={"verify": verify}).get_json()
    assert body["applicant_name"] == "P*** T** K***" and body["verified"] is False


def test_repeated_failed_verifications_are_throttled(client, clerk, dossier):
    other = new_dossier(client, clerk)["code"]

    def attempt(verify, code=dossier):
        return client.get(PUBLIC + code, query_string={"verify": verify}, environ_base={"REMOTE_ADDR": _ip()})

    for _ in range(4):
        assert attempt("000000000").get_json()["verified"] is False
    for _ in range(3):  # successes do not count
        assert attempt("0912345678").get_json()["verified"] is True
    assert attempt("111111111").status_code == 200  # the fifth failure is still answered
    for verify in ("222222222", "046195001122"):  # then every verification of this code waits
        response = attempt(verify)
        assert_problem(response, 429)
        assert response.headers["Retry-After"].isdigit() and 0 < int(response.headers["Retry-After"]) <= 900
    assert attempt("").get_json()["verified"] is False  # plain lookups go on
    assert client.get(PUBLIC + dossier).status_code == 200
    assert attempt("046195001122", other).get_json()["verified"] is True  # other codes too


# -- the per-client public limit -------------------------------------------------------------------


def _seed(app) -> str:
    """Reference data, a clerk and one dossier in an app built by make_app."""
    factory = Factory(app)
    factory.agency("000.01.00.H57", "Sở Tư pháp")
    factory.procedure("1.000001", 3, "working_days")
    factory.user("clerk", "clerk", "000.01.00.H57")
    client = app.test_client()
    return new_dossier(client, Auth(client).headers("clerk"))["code"]


def _reset_limits(app):
    with app.app_context():
        limiter.reset()


def _assert_throttled(response):
    if response.mimetype == "text/html":  # a page visitor gets a page, in the page's language
        assert response.status_code == 429
        body = response.get_data(as_text=True)
        assert "Vui lòng thử lại sau" in body
    else:
        body = assert_problem(response, 429)
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and 0 < int(retry_after) <= 60, response.headers
    return body


def test_public_limit_is_shared_by_the_api_and_the_pages(make_app):
    app = make_app(TRACKER_RATELIMIT_PUBLIC="3/minute")
    code = _seed(app)
    _reset_limits(app)
    client = app.test_client()
    me, other = {"REMOTE_ADDR": _ip()}, {"REMOTE_ADDR": _ip()}
    assert client.get(PUBLIC + code, environ_base=me).status_code == 200
    assert client.get(f"/lookup?code={code}", environ_base=me).status_code == 200
    assert client.get(f"/lookup/{code}/qr.svg", environ_base=me).status_code == 200
    _assert_throttled(client.get(PUBLIC + code, environ_base=me))
    _assert_throttled(client.get(f"/lookup?code={code}", environ_base=me))
    _assert_throttled(client.get(PUBLIC + "UNKNOWN", environ_base=me))
    # The stylesheet, staff and reference endpoints are not part of the public budget.
    assert client.get("/assets/site.css", environ_base=me).status_code == 200
    assert client.get("/api/v1/agencies", environ_base=me).status_code == 200
    # Another client has its own bucket.
    assert client.get(PUBLIC + code, environ_base=other).status_code == 200


@pytest.mark.parametrize("trusted, separate", [(1, True), (0, False)])
def test_client_addresses_behind_a_reverse_proxy(make_app, trusted, separate):
    app = make_app(TRACKER_RATELIMIT_PUBLIC="2/minute", TRACKER_TRUSTED_PROXIES=trusted)
    code = _seed(app)
    _reset_limits(app)
    client = app.test_client()
    proxy = _ip()

    def get(client_ip):
        return client.get(PUBLIC + code, environ_base={"REMOTE_ADDR": proxy},
                          headers={"X-Forwarded-For": client_ip, "X-Forwarded-Proto": "https",
                                   "X-Forwarded-Host": "dichvucong.hue.gov.vn"})

    alice, bob = _ip(), _ip()
    assert get(alice).status_code == 200
    assert get(alice).status_code == 200
    _assert_throttled(get(alice))
    if separate:
        assert get(bob).status_code == 200
    else:  # the header is ignored: both are the proxy's address
        _assert_throttled(get(bob))


def test_share_link_uses_the_forwarded_host_behind_a_trusted_proxy(make_app):
    app = make_app(TRACKER_TRUSTED_PROXIES=1)
    code = _seed(app)
    page = app.test_client().get(f"/lookup?code={code}", headers={
        "X-Forwarded-For": _ip(), "X-Forwarded-Proto": "https", "X-Forwarded-Host": "dichvucong.hue.gov.vn"})
    assert f"https://dichvucong.hue.gov.vn/lookup?code={code}" in page.get_data(as_text=True)


def test_limits_are_kept_in_redis_when_configured(make_app):
    import redis

    url = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        app = make_app(TRACKER_RATELIMIT_PUBLIC="2/minute", RATELIMIT_STORAGE_URI=url)
        code = _seed(app)
        assert type(limiter.storage).__name__.lower().startswith("redis"), limiter.storage
        client = app.test_client()
        me = _ip()
        for _ in range(2):
            assert client.get(PUBLIC + code, environ_base={"REMOTE_ADDR": me}).status_code == 200
        _assert_throttled(client.get(PUBLIC + code, environ_base={"REMOTE_ADDR": me}))
        keys = redis.Redis.from_url(url).keys(f"*{me}*")
        assert keys, f"no counter for {me} in {url}"
    finally:
        # The limiter is one object for every app of the process: give the next tests memory back.
        make_app(RATELIMIT_STORAGE_URI="memory://")
    assert type(limiter.storage).__name__ == "MemoryStorage"


# -- CORS and caching ------------------------------------------------------------------------------


def test_cors_only_for_the_portal_and_only_on_public_endpoints(client, clerk, dossier):
    portal = {"Origin": "https://portal.example.vn"}
    response = client.get(PUBLIC + dossier, headers=portal)
    assert response.headers.get("Access-Control-Allow-Origin") == "https://portal.example.vn"
    assert "ETag" in response.headers.get("Access-Control-Expose-Headers", "")
    missing = client.get(PUBLIC + "NOPE", headers=portal)
    assert missing.status_code == 404 and missing.headers.get("Access-Control-Allow-Origin")
    refused = client.get(PUBLIC + dossier, headers={"Origin": "https://evil.example.com"})
    assert refused.status_code == 200 and "Access-Control-Allow-Origin" not in refused.headers
    preflight = client.options(PUBLIC + dossier, headers={**portal, "Access-Control-Request-Method": "GET"})
    assert preflight.headers.get("Access-Control-Allow-Origin") == "https://portal.example.vn"
    for path in (f"/api/v1/dossiers/{dossier}", "/api/v1/agencies", "/api/v1/auth/me", f"/lookup?code={dossier}"):
        response = client.get(path, headers={**portal, **clerk})
        assert response.status_code == 200, path
        assert "Access-Control-Allow-Origin" not in response.headers, path
    staff_preflight = client.options(f"/api/v1/dossiers/{dossier}",
                                     headers={**portal, "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in staff_preflight.headers


def test_etag_and_304(client, clerk, dossier):
    first = client.get(PUBLIC + dossier)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "public, max-age=30"
    assert "Accept-Language" in first.headers["Vary"]
    assert client.get(PUBLIC + dossier).headers["ETag"] == etag  # a hash of the body
    again = client.get(PUBLIC + dossier, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert client.get(PUBLIC + dossier, headers={"Accept-Language": "en"}).headers["ETag"] != etag
    add_step(client, clerk, dossier, action="comment", public_note="Đã có ý kiến thẩm định")
    changed = client.get(PUBLIC + dossier, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    page = client.get(f"/lookup?code={dossier}")
    assert page.headers["Cache-Control"] == "public, max-age=30"
    staff = client.get(f"/api/v1/dossiers/{dossier}", headers=clerk)  # personal data: never a shared cache
    assert staff.status_code == 200 and "public" not in staff.headers.get("Cache-Control", "")
    assert client.get(f"/lookup?code={dossier}", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304


# -- the page and the QR code ----------------------------------------------------------------------


def _external_references(html: str) -> list[str]:
    refs = re.findall(r'(?:src|href|action)\s*=\s*"([^"]*)"', html)
    return [r for r in refs if not (r.startswith("/") or r.startswith("#") or r.startswith("http://localhost/"))]


def test_lookup_page_shows_the_dossier(client, dossier):
    response = client.get(f"/lookup?code={dossier.lower()}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "http" not in csp and "unsafe" not in csp and "*" not in csp
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert '<label for="code">Mã hồ sơ</label>' in html and 'id="code" name="code"' in html
    assert "Đang xử lý" in html and "Tiếp nhận hồ sơ" in html and "Chuyển xử lý hồ sơ" in html
    assert "Hồ sơ đang được thẩm định" in html and "P*** T** K***" in html
    assert "Ngày hẹn trả kết quả" in html and "Đang trong hạn" in html
    assert f"http://localhost/lookup?code={dossier}" in html
    assert _external_references(html) == []
    for secret in ("Phạm Thị", "046195001122", "0912345678", "kiem.pham", "Lê Lợi", "chữ ký", "Trần Văn Bình"):
        assert secret not in html, secret


def test_lookup_page_in_english(client, dossier):
    html = client.get(f"/lookup?code={dossier}&lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Processing" in html and "Dossier code" in html
    assert '<input type="hidden" name="lang" value="en">' in html
    # The switch is remembered (a cookie), whatever the browser's Accept-Language says.
    html = client.get(f"/lookup?code={dossier}", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Processing history" in html
    html = client.get(f"/lookup?code={dossier}&lang=vi", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="vi">' in html and "Đang xử lý" in html
    html = client.get(f"/lookup?code={dossier}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="vi">' in html and "Quá trình xử lý" in html


def test_lookup_page_is_vietnamese_whatever_the_browser_asks(client, dossier):
    response = client.get(f"/lookup?code={dossier}", headers={"Accept-Language": "en-US,en;q=0.9"})
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html and "Quá trình xử lý" in html and "Processing history" not in html
    assert "Set-Cookie" not in response.headers
    assert "Cookie" in response.headers["Vary"]


def test_the_language_switch_sets_a_lasting_lax_cookie(client, dossier):
    response = client.get(f"/lookup?code={dossier}&lang=en")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;") and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    assert "public" not in response.headers["Cache-Control"]  # a shared cache must not keep a Set-Cookie
    assert 'href="/lookup?code=' in response.get_data(as_text=True)
    assert "lang=vi" in response.get_data(as_text=True)  # the switch back
    back = client.get(f"/lookup?code={dossier}&lang=vi")
    assert back.headers["Set-Cookie"].startswith("lang=vi;")
    assert '<html lang="vi">' in client.get("/stats").get_data(as_text=True)


def test_lookup_page_without_a_code_is_just_the_form(client):
    for path in ("/lookup", "/lookup?code=", "/lookup?code=%20%20"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "<form" in html and 'for="code"' in html and 'class="result"' not in html
        assert "Không tìm thấy" not in html


def test_lookup_page_for_an_unknown_code_helps(client, dossier):
    response = client.get("/lookup?code=000.01.00.h57-990101-0001")
    assert response.status_code == 404 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Không tìm thấy hồ sơ có mã 000.01.00.H57-990101-0001" in html
    assert "Phiếu tiếp nhận" in html and "000.00.00.H57-250124-0001" in html
    assert 'aria-invalid="true"' in html
    english = client.get("/lookup?code=rubbish&lang=en")
    assert english.status_code == 404
    assert "does not look like a dossier code" in english.get_data(as_text=True)
    assert "Content-Security-Policy" in english.headers


def _decode_qr(svg: bytes) -> list[str]:
    png = cairosvg.svg2png(bytestring=svg, background_color="white", output_width=600)
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_qr_code_decodes_to_the_shareable_link(client, dossier):
    response = client.get(f"/lookup/{dossier.lower()}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert _decode_qr(response.get_data()) == [f"http://localhost/lookup?code={dossier}"]
    assert_problem(client.get("/lookup/000.01.00.H57-990101-0001/qr.svg"), 404)


def test_qr_decoder_can_fail():
    """The decoder reads what is there, not what we hope: another link decodes as itself."""
    other = io.BytesIO()
    segno.make("http://localhost/lookup?code=OTHER", error="m").save(other, kind="svg", scale=8)
    assert _decode_qr(other.getvalue()) == ["http://localhost/lookup?code=OTHER"]
    assert _decode_qr(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>') == []


def test_public_lookup_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/public/dossiers/{code}"]["get"]
    assert operation["security"] == []
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert DOSSIER_KEYS <= set(schema["properties"])
    assert "paused" in schema["properties"]["appointment_at"]["description"]
    assert schema["properties"]["paused_since"]["description"]
    step = spec["components"]["schemas"][schema["properties"]["steps"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert STEP_KEYS <= set(step["properties"])
    assert "request_supplement" in step["properties"]["reason"]["description"]
    assert "apologize" in step["properties"]["new_appointment_at"]["description"]
    assert {"404", "429"} <= set(operation["responses"])
    assert "verify" in {p["name"] for p in operation["parameters"]}


# -- nothing personal, whatever the dossier --------------------------------------------------------

LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
names = st.lists(st.text(alphabet=LETTERS, min_size=2, max_size=7).map(str.capitalize),
                 min_size=2, max_size=4).map(" ".join)
id_numbers = st.from_regex(r"[0-9]{9}|[0-9]{12}", fullmatch=True)
phones = st.from_regex(r"0[0-9]{9}", fullmatch=True)
emails = st.from_regex(r"[a-z][a-z0-9._]{2,12}@[a-z]{2,10}\.(vn|com|gov\.vn)", fullmatch=True)
# Free text of any script, wrapped in a marker so that a leak cannot hide in ordinary page text.
free_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1,
                    max_size=40)
addresses = free_text.map(lambda s: f"ĐC⟦{s}⟧")
internal_notes = free_text.map(lambda s: f"NB⟦{s}⟧")
reasons = free_text.map(lambda s: f"LD⟦{s}⟧")
handlers = free_text.map(lambda s: f"CB⟦{s}⟧")
# No digits, capitals or "@": a public note can never contain an ID number, phone, e-mail or name by chance.
public_notes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.-/()", min_size=1, max_size=30).map(
    lambda s: f"Công khai: {s}")
SECRET_USER = "nv_qzxw"


def _secret_values(staff: dict) -> list[str]:
    applicant = staff["applicant"]
    secrets = [applicant[k] for k in ("id_number", "phone", "email", "address") if applicant.get(k)]
    notices = {step["reason"] for step in staff["steps"] if step["action"] in NOTICES}
    for step in staff["steps"]:
        secrets += [step[k] for k in ("note", "handler", "user") if step.get(k)]
        if step["action"] not in NOTICES and step.get("reason") and step["reason"] not in notices:
            secrets.append(step["reason"])  # a reason given with any other step stays internal
    return secrets + [SECRET_USER, "Người Dùng Qzxw"]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _assert_hidden(secret: str, text: str, where: str, strings=()):
    assert secret not in text, (where, secret)
    assert str(escape(secret)) not in text, (where, secret)
    assert json.dumps(secret)[1:-1] not in text, (where, secret)
    for value in strings:
        assert secret not in value, (where, secret)


def _step_body(data, status: str, appointment: str | None) -> dict:
    choices = [a for a in allowed_actions(status) if a != "apologize" or appointment]
    action = data.draw(st.sampled_from(choices), label="action")
    body = {"action": action}
    for key, strategy in (("note", internal_notes), ("public_note", public_notes), ("handler", handlers),
                          ("reason", reasons)):
        if data.draw(st.booleans(), label=f"with {key}"):
            body[key] = data.draw(strategy, label=key)
    if action in NOTICES:
        body.setdefault("reason", data.draw(reasons, label="reason"))
    if action == "complete":
        body["result"] = data.draw(st.sampled_from(["approved", "denied"]), label="result")
    if action == "apologize":
        later = datetime.fromisoformat(appointment) + timedelta(days=data.draw(st.integers(1, 20)))
        body["new_appointment_at"] = later.isoformat()
    if action == "comment" and not (body.get("note") or body.get("public_note")):
        body["note"] = data.draw(internal_notes, label="note")
    if action == "process" and data.draw(st.booleans(), label="hand-off"):
        body["to_agency_code"] = "000.02.00.H57"
    return body


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_public_answer_reveals_personal_or_internal_data(app, city, data):
    client = app.test_client()
    headers = _writer(app, client)
    applicant = {"name": data.draw(names, label="name"), "id_number": data.draw(id_numbers, label="id"),
                 "phone": data.draw(phones, label="phone"), "email": data.draw(emails, label="email"),
                 "address": data.draw(addresses, label="address")}
    status = data.draw(st.sampled_from(["accepted", "registered"]), label="status")
    code = new_dossier(client, headers, applicant, status=status,
                       channel=data.draw(st.sampled_from(["direct", "online", "postal"])),
                       note=data.draw(internal_notes, label="intake note"))["code"]
    staff = client.get(f"/api/v1/dossiers/{code}", headers=headers).get_json()
    for _ in range(data.draw(st.integers(0, 6), label="steps")):
        add_step(client, headers, code, **_step_body(data, staff["status"], staff["appointment_at"]))
        staff = client.get(f"/api/v1/dossiers/{code}", headers=headers).get_json()
    secrets = _secret_values(staff) + [staff["note"]]
    name = staff["applicant"]["name"]

    masked = client.get(PUBLIC + code)
    body = masked.get_json()
    assert set(body) == DOSSIER_KEYS
    assert body["applicant_name"] == mask_name(name) != name
    public_steps = [s for s in staff["steps"] if s["action"] != "comment" or s["public_note"]]
    assert [(s["seq"], s["action"], s["label"], s["public_note"]) for s in body["steps"]] == [
        (s["seq"], s["action"], action_label(s["action"]), s["public_note"]) for s in public_steps]
    assert all(set(step) == STEP_KEYS for step in body["steps"])
    assert [s["reason"] for s in body["steps"]] == [
        s["reason"] if s["action"] in NOTICES else None for s in public_steps]
    page = client.get(f"/lookup?code={code}").get_data(as_text=True)
    english = client.get(PUBLIC + code, headers={"Accept-Language": "en"})
    verified = client.get(PUBLIC + code, query_string={"verify": applicant["id_number"]})
    assert verified.get_json()["applicant_name"] == name
    answers = {"json": masked, "english": english, "verified": verified}
    for secret in secrets:
        for where, response in answers.items():
            _assert_hidden(secret, response.get_data(as_text=True), where, list(_strings(response.get_json())))
        _assert_hidden(secret, page, "page")
    for where, text in (("json", masked.get_data(as_text=True)), ("page", page)):
        _assert_hidden(name, text, where)


def _writer(app, client) -> dict:
    """A clerk with an unmistakable username, created once per app database."""
    from tracker.extensions import db
    from tracker.models import User

    with app.app_context():
        exists = db.session.query(User.id).filter_by(username=SECRET_USER).first() is not None
        db.session.remove()
    if not exists:
        from tracker.services import users
        from tracker.services.audit import SYSTEM

        with app.app_context():
            users.create_user(SYSTEM, {"username": SECRET_USER, "password": PASSWORD, "role": "clerk",
                                       "agency_code": "000.01.00.H57", "full_name": "Người Dùng Qzxw",
                                       "active": True}, check_caller=False)
            db.session.commit()
    return Auth(client).headers(SECRET_USER)


# -- what the citizen is told ----------------------------------------------------------------------


def test_a_supplement_request_shows_its_reason_and_the_paused_clock_not_the_note(client, clerk, dossier):
    add_step(client, clerk, dossier, action="request_supplement", reason="Bổ sung bản sao sổ hộ khẩu",
             note="Nội bộ: hồ sơ này cần xem kỹ", handler="Lê Văn Cường")
    body = client.get(PUBLIC + dossier).get_json()
    request = body["steps"][-1]
    assert request["action"] == "request_supplement"
    assert request["reason"] == "Bổ sung bản sao sổ hộ khẩu" and request["new_appointment_at"] is None
    assert body["status"] == "supplement_requested"
    assert ISO_LOCAL.fullmatch(body["paused_since"]) and body["paused_since"] == request["at"]
    # The pause will move the appointment by a length not known yet: no date is shown for it.
    assert body["appointment_at"] is None
    raw = client.get(PUBLIC + dossier).get_data(as_text=True)
    for secret in ("Nội bộ: hồ sơ này cần xem kỹ", "Lê Văn Cường", "Hồ sơ thiếu chữ ký, gọi lại sau"):
        assert secret not in raw
    assert all(step["reason"] is None for step in body["steps"][:-1])
    staff = client.get(f"/api/v1/dossiers/{dossier}", headers=clerk).get_json()
    add_step(client, clerk, dossier, action="receive_supplement")
    resumed = client.get(PUBLIC + dossier).get_json()
    assert resumed["paused_since"] is None and resumed["appointment_at"] is not None
    assert resumed["appointment_at"] >= staff["appointment_at"]


def test_a_stopped_dossier_says_stopped_with_the_reason(client, clerk, dossier):
    add_step(client, clerk, dossier, action="stop", reason="Người nộp không đủ điều kiện theo quy định")
    body = client.get(PUBLIC + dossier, headers={"Accept-Language": "en"}).get_json()
    assert (body["status"], body["status_code"], body["status_label"]) == ("stopped", 8, "Processing stopped")
    assert body["steps"][-1]["action"] == "stop"
    assert body["steps"][-1]["reason"] == "Người nộp không đủ điều kiện theo quy định"
    assert body["paused_since"] is None


def test_an_apology_shows_the_new_appointment_and_its_reason(client, clerk, dossier):
    before = client.get(PUBLIC + dossier).get_json()
    later = (datetime.fromisoformat(before["appointment_at"]) + timedelta(days=5)).isoformat()
    add_step(client, clerk, dossier, action="apologize", reason="Cần xác minh thêm với UBND xã", new_appointment_at=later)
    body = client.get(PUBLIC + dossier).get_json()
    apology = body["steps"][-1]
    assert apology["action"] == "apologize" and apology["reason"] == "Cần xác minh thêm với UBND xã"
    assert datetime.fromisoformat(apology["new_appointment_at"]) == datetime.fromisoformat(later)
    assert ISO_LOCAL.fullmatch(apology["new_appointment_at"])
    assert body["appointment_at"] == apology["new_appointment_at"]
    assert body["due_at"] == before["due_at"]  # the legal deadline stays for timeliness


# -- codes as people type them ---------------------------------------------------------------------

DASH_VARIANTS = ["-", "–", "—", "‐", "‑", "−", "﹣", "－", " ", "   ", " - ", " – ", "\u00a0—\u00a0", "\u3000"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


@st.composite
def typed_variants(draw, code: str):
    """``code`` as someone might type or paste it: any case, full-width characters, other dashes or
    spaces for the dashes, invisible characters anywhere, spaces around."""
    parts = []
    for index, part in enumerate(code.split("-")):
        if index:
            parts.append(draw(st.sampled_from(DASH_VARIANTS), label="dash"))
        for char in part:
            char = draw(st.sampled_from([char, char.lower(), chr(ord(char) + 0xFEE0)]), label="char")
            parts.append(char + draw(st.sampled_from(["", "", "", *INVISIBLE]), label="invisible"))
    spaces = st.sampled_from(["", " ", "  ", "\t", "\u200b", "\ufeff "])
    return draw(spaces) + "".join(parts) + draw(spaces)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_codes_as_people_type_them_find_the_dossier(client, clerk, dossier, data):
    typed = data.draw(typed_variants(dossier), label="typed")
    quoted = quote(typed, safe="")
    public = client.get(PUBLIC + quoted, environ_base={"REMOTE_ADDR": _ip()})
    assert public.status_code == 200, typed
    assert public.get_json()["code"] == dossier
    staff = client.get("/api/v1/dossiers/" + quoted, headers=clerk)
    assert staff.status_code == 200, typed
    assert staff.get_json()["code"] == dossier
