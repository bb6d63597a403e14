"""Authentication: login, refresh, logout, revocation, disabled users, throttling, /auth/me."""
from __future__ import annotations

import jwt as pyjwt
import pytest

from tests.conftest import PASSWORD, TEST_SETTINGS, Auth, Factory, assert_problem
from tracker import create_app
from tracker.extensions import db, limiter

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# -- login ------------------------------------------------------------------------------------


def test_login_gives_a_bearer_pair(app, client, city):
    response = client.post(LOGIN, json={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    # The default access lifetime is 15 minutes (TRACKER_ACCESS_TOKEN_MINUTES).
    assert body["expires_in"] == 15 * 60
    access = pyjwt.decode(body["access_token"], options={"verify_signature": False})
    refresh = pyjwt.decode(body["refresh_token"], options={"verify_signature": False})
    assert access["type"] == "access" and refresh["type"] == "refresh"
    assert access["exp"] - access["iat"] == body["expires_in"]
    assert access["jti"] != refresh["jti"]
    # The access token works at once.
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.get_json()["username"] == "clerk"


def test_bad_credentials_get_the_same_401_for_unknown_user_and_wrong_password(client, city):
    wrong_password = client.post(LOGIN, json={"username": "clerk", "password": "not-the-password"})
    unknown_user = client.post(LOGIN, json={"username": "nobody-here", "password": "not-the-password"})
    first = assert_problem(wrong_password, 401)
    second = assert_problem(unknown_user, 401)
    assert first == second
    assert "access_token" not in first
    # No hint of which half was wrong.
    for word in ("clerk", "nobody", "unknown user", "not found"):
        assert word not in first["detail"].lower()


def test_a_disabled_account_cannot_log_in_and_gets_the_same_answer(client, city):
    city.user("retired", "clerk", "000.01.00.H57", active=False)
    disabled = client.post(LOGIN, json={"username": "retired", "password": PASSWORD})
    unknown = client.post(LOGIN, json={"username": "nobody-here", "password": PASSWORD})
    assert assert_problem(disabled, 401) == assert_problem(unknown, 401)


def test_login_validates_its_body(client, city):
    body = assert_problem(client.post(LOGIN, json={"username": "clerk"}), 422)
    assert "password" in body["errors"]
    body = assert_problem(client.post(LOGIN, json={"password": PASSWORD}), 422)
    assert "username" in body["errors"]


# -- refresh ----------------------------------------------------------------------------------


def test_refresh_gives_a_new_working_access_token(client, city, auth):
    tokens = auth.tokens("viewer")
    response = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body["access_token"], str) and body["access_token"] != tokens["access_token"]
    assert body["expires_in"] == 15 * 60
    claims = pyjwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["type"] == "access"
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.get_json()["username"] == "viewer"


def test_an_access_token_is_refused_at_refresh(client, city, auth):
    tokens = auth.tokens("viewer")
    body = assert_problem(client.post(REFRESH, headers=bearer(tokens["access_token"])), 401)
    assert "access_token" not in body
    assert_problem(client.post(REFRESH), 401)


def test_a_refresh_token_is_not_an_access_token(client, city, auth):
    tokens = auth.tokens("admin")
    assert_problem(client.get(ME, headers=bearer(tokens["refresh_token"])), 401)
    assert_problem(client.get("/api/v1/users", headers=bearer(tokens["refresh_token"])), 401)


# -- logout -----------------------------------------------------------------------------------


def test_logout_revokes_the_access_and_the_refresh_token(client, city, auth):
    tokens = auth.tokens("clerk")
    other = auth.tokens("clerk")  # another session of the same user
    response = client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]},
                           headers=bearer(tokens["access_token"]))
    assert response.status_code == 204, response.get_data(as_text=True)
    assert response.get_data() == b""
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401)
    assert_problem(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 401)
    assert_problem(client.post(LOGOUT, headers=bearer(tokens["access_token"])), 401)
    # Only that session ended.
    assert client.get(ME, headers=bearer(other["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(other["refresh_token"])).status_code == 200


def test_logout_without_a_body_revokes_the_access_token(client, city, auth):
    tokens = auth.tokens("viewer")
    assert client.post(LOGOUT, headers=bearer(tokens["access_token"])).status_code == 204
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401)
    # The refresh token was not given, so it still works.
    assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 200


def test_logout_needs_an_access_token(client, city, auth):
    tokens = auth.tokens("viewer")
    assert_problem(client.post(LOGOUT), 401)
    assert_problem(client.post(LOGOUT, headers=bearer(tokens["refresh_token"])), 401)
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200


def test_logout_refuses_someone_elses_refresh_token_and_writes_nothing(client, city, auth):
    mine = auth.tokens("clerk")
    theirs = auth.tokens("viewer")
    response = client.post(LOGOUT, json={"refresh_token": theirs["refresh_token"]},
                           headers=bearer(mine["access_token"]))
    assert "refresh_token" in assert_problem(response, 422)["errors"]
    # A refused request writes nothing: neither token was revoked.
    assert client.post(REFRESH, headers=bearer(theirs["refresh_token"])).status_code == 200
    assert client.get(ME, headers=bearer(mine["access_token"])).status_code == 200
    garbage = client.post(LOGOUT, json={"refresh_token": "not.a.token"}, headers=bearer(mine["access_token"]))
    assert "refresh_token" in assert_problem(garbage, 422)["errors"]
    assert client.get(ME, headers=bearer(mine["access_token"])).status_code == 200


def test_revocation_survives_a_restart(client, city, auth, database_urls, backend):
    revoked = auth.tokens("clerk")
    kept = auth.tokens("clerk")
    assert client.post(LOGOUT, json={"refresh_token": revoked["refresh_token"]},
                       headers=bearer(revoked["access_token"])).status_code == 204

    # A new process on the same database (and the same signing key), tables untouched.
    restarted = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_urls[backend]})
    try:
        fresh = restarted.test_client()
        assert_problem(fresh.get(ME, headers=bearer(revoked["access_token"])), 401)
        assert_problem(fresh.post(REFRESH, headers=bearer(revoked["refresh_token"])), 401)
        # The other session is still valid there, so the refusal above is the revocation.
        me = fresh.get(ME, headers=bearer(kept["access_token"]))
        assert me.status_code == 200 and me.get_json()["username"] == "clerk"
        assert fresh.post(REFRESH, headers=bearer(kept["refresh_token"])).status_code == 200
    finally:
        with restarted.app_context():
            db.session.remove()
            db.engine.dispose()


