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


def test_logout_without_a_body_ends_the_whole_session(client, city, auth):
    tokens = auth.tokens("viewer")
    other = auth.tokens("viewer")
    assert client.post(LOGOUT, headers=bearer(tokens["access_token"])).status_code == 204
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401)
    # The refresh token of the same login was not given, and is refused all the same.
    assert_problem(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 401)
    # Another login of the same user goes on.
    assert client.get(ME, headers=bearer(other["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(other["refresh_token"])).status_code == 200


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


# -- sessions end with a new password or a disabled account -----------------------------------


def test_a_password_change_ends_every_session_of_that_user(client, city, auth):
    first, second = auth.tokens("viewer"), auth.tokens("viewer")
    bystander = auth.tokens("clerk")
    admin = auth.headers("admin")
    response = client.patch("/api/v1/users/viewer", json={"password": "Another-Long-Password-7"}, headers=admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    for tokens in (first, second):
        assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401)
        assert_problem(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 401)
    assert client.get(ME, headers=bearer(bystander["access_token"])).status_code == 200
    # A login with the new password opens a session that works.
    fresh = Auth(client).tokens("viewer", "Another-Long-Password-7")
    assert client.get(ME, headers=bearer(fresh["access_token"])).status_code == 200


def test_a_disabled_account_stays_logged_out_when_enabled_again(client, city, auth):
    tokens = auth.tokens("clerk")
    admin = auth.headers("admin")
    assert client.patch("/api/v1/users/clerk", json={"active": False}, headers=admin).status_code == 200
    assert client.patch("/api/v1/users/clerk", json={"active": True}, headers=admin).status_code == 200
    # The tokens issued before the account was disabled do not come back to life.
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401)
    assert_problem(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 401)


def test_other_changes_keep_the_sessions(client, city, auth):
    tokens = auth.tokens("viewer")
    admin = auth.headers("admin")
    assert client.patch("/api/v1/users/viewer", json={"full_name": "Người Xem"}, headers=admin).status_code == 200
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200
    assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 200


def test_refresh_keeps_the_session_and_logout_ends_the_refreshed_token_too(client, city, auth):
    tokens = auth.tokens("viewer")
    refreshed = client.post(REFRESH, headers=bearer(tokens["refresh_token"])).get_json()["access_token"]
    claims = [pyjwt.decode(t, options={"verify_signature": False}) for t in
              (tokens["access_token"], tokens["refresh_token"], refreshed)]
    assert len({c["sid"] for c in claims}) == 1 and len(claims[0]["sid"]) == 32
    assert client.post(LOGOUT, headers=bearer(refreshed)).status_code == 204
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401)
    assert_problem(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 401)


# -- what a token must carry: key id, issuer, audience, expiry, a proper subject ---------------

SECRET = TEST_SETTINGS["SECRET_KEY"]


def forge(app, key: str = SECRET, kid: str | None = "current", header: dict | None = None, **claims) -> str:
    """A token signed like ours, with the claims of a real one overridden (``None`` drops a claim)."""
    import time

    base = {"sub": "1", "type": "access", "jti": "forged-jti", "sid": "0" * 32, "fresh": False,
            "iat": int(time.time()), "nbf": int(time.time()), "exp": int(time.time()) + 600,
            "iss": app.config["JWT_ENCODE_ISSUER"], "aud": app.config["JWT_ENCODE_AUDIENCE"]}
    payload = {k: v for k, v in {**base, **claims}.items() if v is not None}
    headers = {"kid": app.config["TRACKER_JWT_KID"] if kid == "current" else kid, **(header or {})}
    if headers["kid"] is None:
        del headers["kid"]
    return pyjwt.encode(payload, key, algorithm="HS256", headers=headers)


def real_claims(app, client, auth, username="clerk") -> dict:
    tokens = auth.tokens(username)
    return pyjwt.decode(tokens["access_token"], SECRET, algorithms=["HS256"],
                        audience=app.config["JWT_DECODE_AUDIENCE"], issuer=app.config["JWT_DECODE_ISSUER"])


def test_tokens_name_their_key_issuer_audience_and_expiry(app, client, city, auth):
    tokens = auth.tokens("clerk")
    for token in (tokens["access_token"], tokens["refresh_token"]):
        header = pyjwt.get_unverified_header(token)
        assert header["alg"] == "HS256" and header["kid"] == app.config["TRACKER_JWT_KID"]
        claims = pyjwt.decode(token, options={"verify_signature": False})
        assert claims["iss"] == "tracker" and claims["aud"] == "tracker-staff-api"
        assert isinstance(claims["exp"], int) and claims["exp"] > claims["iat"]
    # The key id names the key without revealing it.
    assert SECRET not in app.config["TRACKER_JWT_KID"] and len(app.config["TRACKER_JWT_KID"]) == 16


def test_a_forged_copy_of_a_real_token_works_only_with_everything_right(app, client, city, auth):
    """The control: a token re-signed with the right key and claims is accepted, so each refusal
    below is due to the one thing changed."""
    claims = real_claims(app, client, auth)
    good = forge(app, **claims)
    assert client.get(ME, headers=bearer(good)).status_code == 200


@pytest.mark.parametrize("change", [
    {"sub": "abc"}, {"sub": "99999999999999999999999999"}, {"sub": "9223372036854775808"}, {"sub": ["1"]},
    {"sub": 1}, {"sub": "-1"}, {"sub": "０1"}, {"sub": None}, {"exp": None}, {"exp": "never"}, {"iss": "someone-else"},
    {"iss": None}, {"aud": "another-api"}, {"aud": None}, {"sid": None}, {"sid": "f" * 32}, {"jti": None},
    {"type": "refresh"},
])
def test_a_token_with_a_wrong_claim_is_a_401_problem(app, client, city, auth, change):
    claims = real_claims(app, client, auth)
    token = forge(app, **{**claims, **change})
    body = assert_problem(client.get(ME, headers=bearer(token)), 401)
    assert client.get(ME, headers=bearer(token)).headers.get("WWW-Authenticate") == "Bearer", body


def test_a_session_belongs_to_its_user(app, client, city, auth):
    """A real session id under another user's id is refused."""
    claims = real_claims(app, client, auth, "clerk")
    admin_id = real_claims(app, client, auth, "admin")["sub"]
    assert_problem(client.get(ME, headers=bearer(forge(app, **{**claims, "sub": admin_id}))), 401)


@pytest.mark.parametrize("kid, key", [(None, SECRET), ("0123456789abcdef", SECRET), ("current", "another-key-" * 4)])
def test_a_token_with_an_unknown_kid_or_the_wrong_key_is_refused(app, client, city, auth, kid, key):
    claims = real_claims(app, client, auth)
    assert_problem(client.get(ME, headers=bearer(forge(app, key=key, kid=kid, **claims))), 401)


def test_only_hs256_is_accepted(app, client, city, auth):
    claims = real_claims(app, client, auth)
    import warnings

    header = {"kid": app.config["TRACKER_JWT_KID"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT finds our 45-byte test key short for SHA-512
        hs512 = pyjwt.encode(claims, SECRET, algorithm="HS512", headers=header)
    assert_problem(client.get(ME, headers=bearer(hs512)), 401)
    unsigned = pyjwt.encode(claims, None, algorithm="none", headers=header)
    assert_problem(client.get(ME, headers=bearer(unsigned)), 401)


def test_signing_keys_rotate_by_kid(make_app, database_urls, backend):
    """The new key signs; tokens of the old key work while it is listed, and stop once it is dropped."""
    old_key, new_key = SECRET, "the-new-signing-key-after-rotation-0123456789"
    before = make_app()
    Factory(before).agency("000.01.00.H57")
    Factory(before).user("clerk", "clerk", "000.01.00.H57")
    old_tokens = Auth(before.test_client()).tokens("clerk")

    def restarted(**settings):
        return create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_urls[backend], **settings})

    rotating = restarted(SECRET_KEY=new_key, TRACKER_OLD_SECRET_KEYS=old_key)
    finished = restarted(SECRET_KEY=new_key)
    try:
        client = rotating.test_client()
        assert client.get(ME, headers=bearer(old_tokens["access_token"])).status_code == 200
        renewed = client.post(REFRESH, headers=bearer(old_tokens["refresh_token"]))
        assert renewed.status_code == 200
        new_access = renewed.get_json()["access_token"]
        assert pyjwt.get_unverified_header(new_access)["kid"] == rotating.config["TRACKER_JWT_KID"] != \
            before.config["TRACKER_JWT_KID"]
        after = finished.test_client()
        assert after.get(ME, headers=bearer(new_access)).status_code == 200
        assert_problem(after.get(ME, headers=bearer(old_tokens["access_token"])), 401)
        assert_problem(after.post(REFRESH, headers=bearer(old_tokens["refresh_token"])), 401)
    finally:
        for app in (rotating, finished):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# -- usernames without case; the password policy ----------------------------------------------


def test_usernames_are_case_insensitive(client, city, auth):
    admin = auth.headers("admin")
    created = client.post("/api/v1/users", headers=admin, json={
        "username": "Tran.Binh", "password": PASSWORD, "role": "viewer", "agency_code": "000.01.00.H57"})
    assert created.status_code == 201 and created.get_json()["username"] == "tran.binh"
    for other in ("tran.binh", "TRAN.BINH"):
        clash = client.post("/api/v1/users", headers=admin, json={
            "username": other, "password": PASSWORD, "role": "viewer", "agency_code": "000.01.00.H57"})
        assert_problem(clash, 409)
    for spelling in ("Tran.Binh", "TRAN.binh", "tran.binh"):
        tokens = Auth(client).tokens(spelling)
        assert client.get(ME, headers=bearer(tokens["access_token"])).get_json()["username"] == "tran.binh"
    assert client.get("/api/v1/users/TRAN.BINH", headers=admin).get_json()["username"] == "tran.binh"


def test_the_database_refuses_an_upper_case_username(app, city):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE users SET username = 'Clerk' WHERE username = 'clerk'"))
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize("password, why", [
    ("Short-Pass1", "at least 12"),
    ("viewer-Strong-Pass-1", "username"),
    ("my-VIEWER-key-9999", "username"),
    ("Password@123", "common"),
    ("PASSWORD1234", "common"),
    ("qwertyuiop123", "common"),
    ("matkhau@2025", "common"),
    ("123456789012", "common"),
])
def test_weak_passwords_are_refused(client, city, auth, password, why):
    admin = auth.headers("admin")
    for response in (
        client.patch("/api/v1/users/viewer", json={"password": password}, headers=admin),
        client.post("/api/v1/users", headers=admin, json={"username": "viewer2" if why != "username" else "viewer.b",
                                                           "password": password.replace("viewer", "viewer.b")
                                                           .replace("VIEWER", "VIEWER.B"),
                                                           "role": "viewer", "agency_code": "000.01.00.H57"}),
    ):
        body = assert_problem(response, 422)
        assert why in " ".join(body["errors"]["password"]).lower(), body
    assert Auth(client).tokens("viewer")  # the old password still works


def test_the_shipped_common_list_is_sizeable_and_spares_the_known_good_ones():
    from tracker.services.passwords import common_passwords, policy_errors

    common = common_passwords()
    assert 500 <= len(common) <= 10000
    for good in ("Correct-Horse-42", "Smoke-Password-123", "Another-Long-Password-7"):
        assert policy_errors(good, "someone") == []


def test_passwords_are_hashed_with_argon2id_at_the_owasp_cost():
    from argon2 import Type, extract_parameters

    from tracker.services import passwords

    # The suite swaps in a cheaper hasher (conftest); this is the one the service is built with.
    found = extract_parameters(passwords.owasp_hasher().hash("Correct-Horse-42"))
    assert (found.type, found.memory_cost, found.time_cost, found.parallelism) == (Type.ID, 19456, 2, 1)


def test_an_old_hash_is_made_again_at_todays_cost_at_login(app, client, city):
    from argon2 import PasswordHasher, extract_parameters

    from tracker.models import User
    from tracker.services import passwords

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "clerk"))
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=2).hash(PASSWORD)
        db.session.commit()
    assert client.post(LOGIN, json={"username": "clerk", "password": PASSWORD}).status_code == 200
    with app.app_context():
        stored = db.session.scalar(db.select(User.password_hash).where(User.username == "clerk"))
        assert extract_parameters(stored) == extract_parameters(passwords._DUMMY_HASH)
        db.session.remove()


