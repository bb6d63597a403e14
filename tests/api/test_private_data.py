"""Personal data stays private: files, caches, sniffing, the documentation page's CSP."""
from __future__ import annotations

import pytest

from tests.conftest import TEST_SETTINGS
from tracker import config as settings
from tracker import create_app
from tracker.extensions import db
from sqlalchemy import text

PORTAL = "https://portal.example.vn"


def test_the_instance_folder_and_the_secret_key_are_private(monkeypatch, tmp_path):
    instance = tmp_path / "instance"
    monkeypatch.setattr(settings, "INSTANCE_DIR", instance)
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    monkeypatch.delenv("TRACKER_AUDIT_KEY", raising=False)
    key = settings._kept_key("TRACKER_SECRET_KEY", "secret_key", "development")
    assert key and instance.stat().st_mode & 0o777 == 0o700
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600
    assert settings._kept_key("TRACKER_SECRET_KEY", "secret_key", "development") == key
    settings._kept_key("TRACKER_AUDIT_KEY", "audit_key", "development")
    assert (instance / "audit_key").stat().st_mode & 0o777 == 0o600


def test_the_sqlite_database_and_its_wal_are_private(tmp_path):
    path = tmp_path / "tracker.db"
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        files = [path, tmp_path / "tracker.db-wal", tmp_path / "tracker.db-shm"]
        assert {f.name: f.stat().st_mode & 0o777 for f in files} == {f.name: 0o600 for f in files}
        db.engine.dispose()


def test_an_existing_database_is_made_private(tmp_path):
    path = tmp_path / "tracker.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("path", ["/api/v1/dossiers", "/api/v1/auth/me", "/api/v1/agencies", "/api/v1/users",
                                  "/api/v1/no-such-thing"])
def test_staff_answers_are_not_stored(client, city, auth, path):
    for headers in (auth.headers("admin"), {}):
        response = client.get(path, headers=headers)
        assert response.headers["Cache-Control"] == "no-store", (path, response.status_code)
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_public_answers_and_the_document_may_be_cached(client):
    for path in ("/api/v1/public/dossiers/NONE", "/api/v1/openapi.json", "/lookup", "/healthz"):
        response = client.get(path)
        assert response.headers.get("Cache-Control") != "no-store", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path


@pytest.mark.parametrize("origin", [PORTAL, "https://elsewhere.example", None])
def test_public_answers_vary_with_the_origin(client, origin):
    headers = {"Origin": origin} if origin else {}
    for method in ("get", "options"):
        response = getattr(client, method)("/api/v1/public/dossiers/NONE", headers=headers)
        assert "Origin" in response.vary, (method, origin, response.headers)
    if origin == PORTAL:
        assert response.headers["Access-Control-Allow-Origin"] == PORTAL


def test_every_kind_of_answer_says_nosniff(client):
    for path in ("/docs", "/docs/init.js", "/docs/assets/swagger-ui.css", "/assets/site.css", "/readyz", "/nowhere"):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path


def test_the_documentation_page_has_a_content_security_policy(client):
    csp = client.get("/docs").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp


# -- verify in the body ---------------------------------------------------------------------------

from tests.api.test_public import APPLICANT, PUBLIC, _ip, new_dossier  # noqa: E402
from tests.conftest import assert_problem  # noqa: E402


@pytest.fixture
def code(client, city, auth):
    return new_dossier(client, auth.headers("clerk"))["code"]


@pytest.mark.parametrize("verify", [APPLICANT["id_number"], APPLICANT["phone"], "000000000", " "])
def test_post_verify_answers_as_the_get(client, code, verify):
    got = client.get(PUBLIC + code, query_string={"verify": verify})
    posted = client.post(PUBLIC + code + "/verify", json={"verify": verify})
    assert posted.status_code == got.status_code == 200
    assert posted.get_json() == got.get_json()
    assert posted.get_json()["verified"] is (verify.strip() in (APPLICANT["id_number"], APPLICANT["phone"]))
    if verify.strip():
        assert posted.headers["Cache-Control"] == "private, no-store"


def test_post_verify_shares_the_throttle_of_the_get(client, code):
    me = {"REMOTE_ADDR": _ip()}
    for n in range(5):
        via_post = n % 2 == 0
        response = (client.post(PUBLIC + code + "/verify", json={"verify": "000000000"}, environ_base=me)
                    if via_post else client.get(PUBLIC + code + "?verify=000000000", environ_base=me))
        assert response.get_json()["verified"] is False
    assert_problem(client.post(PUBLIC + code + "/verify", json={"verify": APPLICANT["phone"]}, environ_base=me), 429)
    assert_problem(client.get(PUBLIC + code, query_string={"verify": APPLICANT["phone"]}, environ_base=me), 429)


@pytest.mark.parametrize("body", [{}, {"verify": 12}, {"verify": "x" * 65}, [], "046195001122"])
def test_post_verify_refuses_a_bad_body(client, code, body):
    assert_problem(client.post(PUBLIC + code + "/verify", json=body), 422)


def test_post_verify_of_an_unknown_code(client, city):
    assert_problem(client.post(PUBLIC + "NO-SUCH-CODE/verify", json={"verify": "000000000"}), 404)
