"""Every error is an RFC 9457 problem document; Idempotency-Key on creations."""
from __future__ import annotations

import json

import pytest

from tests.conftest import PASSWORD, assert_problem
from tracker.extensions import limiter

ROOT = "000.00.00.H57"


@pytest.fixture
def admin(city, auth):
    return auth.headers("admin")


def agency_total(client) -> int:
    return client.get("/api/v1/agencies").get_json()["total"]


# -- the status codes of the contract ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/agencies/x/y/z", "/no-such-page"])
def test_unknown_route_is_404(client, app, path):
    assert_problem(client.get(path), 404)


def test_unknown_resource_is_404(client, city):
    assert_problem(client.get("/api/v1/agencies/000.99.99.H99"), 404)
    assert_problem(client.get("/api/v1/procedures/9.99"), 404)


def test_wrong_method_is_405_with_allow(client, app):
    response = client.delete("/api/v1/agencies")
    assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "DELETE" not in allowed
    assert_problem(client.put("/api/v1/auth/login", json={}), 405)
    assert_problem(client.get("/api/v1/auth/logout"), 405)


@pytest.mark.parametrize("raw", ['{"username": "admin", ', "not json at all", '{"a": 1}}'])
def test_malformed_json_is_400(client, city, raw):
    response = client.post("/api/v1/auth/login", data=raw, content_type="application/json")
    body = assert_problem(response, 400)
    assert "json" in body["detail"].lower()


def test_malformed_json_on_a_write_is_400_and_writes_nothing(client, admin):
    response = client.post("/api/v1/agencies", data='{"code": "000.03.00.H57", "name": "Sở',
                           content_type="application/json", headers=admin)
    assert_problem(response, 400)
    assert agency_total(client) == 4


def test_missing_token_is_401(client, city):
    response = client.get("/api/v1/auth/me")
    body = assert_problem(response, 401)
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert "token" in body["detail"].lower()
    assert_problem(client.post("/api/v1/agencies", json={"code": "000.03.00.H57", "name": "X"}), 401)


@pytest.mark.parametrize("header", [
    "Bearer garbage",
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "Bearer ",
    "Basic YWRtaW46YWRtaW4=",
    "garbage",
])
def test_garbage_token_is_401(client, city, header):
    assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": header}), 401)


def test_token_signed_with_another_key_is_401(client, city, auth):
    import jwt as pyjwt

    claims = pyjwt.decode(auth.tokens("admin")["access_token"], options={"verify_signature": False})
    forged = pyjwt.encode(claims, "another-secret-key-that-is-long-enough-for-hs256", algorithm="HS256")
    assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}), 401)
    unsigned = pyjwt.encode(claims, None, algorithm="none")
    assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {unsigned}"}), 401)


def test_expired_token_is_401(client, app, city):
    from datetime import timedelta

    from flask_jwt_extended import create_access_token
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "admin"))
        token = create_access_token(identity=user, expires_delta=timedelta(seconds=-60),
                                    additional_claims={"sid": "0" * 32})
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 401)
    assert "expired" in body["detail"].lower()


def test_forbidden_is_403(client, city, auth):
    clerk = auth.headers("clerk")
    body = assert_problem(client.post("/api/v1/agencies", json={"code": "000.03.00.H57", "name": "X"},
                                      headers=clerk), 403)
    assert "admin" in body["detail"]
    assert_problem(client.get("/api/v1/users", headers=clerk), 403)
    assert agency_total(client) == 4


def test_duplicate_is_409(client, admin):
    assert_problem(client.post("/api/v1/agencies", json={"code": ROOT, "name": "X"}, headers=admin), 409)
    assert_problem(client.post("/api/v1/procedures", headers=admin, json={
        "code": "1.000001", "name": "X", "field": "Y", "time_limit": {"value": 1, "unit": "working_days"}}), 409)
    assert_problem(client.post("/api/v1/users", headers=admin, json={
        "username": "clerk", "password": PASSWORD, "role": "viewer", "agency_code": ROOT}), 409)


def test_body_over_one_mib_is_413(client, admin):
    big = {"code": "000.03.00.H57", "name": "x" * (1024 * 1024 + 10)}
    assert_problem(client.post("/api/v1/agencies", json=big, headers=admin), 413)
    assert agency_total(client) == 4
    raw = b'{"username": "admin", "password": "' + b"p" * (1024 * 1024) + b'"}'
    assert_problem(client.post("/api/v1/auth/login", data=raw, content_type="application/json"), 413)
    # Just under the limit is read (and refused for its content, not its size).
    fits = {"code": "000.03.00.H57", "name": "x" * (1024 * 1024 - 100)}
    assert_problem(client.post("/api/v1/agencies", json=fits, headers=admin), 422)


