"""Who may do what: the role x agency matrix, table-driven.

The ``city`` fixture::

    ROOT 000.00.00.H57 (admin, no agency)
    ├─ DEPT 000.01.00.H57 (manager, clerk, viewer)
    │  └─ SUB 000.01.01.H57 (sub_clerk)
    └─ OTHER 000.02.00.H57 (other_clerk)

Each test walks a table of (caller, request, expected status) and reports every
mismatch at once; ``None`` as the caller means no token at all.
"""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, Auth, assert_problem

ROOT, DEPT, SUB, OTHER = "000.00.00.H57", "000.01.00.H57", "000.01.01.H57", "000.02.00.H57"
CALLERS = ("admin", "manager", "clerk", "viewer", "other_clerk")
USER_FIELDS = {"username", "full_name", "role", "agency_code", "active"}


@pytest.fixture
def as_(client, city):
    """``as_(caller, method, path, json)`` with cached tokens per caller."""
    tokens: dict[str, dict] = {}
    auth = Auth(client)

    def call(caller, method, path, json=None, **kwargs):
        headers = {}
        if caller is not None:
            if caller not in tokens:
                tokens[caller] = auth.headers(caller)
            headers = tokens[caller]
        return client.open(path, method=method, json=json, headers=headers, **kwargs)

    return call


def run_table(as_, table):
    """Run every row; collect (row, got) for the rows whose status differs; check error shapes."""
    wrong = []
    responses = []
    for caller, method, path, body, expected in table:
        response = as_(caller, method, path, body)
        responses.append((caller, method, path, response))
        if response.status_code != expected:
            wrong.append((caller, method, path, body, expected, response.status_code,
                          response.get_data(as_text=True)[:200]))
        elif expected >= 400:
            assert_problem(response, expected)
    assert not wrong, "\n".join(map(repr, wrong))
    return responses


def no_password_in(response):
    text = response.get_data(as_text=True)
    assert "password" not in text, text
    assert PASSWORD not in text


def new_user(username, role="clerk", agency=DEPT, **extra):
    return {"username": username, "password": PASSWORD, "full_name": f"Người {username}", "role": role,
            "agency_code": agency, **extra}


# -- users ------------------------------------------------------------------------------------


def test_who_may_list_users_and_what_they_see(as_):
    run_table(as_, [
        (None, "GET", "/api/v1/users", None, 401),
        ("clerk", "GET", "/api/v1/users", None, 403),
        ("viewer", "GET", "/api/v1/users", None, 403),
        ("other_clerk", "GET", "/api/v1/users", None, 403),
    ])
    admin = as_("admin", "GET", "/api/v1/users").get_json()
    assert {u["username"] for u in admin["items"]} == {"admin", "manager", "clerk", "sub_clerk", "viewer",
                                                       "other_clerk"}
    assert admin["total"] == 6 and admin["page"] == 1 and admin["page_size"] == 50
    manager = as_("manager", "GET", "/api/v1/users").get_json()
    # Only the clerks and viewers of its own subtree: not itself, not the admin, not OTHER.
    assert sorted(u["username"] for u in manager["items"]) == ["clerk", "sub_clerk", "viewer"]
    assert manager["total"] == 3
    for item in admin["items"] + manager["items"]:
        assert set(item) == USER_FIELDS, item
    page = as_("admin", "GET", "/api/v1/users?page=2&page_size=4").get_json()
    assert page["total"] == 6 and len(page["items"]) == 2