# -- disabled users ---------------------------------------------------------------------------


def test_a_disabled_users_token_stops_working_at_the_next_request(client, city, auth):
    tokens = auth.tokens("clerk")
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200
    admin = auth.headers("admin")
    response = client.patch("/api/v1/users/clerk", json={"active": False}, headers=admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["active"] is False
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401)
    assert_problem(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 401)
    assert_problem(client.post(LOGIN, json={"username": "clerk", "password": PASSWORD}), 401)
    # Enabled again, the user can log in again.
    assert client.patch("/api/v1/users/clerk", json={"active": True}, headers=admin).status_code == 200
    assert client.post(LOGIN, json={"username": "clerk", "password": PASSWORD}).status_code == 200


def test_a_role_change_counts_at_the_next_request(client, city, auth):
    manager = auth.headers("manager")
    assert client.get("/api/v1/users", headers=manager).status_code == 200
    admin = auth.headers("admin")
    assert client.patch("/api/v1/users/manager", json={"role": "viewer"}, headers=admin).status_code == 200
    assert_problem(client.get("/api/v1/users", headers=manager), 403)
    assert client.get(ME, headers=manager).get_json()["role"] == "viewer"


def test_a_password_change_takes_effect(client, city, auth):
    admin = auth.headers("admin")
    new_password = "Another-Long-Password-7"
    assert client.patch("/api/v1/users/viewer", json={"password": new_password}, headers=admin).status_code == 200
    assert_problem(client.post(LOGIN, json={"username": "viewer", "password": PASSWORD}), 401)
    assert client.post(LOGIN, json={"username": "viewer", "password": new_password}).status_code == 200


# -- throttling -------------------------------------------------------------------------------