def test_validation_is_422_with_errors_per_field(client, admin):
    response = client.post("/api/v1/procedures", headers=admin, json={
        "code": "1.0099", "name": "", "time_limit": {"value": 0, "unit": "weeks"}, "extra": 1})
    body = assert_problem(response, 422)
    errors = body["errors"]
    # Nested fields are flattened with dots; every message is a sentence in a list.
    assert {"name", "field", "time_limit.value", "time_limit.unit"} <= set(errors), errors
    assert "time_limit" not in errors
    for messages in errors.values():
        assert isinstance(messages, list) and messages and all(isinstance(m, str) and m for m in messages)
    assert client.get("/api/v1/procedures").get_json()["total"] == 2


def test_wrong_json_types_are_422_not_500(client, admin):
    for body in ([], "a string", 42, None, {"code": 5, "name": ["x"]}):
        response = client.post("/api/v1/agencies", data=json.dumps(body), content_type="application/json",
                               headers=admin)
        assert response.status_code in (400, 422), (body, response.get_data(as_text=True))
        assert_problem(response, response.status_code)
    assert agency_total(client) == 4


def test_rate_limited_is_429_with_retry_after(make_app):
    app = make_app(TRACKER_RATELIMIT_LOGIN="2/minute")
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    for _ in range(2):
        assert_problem(client.post("/api/v1/auth/login", json={"username": "x", "password": "y"}), 401)
    response = client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    body = assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert "access_token" not in body
    with app.app_context():
        limiter.reset()


# -- Idempotency-Key --------------------------------------------------------------------------


NEW_AGENCY = {"code": "000.03.00.H57", "name": "Sở Y tế", "parent_code": ROOT, "level": "department"}


def test_retry_with_the_same_key_and_body_replays_the_first_response(client, admin):
    headers = {**admin, "Idempotency-Key": "b6c1e0a2-agency-1"}
    first = client.post("/api/v1/agencies", json=NEW_AGENCY, headers=headers)
    assert first.status_code == 201, first.get_data(as_text=True)
    # The same body with its keys in another order is the same request.
    again = client.post("/api/v1/agencies", data=json.dumps(dict(reversed(list(NEW_AGENCY.items())))),
                        content_type="application/json", headers=headers)
    assert again.status_code == first.status_code
    assert again.get_json() == first.get_json() == NEW_AGENCY
    assert again.mimetype == "application/json"
    assert agency_total(client) == 5
    # Without the key, the same body is a new request: a duplicate.
    assert_problem(client.post("/api/v1/agencies", json=NEW_AGENCY, headers=admin), 409)
    assert agency_total(client) == 5


def test_a_replayed_refusal_is_not_stored(client, admin):
    headers = {**admin, "Idempotency-Key": "retry-after-fix"}
    body = {"code": "000.03.00.H57", "name": "Sở Y tế", "parent_code": "999.99.99.H99"}
    assert_problem(client.post("/api/v1/agencies", json=body, headers=headers), 422)
    # The parent now exists; the same key and body must do the work rather than replay a failure.
    client.post("/api/v1/agencies", json={"code": "999.99.99.H99", "name": "Cha"}, headers=admin)
    response = client.post("/api/v1/agencies", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)


def test_the_same_key_with_another_body_is_422(client, admin):
    headers = {**admin, "Idempotency-Key": "key-42"}
    assert client.post("/api/v1/agencies", json=NEW_AGENCY, headers=headers).status_code == 201
    other = {**NEW_AGENCY, "code": "000.04.00.H57", "name": "Sở Giáo dục"}
    problem = assert_problem(client.post("/api/v1/agencies", json=other, headers=headers), 422)
    assert problem["errors"]
    assert agency_total(client) == 5
    assert_problem(client.get("/api/v1/agencies/000.04.00.H57"), 404)


def test_keys_are_scoped_to_the_caller(client, city, auth):
    city.user("admin2", "admin")
    key = "shared-key"
    first = client.post("/api/v1/agencies", json=NEW_AGENCY, headers={**auth.headers("admin"),
                                                                       "Idempotency-Key": key})
    assert first.status_code == 201
    other = {**NEW_AGENCY, "code": "000.04.00.H57", "name": "Sở Giáo dục"}
    second = client.post("/api/v1/agencies", json=other, headers={**auth.headers("admin2"), "Idempotency-Key": key})
    assert second.status_code == 201, second.get_data(as_text=True)
    assert second.get_json() == other
    assert agency_total(client) == 6


def test_key_length(client, admin):
    too_long = client.post("/api/v1/agencies", json=NEW_AGENCY, headers={**admin, "Idempotency-Key": "k" * 256})
    assert "Idempotency-Key" in assert_problem(too_long, 422)["errors"]
    assert agency_total(client) == 4
    longest = client.post("/api/v1/agencies", json=NEW_AGENCY, headers={**admin, "Idempotency-Key": "k" * 255})
    assert longest.status_code == 201, longest.get_data(as_text=True)
    replay = client.post("/api/v1/agencies", json=NEW_AGENCY, headers={**admin, "Idempotency-Key": "k" * 255})
    assert replay.status_code == 201 and replay.get_json() == longest.get_json()
    assert agency_total(client) == 5