def test_who_may_read_a_user(as_):
    responses = run_table(as_, [
        (None, "GET", "/api/v1/users/clerk", None, 401),
        ("admin", "GET", "/api/v1/users/clerk", None, 200),
        ("admin", "GET", "/api/v1/users/other_clerk", None, 200),
        ("admin", "GET", "/api/v1/users/manager", None, 200),
        ("admin", "GET", "/api/v1/users/nobody", None, 404),
        ("manager", "GET", "/api/v1/users/clerk", None, 200),
        ("manager", "GET", "/api/v1/users/sub_clerk", None, 200),
        ("manager", "GET", "/api/v1/users/viewer", None, 200),
        ("manager", "GET", "/api/v1/users/other_clerk", None, 404),  # outside its subtree
        ("manager", "GET", "/api/v1/users/admin", None, 404),
        ("manager", "GET", "/api/v1/users/nobody", None, 404),
        ("clerk", "GET", "/api/v1/users/clerk", None, 403),
        ("clerk", "GET", "/api/v1/users/viewer", None, 403),
        ("viewer", "GET", "/api/v1/users/clerk", None, 403),
        ("other_clerk", "GET", "/api/v1/users/other_clerk", None, 403),
    ])
    # Outside the subtree looks exactly like a user that does not exist (no leak).
    outside = assert_problem(as_("manager", "GET", "/api/v1/users/other_clerk"), 404)
    missing = assert_problem(as_("manager", "GET", "/api/v1/users/nobody"), 404)
    assert outside["detail"].replace("other_clerk", "?") == missing["detail"].replace("nobody", "?")
    assert outside["title"] == missing["title"]
    for _, _, _, response in responses:
        no_password_in(response)
    assert as_("manager", "GET", "/api/v1/users/sub_clerk").get_json() == {
        "username": "sub_clerk", "full_name": "Sub_Clerk", "role": "clerk", "agency_code": SUB, "active": True}


def test_who_may_create_users(as_):
    run_table(as_, [
        (None, "POST", "/api/v1/users", new_user("anon1"), 401),
        ("clerk", "POST", "/api/v1/users", new_user("byclerk"), 403),
        ("viewer", "POST", "/api/v1/users", new_user("byviewer"), 403),
        ("other_clerk", "POST", "/api/v1/users", new_user("byother", agency=OTHER), 403),
        # A manager gives only clerk and viewer, only inside its subtree.
        ("manager", "POST", "/api/v1/users", new_user("m_clerk", "clerk", DEPT), 201),
        ("manager", "POST", "/api/v1/users", new_user("m_viewer", "viewer", SUB), 201),
        ("manager", "POST", "/api/v1/users", new_user("m_manager", "manager", DEPT), 403),
        ("manager", "POST", "/api/v1/users", new_user("m_admin", "admin", None), 403),
        ("manager", "POST", "/api/v1/users", new_user("m_admin2", "admin", DEPT), 403),
        ("manager", "POST", "/api/v1/users", new_user("m_outside", "clerk", OTHER), 403),
        ("manager", "POST", "/api/v1/users", new_user("m_root", "viewer", ROOT), 403),
        # An admin gives anything anywhere.
        ("admin", "POST", "/api/v1/users", new_user("a_manager", "manager", OTHER), 201),
        ("admin", "POST", "/api/v1/users", new_user("a_admin", "admin", None), 201),
        ("admin", "POST", "/api/v1/users", new_user("a_viewer", "viewer", ROOT), 201),
    ])
    # Exactly the accepted ones exist.
    names = {u["username"] for u in as_("admin", "GET", "/api/v1/users?page_size=100").get_json()["items"]}
    assert {"m_clerk", "m_viewer", "a_manager", "a_admin", "a_viewer"} <= names
    assert not names & {"anon1", "byclerk", "byviewer", "byother", "m_manager", "m_admin", "m_admin2",
                        "m_outside", "m_root"}


def test_a_created_user_can_log_in_and_is_never_shown_its_password(client, as_):
    response = as_("manager", "POST", "/api/v1/users", new_user("new.clerk", "clerk", SUB))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"username": "new.clerk", "full_name": "Người new.clerk", "role": "clerk",
                                   "agency_code": SUB, "active": True}
    no_password_in(response)
    login = client.post("/api/v1/auth/login", json={"username": "new.clerk", "password": PASSWORD})
    assert login.status_code == 200
    for path in ("/api/v1/users", "/api/v1/users/new.clerk"):
        no_password_in(as_("admin", "GET", path))
        no_password_in(as_("manager", "GET", path))
    patched = as_("manager", "PATCH", "/api/v1/users/new.clerk", {"password": "Brand-New-Password-1"})
    assert patched.status_code == 200
    no_password_in(patched)
    assert "Brand-New-Password-1" not in patched.get_data(as_text=True)