@pytest.fixture
def throttled(make_app):
    """An app that allows 3 failed logins a minute per username and per client address."""
    app = make_app(TRACKER_RATELIMIT_LOGIN="3/minute", TRACKER_RATELIMIT_LOGIN_CLIENT="3/minute",
                   TRACKER_RATELIMIT_LOGIN_USER="3/minute")
    with app.app_context():
        limiter.reset()
    factory = Factory(app)
    factory.agency("000.01.00.H57", "Sở Tư pháp")
    for name in ("alice", "bob", "carol", "dave"):
        factory.user(name, "clerk", "000.01.00.H57")
    yield app
    with app.app_context():
        limiter.reset()


def _login(client, username, password, ip):
    return client.post(LOGIN, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def _assert_throttled(response):
    body = assert_problem(response, 429)
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None, response.headers
    assert retry_after.isdigit() and 0 < int(retry_after) <= 60, retry_after
    return body


def test_failed_logins_for_one_username_are_throttled(throttled):
    client = throttled.test_client()
    # Three failures from three addresses: each address stays under its own limit.
    for n in range(3):
        assert_problem(_login(client, "alice", "wrong-password", f"10.0.0.{n + 1}"), 401)
    _assert_throttled(_login(client, "alice", "wrong-password", "10.0.0.9"))
    # Even the right password is refused while the username is throttled.
    _assert_throttled(_login(client, "alice", PASSWORD, "10.0.0.10"))
    # Another username from a fresh address is unaffected.
    assert _login(client, "bob", PASSWORD, "10.0.0.11").status_code == 200


def test_failed_logins_from_one_address_are_throttled_across_usernames(throttled):
    client = throttled.test_client()
    for name in ("alice", "bob", "carol"):
        assert_problem(_login(client, name, "wrong-password", "10.1.1.1"), 401)
    _assert_throttled(_login(client, "dave", "wrong-password", "10.1.1.1"))
    _assert_throttled(_login(client, "nobody-at-all", "wrong-password", "10.1.1.1"))
    # Another address may still log in as one of those users.
    assert _login(client, "dave", PASSWORD, "10.1.1.2").status_code == 200


def test_x_forwarded_for_does_not_pick_a_new_bucket_without_trusted_proxies(throttled):
    client = throttled.test_client()
    for n, name in enumerate(("alice", "bob", "carol")):
        response = client.post(LOGIN, json={"username": name, "password": "wrong-password"},
                               environ_base={"REMOTE_ADDR": "10.3.3.3"},
                               headers={"X-Forwarded-For": f"192.0.2.{n}"})
        assert_problem(response, 401)
    response = client.post(LOGIN, json={"username": "dave", "password": "wrong-password"},
                           environ_base={"REMOTE_ADDR": "10.3.3.3"}, headers={"X-Forwarded-For": "192.0.2.99"})
    _assert_throttled(response)


def test_successful_logins_are_not_counted_as_failures(throttled):
    client = throttled.test_client()
    for _ in range(5):
        assert _login(client, "carol", PASSWORD, "10.2.2.2").status_code == 200
    assert_problem(_login(client, "carol", "wrong-password", "10.2.2.2"), 401)


# -- /auth/me ---------------------------------------------------------------------------------


@pytest.mark.parametrize("username, role, agency_code", [
    ("admin", "admin", None),
    ("manager", "manager", "000.01.00.H57"),
    ("sub_clerk", "clerk", "000.01.01.H57"),
    ("viewer", "viewer", "000.01.00.H57"),
])
def test_me(client, city, auth, username, role, agency_code):
    response = client.get(ME, headers=auth.headers(username))
    assert response.status_code == 200
    assert response.get_json() == {"username": username, "full_name": username.title(), "role": role,
                                   "agency_code": agency_code}


def test_me_keeps_vietnamese_text_intact(client, city, auth):
    admin = auth.headers("admin")
    created = client.post("/api/v1/users", headers=admin, json={
        "username": "nguyen.an", "password": PASSWORD, "full_name": "Nguyễn Văn Ân", "role": "viewer",
        "agency_code": "000.01.00.H57"})
    assert created.status_code == 201, created.get_data(as_text=True)
    response = client.get(ME, headers=Auth(client).headers("nguyen.an"))
    assert response.get_json()["full_name"] == "Nguyễn Văn Ân"
    assert "Nguyễn Văn Ân".encode() in response.get_data()