# -- bad input is never a 500 -----------------------------------------------------------------


@pytest.mark.parametrize("method, path, body, status, field", [
    ("GET", "/api/v1/agencies/000%0001", None, 404, None),
    ("GET", "/api/v1/users/cl%00erk", None, 404, None),
    ("GET", "/api/v1/agencies?parent=a%00b", None, 422, "parent"),
    ("GET", "/api/v1/procedures?q=a%00b", None, 422, "q"),
    ("GET", "/api/v1/procedures?field=a%00b", None, 422, "field"),
    ("GET", "/api/v1/calendar/due?accepted_at=2025-01-24T10:00:00%2B07:00&procedure=1%00", None, 422, "procedure"),
    ("POST", "/api/v1/agencies", {"code": "000.03.00.H57", "name": "Sở\u0000Y tế"}, 422, "name"),
    ("POST", "/api/v1/procedures", {"code": "1.9", "name": "X", "field": "Y\u0000",
                                    "time_limit": {"value": 1, "unit": "working_days\u0000"}}, 422,
     "time_limit.unit"),
    ("POST", "/api/v1/calendar/overrides", {"date": "2025-03-11", "working": False, "name": "\u0000"}, 422, "name"),
    ("POST", "/api/v1/users", {"username": "nul.user", "password": "Long-Enough-\u0000-Password",
                               "role": "admin"}, 422, "password"),
    ("PATCH", "/api/v1/agencies/000.00.00.H57", {"name": "Huế\u0000"}, 422, "name"),
])
def test_nul_characters_are_refused_on_every_backend(client, admin, method, path, body, status, field):
    response = client.open(path, method=method, json=body, headers=admin)
    problem = assert_problem(response, status)
    if field:
        assert field in problem["errors"], problem
    assert client.get("/api/v1/agencies/000.00.00.H57").get_json()["name"] == "UBND thành phố Huế"
    assert agency_total(client) == 4


def test_nul_in_a_login_is_refused_like_bad_input(client, city):
    response = client.post("/api/v1/auth/login", json={"username": "admin\u0000", "password": PASSWORD})
    assert "username" in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize("query, field", [
    ("page=99999999999999999999", "page"),
    ("page=1000000001", "page"),
    ("page_size=99999999999999999999", "page_size"),
])
def test_huge_page_numbers_are_422(client, admin, query, field):
    for path in ("/api/v1/agencies", "/api/v1/procedures", "/api/v1/users", "/api/v1/calendar/overrides"):
        problem = assert_problem(client.get(f"{path}?{query}", headers=admin), 422)
        assert field in problem["errors"], (path, problem)
    far = client.get("/api/v1/agencies?page=1000000000&page_size=100")
    assert far.status_code == 200 and far.get_json()["items"] == []


@pytest.mark.parametrize("accepted_at, limit", [
    ("9999-12-30T10:00:00+07:00", {"days": 3}),
    ("9999-12-31T10:00:00+07:00", {"hours": 9}),
    ("9999-12-31T20:00:00-07:00", {"days": 1}),
    ("0001-01-01T00:00:00+07:00", {"days": 3}),
])
def test_deadlines_out_of_the_calendar_are_422(client, app, accepted_at, limit):
    response = client.get("/api/v1/calendar/due", query_string={"accepted_at": accepted_at, **limit})
    assert "accepted_at" in assert_problem(response, 422)["errors"]


def test_an_idempotency_key_with_control_characters_is_422(client, admin):
    response = client.post("/api/v1/agencies", json=NEW_AGENCY, headers={**admin, "Idempotency-Key": "a\tb"})
    assert "Idempotency-Key" in assert_problem(response, 422)["errors"]
    assert agency_total(client) == 4


def test_an_unexpected_error_is_a_500_problem_without_details(client, app, monkeypatch):
    from tracker.services import reference

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(reference, "agencies_query", broken)
    response = client.get("/api/v1/agencies")
    body = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True) and "RuntimeError" not in response.get_data(as_text=True)
    assert set(body) == {"type", "title", "status", "detail"}


def test_keys_are_kept_at_least_24_hours(client, app, admin):
    from datetime import timedelta

    from sqlalchemy import update

    from tracker.extensions import db
    from tracker.models import IdempotencyKey
    from tracker.models.types import utcnow

    headers = {**admin, "Idempotency-Key": "a-day-later"}
    first = client.post("/api/v1/agencies", json=NEW_AGENCY, headers=headers)
    assert first.status_code == 201
    with app.app_context():
        moved = db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
        assert moved.rowcount == 1
        db.session.commit()
    again = client.post("/api/v1/agencies", json=NEW_AGENCY, headers=headers)
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert agency_total(client) == 5