def test_user_creation_validates(as_):
    run_table(as_, [
        ("admin", "POST", "/api/v1/users", new_user("clerk"), 409),  # taken
        ("admin", "POST", "/api/v1/users", new_user("x"), 422),  # too short
        ("admin", "POST", "/api/v1/users", new_user("short.pw", password="short"), 422),
        ("admin", "POST", "/api/v1/users", new_user("bad.role", role="superuser"), 422),
        ("admin", "POST", "/api/v1/users", new_user("no.agency", agency=None), 422),
        ("admin", "POST", "/api/v1/users", new_user("bad.agency", agency="999.99.99.H99"), 422),
    ])
    body = assert_problem(as_("admin", "POST", "/api/v1/users", new_user("bad.agency", agency="999.99.99.H99")), 422)
    assert "agency_code" in body["errors"]
    body = assert_problem(as_("admin", "POST", "/api/v1/users", new_user("short.pw", password="short")), 422)
    assert "password" in body["errors"]
    assert "short" not in str(body["errors"]["password"])


def test_who_may_change_users(as_):
    run_table(as_, [
        (None, "PATCH", "/api/v1/users/clerk", {"full_name": "X"}, 401),
        ("clerk", "PATCH", "/api/v1/users/clerk", {"full_name": "X"}, 403),
        ("viewer", "PATCH", "/api/v1/users/clerk", {"full_name": "X"}, 403),
        ("other_clerk", "PATCH", "/api/v1/users/other_clerk", {"full_name": "X"}, 403),
        ("manager", "PATCH", "/api/v1/users/other_clerk", {"full_name": "X"}, 404),  # outside its subtree
        ("manager", "PATCH", "/api/v1/users/admin", {"full_name": "X"}, 404),
        ("manager", "PATCH", "/api/v1/users/nobody", {"full_name": "X"}, 404),
        ("manager", "PATCH", "/api/v1/users/clerk", {"role": "manager"}, 403),  # no promotions
        ("manager", "PATCH", "/api/v1/users/clerk", {"role": "admin"}, 403),
        ("manager", "PATCH", "/api/v1/users/clerk", {"agency_code": OTHER}, 403),  # nor moves out of reach
        ("manager", "PATCH", "/api/v1/users/sub_clerk", {"role": "viewer", "full_name": "Trần Thị Bình"}, 200),
        ("manager", "PATCH", "/api/v1/users/clerk", {"agency_code": SUB}, 200),
        ("admin", "PATCH", "/api/v1/users/other_clerk", {"role": "manager"}, 200),
        ("admin", "PATCH", "/api/v1/users/viewer", {"agency_code": OTHER}, 200),
        ("admin", "PATCH", "/api/v1/users/nobody", {"full_name": "X"}, 404),
    ])
    admin_view = {u["username"]: u for u in as_("admin", "GET", "/api/v1/users").get_json()["items"]}
    # The refused changes changed nothing, the accepted ones did.
    assert admin_view["other_clerk"] == {"username": "other_clerk", "full_name": "Other_Clerk",
                                         "role": "manager", "agency_code": OTHER, "active": True}
    assert admin_view["sub_clerk"]["role"] == "viewer" and admin_view["sub_clerk"]["full_name"] == "Trần Thị Bình"
    assert admin_view["clerk"] == {"username": "clerk", "full_name": "Clerk", "role": "clerk", "agency_code": SUB,
                                   "active": True}
    assert admin_view["viewer"]["agency_code"] == OTHER
    assert admin_view["admin"]["full_name"] == "Admin"


def test_an_admin_cannot_disable_itself(as_):
    assert_problem(as_("admin", "PATCH", "/api/v1/users/admin", {"active": False}), 409)
    assert as_("admin", "GET", "/api/v1/auth/me").status_code == 200