def test_cli_create_user_refuses_a_weak_password_with_a_clear_message(app, city):
    result = app.test_cli_runner().invoke(args=["tracker", "create-user", "Le.Ba", "--password", "password1234"])
    assert result.exit_code == 1 and "common" in result.output, result.output
    result = app.test_cli_runner().invoke(args=["tracker", "create-user", "Le.Ba", "--password", PASSWORD])
    assert result.exit_code == 0 and "le.ba" in result.output, result.output


def test_purge_sessions_forgets_only_what_has_expired(app, client, city, auth):
    from datetime import timedelta

    from sqlalchemy import func, select, update

    from tracker.models import LoginSession, RevokedToken
    from tracker.models.types import utcnow

    old, current = auth.tokens("clerk"), auth.tokens("clerk")
    assert client.post(LOGOUT, json={"refresh_token": old["refresh_token"]},
                       headers=bearer(old["access_token"])).status_code == 204
    old_sid = pyjwt.decode(old["access_token"], options={"verify_signature": False})["sid"]
    with app.app_context():
        db.session.execute(update(LoginSession).where(LoginSession.id == old_sid)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.execute(update(RevokedToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        sessions = db.session.scalar(select(func.count(LoginSession.id)))
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["tracker", "purge"])
    assert result.exit_code == 0 and " 3 expired sessions and revoked tokens" in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginSession.id))) == sessions - 1
        assert db.session.scalar(select(func.count(RevokedToken.jti))) == 0
        db.session.remove()
    assert client.get(ME, headers=bearer(current["access_token"])).status_code == 200
    # The purged session's tokens stay refused: an unknown session is no session.
    assert_problem(client.post(REFRESH, headers=bearer(old["refresh_token"])), 401)
