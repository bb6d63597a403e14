"""Input no view can handle is refused up front: deep JSON, bytes that are not UTF-8, lone
surrogates, NaN, huge numbers, trailing newlines after codes; never a 500."""
from __future__ import annotations

import pytest

from tests.conftest import assert_problem
from tracker.http.hygiene import MAX_JSON_DEPTH

AGENCIES = "/api/v1/agencies"


@pytest.fixture
def admin(city, auth):
    return auth.headers("admin")


def _post(client, headers, raw: bytes | str, path: str = AGENCIES):
    return client.post(path, data=raw, content_type="application/json", headers=headers)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_json_nested_too_deep_is_400(client, admin, depth):
    body = assert_problem(_post(client, admin, "[" * depth + "]" * depth), 400)
    assert "deeper than 64" in body["detail"]
    deep_object = '{"a":' * depth + "1" + "}" * depth
    assert_problem(_post(client, admin, deep_object), 400)


def test_json_at_the_depth_limit_reaches_the_schema(client, admin):
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)  # inside the body's own object
    assert_problem(_post(client, admin, '{"code": "000.03.00.H57", "name": %s}' % nested), 422)


@pytest.mark.parametrize("raw", [b'{"code": "\xff", "name": "x"}', b'{"code": "\xc0\xaf", "name": "x"}',
                                 b'{"code": "\xed\xa0\x80", "name": "x"}', b'{"\xe0\x80\xaf": 1}'])
def test_bytes_that_are_not_utf8_in_the_body_are_400(client, admin, raw):
    body = assert_problem(_post(client, admin, raw), 400)
    assert "UTF-8" in body["detail"]


@pytest.mark.parametrize("raw, field", [
    ('{"code": "000.03.00.H57", "name": "B\\ud800"}', "name"),
    ('{"code": "000.03.00.H57", "name": "\\udfff"}', "name"),
    ('{"code": "000.03.00.H57", "name": "x", "\\ud83d": 1}', "\\ud83d"),
    ('{"code": "000.03.00.H57", "name": "x", "parent": {"list": ["ok", "\\udc00"]}}', "parent.list.1"),
])
def test_lone_surrogates_are_422_naming_the_field(client, admin, raw, field):
    body = assert_problem(_post(client, admin, raw), 422)
    assert field in body["errors"], body


def test_a_surrogate_pair_is_text(client, admin):
    response = _post(client, admin, '{"code": "000.03.00.H57", "name": "S\\ud83d\\ude00"}')
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == "S\U0001F600"


@pytest.mark.parametrize("raw", ['{"code": NaN}', '{"code": Infinity}', '{"code": -Infinity}', '{"n": 1e999999}',
                                 '{"n": %s}' % ("9" * 5000)])
def test_numbers_that_are_not_json_numbers_are_400(client, admin, raw):
    assert_problem(_post(client, admin, raw), 400)


@pytest.mark.parametrize("path", ["/api/v1/agencies?parent=%FF", "/api/v1/agencies?%C0%AF=1",
                                  "/api/v1/agencies?parent=%ED%A0%80", "/lookup?code=%FF"])
def test_bytes_that_are_not_utf8_in_the_query_are_400(client, path):
    body = assert_problem(client.get(path), 400)
    assert "UTF-8" in body["detail"]


@pytest.mark.parametrize("raw", [b"/api/v1/agencies/\xed\xa0\x80", b"/api/v1/public/dossiers/\xc0\xaf",
                                 b"/lookup/\xff", b"/api/v1/nowhere/\xe0\x80\xaf"])
def test_bytes_that_are_not_utf8_in_the_path_are_400(client, raw):
    # As a server hands the path over (the test client would replace the bytes with U+FFFD).
    response = client.get("/", environ_overrides={"PATH_INFO": raw.decode("unicode_escape")})
    assert "UTF-8" in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize("header", ["Accept-Language", "If-None-Match", "Authorization", "X-Anything"])
def test_bytes_that_are_not_utf8_in_a_header_are_400(client, header):
    response = client.get("/api/v1/public/dossiers/X", headers={header: "vi\xff"})
    assert "UTF-8" in assert_problem(response, 400)["detail"]


def test_utf8_in_a_header_is_accepted(client):
    raw_utf8 = "Nguyễn".encode().decode("latin-1")  # how WSGI hands UTF-8 bytes over
    assert client.get("/api/v1/public/dossiers/X", headers={"X-Note": raw_utf8}).status_code == 404


@pytest.mark.parametrize("path, body", [
    (AGENCIES, {"code": "000.03.00.H57\n", "name": "X"}),
    (AGENCIES, {"code": "000.03.00.H57", "name": "X", "parent_code": "000.00.00.H57\n"}),
    ("/api/v1/procedures", {"code": "1.000009\n", "name": "X", "field": "Y",
                            "time_limit": {"value": 1, "unit": "working_days"}}),
    ("/api/v1/users", {"username": "newuser\n", "password": "Correct-Horse-42", "role": "viewer",
                       "agency_code": "000.01.00.H57", "full_name": "N"}),
])
def test_a_trailing_newline_does_not_pass_a_pattern(client, admin, path, body):
    body = assert_problem(client.post(path, json=body, headers=admin), 422)
    assert body["errors"], body