# -- reference data ---------------------------------------------------------------------------


def _reference_table(caller, expected_create, expected_update, n):
    return [
        (caller, "POST", "/api/v1/agencies", {"code": f"000.09.0{n}.H57", "name": "Phường Mới",
                                               "parent_code": ROOT}, expected_create),
        (caller, "PATCH", f"/api/v1/agencies/{OTHER}", {"name": f"Sở Xây dựng {n}"}, expected_update),
        (caller, "POST", "/api/v1/procedures", {"code": f"2.00000{n}", "name": "Cấp phép xây dựng",
                                                 "field": "Xây dựng",
                                                 "time_limit": {"value": 7, "unit": "working_days"}},
         expected_create),
        (caller, "PATCH", "/api/v1/procedures/1.000001", {"name": f"Đăng ký khai sinh {n}"}, expected_update),
    ]


def test_only_admins_write_reference_data(as_):
    table = (_reference_table(None, 401, 401, 0)
             + _reference_table("manager", 403, 403, 1)
             + _reference_table("clerk", 403, 403, 2)
             + _reference_table("viewer", 403, 403, 3)
             + _reference_table("other_clerk", 403, 403, 4)
             + _reference_table("admin", 201, 200, 5))
    run_table(as_, table)
    agencies = {a["code"] for a in as_(None, "GET", "/api/v1/agencies?page_size=100").get_json()["items"]}
    assert "000.09.05.H57" in agencies
    assert not {f"000.09.0{n}.H57" for n in range(5)} & agencies
    procedures = {p["code"] for p in as_(None, "GET", "/api/v1/procedures?page_size=100").get_json()["items"]}
    assert "2.000005" in procedures and not {f"2.00000{n}" for n in range(5)} & procedures
    assert as_(None, "GET", f"/api/v1/agencies/{OTHER}").get_json()["name"] == "Sở Xây dựng 5"
    assert as_(None, "GET", "/api/v1/procedures/1.000001").get_json()["name"] == "Đăng ký khai sinh 5"


def test_reference_data_is_public_to_read(as_):
    run_table(as_, [
        (caller, "GET", path, None, 200)
        for caller in (None, *CALLERS)
        for path in ("/api/v1/agencies", f"/api/v1/agencies/{DEPT}", "/api/v1/procedures",
                     "/api/v1/procedures/1.000001", "/api/v1/calendar/days?from=2025-01-01&to=2025-01-31",
                     "/api/v1/calendar/due?accepted_at=2025-01-24T10:00:00%2B07:00&days=3")
    ])


def test_only_admins_manage_calendar_overrides(as_):
    table = []
    for n, (caller, expected) in enumerate([(None, 401), ("manager", 403), ("clerk", 403), ("viewer", 403),
                                            ("other_clerk", 403)]):
        day = f"2025-03-1{n}"
        table += [
            (caller, "GET", "/api/v1/calendar/overrides", None, expected),
            (caller, "POST", "/api/v1/calendar/overrides", {"date": day, "working": False, "name": "Nghỉ"},
             expected),
        ]
    table += [
        ("admin", "GET", "/api/v1/calendar/overrides", None, 200),
        ("admin", "POST", "/api/v1/calendar/overrides", {"date": "2025-03-18", "working": False,
                                                          "name": "Nghỉ bù"}, 201),
    ]
    for caller, expected in [(None, 401), ("manager", 403), ("clerk", 403), ("viewer", 403),
                             ("other_clerk", 403)]:
        table.append((caller, "DELETE", "/api/v1/calendar/overrides/2025-03-18", None, expected))
    run_table(as_, table)
    listed = as_("admin", "GET", "/api/v1/calendar/overrides").get_json()
    assert [o["date"] for o in listed["items"]] == ["2025-03-18"]
    assert as_("admin", "DELETE", "/api/v1/calendar/overrides/2025-03-18").status_code == 204
    assert as_("admin", "GET", "/api/v1/calendar/overrides").get_json()["total"] == 0
