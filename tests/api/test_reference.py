"""Reference data: agencies, procedures, the working-day calendar and its overrides."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import assert_problem

ROOT, DEPT, SUB, OTHER = "000.00.00.H57", "000.01.00.H57", "000.01.01.H57", "000.02.00.H57"
AGENCY_FIELDS = {"code", "name", "parent_code", "level"}


@pytest.fixture
def admin(city, auth):
    return auth.headers("admin")


# -- agencies ---------------------------------------------------------------------------------


def test_agencies_are_a_public_paginated_list(client, city):
    response = client.get("/api/v1/agencies")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "page", "page_size", "total"}
    assert (body["page"], body["page_size"], body["total"]) == (1, 50, 4)
    assert [a["code"] for a in body["items"]] == [ROOT, DEPT, SUB, OTHER]
    assert body["items"][0] == {"code": ROOT, "name": "UBND thành phố Huế", "parent_code": None,
                                "level": "province"}
    assert body["items"][2] == {"code": SUB, "name": "Phòng Hộ tịch", "parent_code": DEPT, "level": "other"}
    assert "UBND thành phố Huế".encode() in response.get_data()  # no \u escapes

    pages = [client.get(f"/api/v1/agencies?page={n}&page_size=3").get_json() for n in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [3, 1, 0]
    assert all(p["total"] == 4 and p["page_size"] == 3 for p in pages)
    assert [p["page"] for p in pages] == [1, 2, 3]
    assert [a["code"] for p in pages for a in p["items"]] == [ROOT, DEPT, SUB, OTHER]


@pytest.mark.parametrize("query, field", [
    ("page_size=101", "page_size"),
    ("page_size=0", "page_size"),
    ("page=0", "page"),
    ("page=abc", "page"),
])
def test_bad_pagination_is_422(client, city, query, field):
    body = assert_problem(client.get(f"/api/v1/agencies?{query}"), 422)
    assert field in body["errors"], body
    assert client.get("/api/v1/agencies?page_size=100").status_code == 200


def test_agencies_filtered_by_parent(client, city):
    children = client.get(f"/api/v1/agencies?parent={ROOT}").get_json()
    assert [a["code"] for a in children["items"]] == [DEPT, OTHER] and children["total"] == 2
    assert [a["code"] for a in client.get(f"/api/v1/agencies?parent={DEPT}").get_json()["items"]] == [SUB]
    leaf = client.get(f"/api/v1/agencies?parent={SUB}").get_json()
    assert leaf["items"] == [] and leaf["total"] == 0
    unknown = client.get("/api/v1/agencies?parent=999.99.99.H99").get_json()
    assert unknown["items"] == [] and unknown["total"] == 0


def test_one_agency(client, city):
    response = client.get(f"/api/v1/agencies/{DEPT}")
    assert response.status_code == 200
    assert response.get_json() == {"code": DEPT, "name": "Sở Tư pháp", "parent_code": ROOT, "level": "department"}
    assert_problem(client.get("/api/v1/agencies/999.99.99.H99"), 404)


def test_create_agency(client, admin):
    body = {"code": "000.03.00.H57", "name": "Sở Y tế", "parent_code": ROOT, "level": "department"}
    response = client.post("/api/v1/agencies", json=body, headers=admin)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == body
    assert client.get("/api/v1/agencies/000.03.00.H57").get_json() == body
    # level defaults to "other", parent to none.
    response = client.post("/api/v1/agencies", json={"code": "H57.1", "name": "Trung tâm"}, headers=admin)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"code": "H57.1", "name": "Trung tâm", "parent_code": None, "level": "other"}


def test_duplicate_agency_is_409_and_changes_nothing(client, admin):
    response = client.post("/api/v1/agencies", json={"code": DEPT, "name": "Trùng mã"}, headers=admin)
    assert_problem(response, 409)
    assert client.get(f"/api/v1/agencies/{DEPT}").get_json()["name"] == "Sở Tư pháp"
    assert client.get("/api/v1/agencies").get_json()["total"] == 4


@pytest.mark.parametrize("body, field", [
    ({"code": "bad code!", "name": "X"}, "code"),
    ({"code": "ab", "name": "X"}, "code"),
    ({"code": "000.05.00.H57"}, "name"),
    ({"code": "000.05.00.H57", "name": ""}, "name"),
    ({"code": "000.05.00.H57", "name": "X", "level": "galaxy"}, "level"),
    ({"code": "000.05.00.H57", "name": "X", "parent_code": "999.99.99.H99"}, "parent_code"),
    ({"name": "X"}, "code"),
])
def test_invalid_agency_is_422_per_field(client, admin, body, field):
    response = client.post("/api/v1/agencies", json=body, headers=admin)
    problem = assert_problem(response, 422)
    assert field in problem["errors"], problem
    assert all(isinstance(m, str) and m for m in problem["errors"][field])
    assert client.get("/api/v1/agencies").get_json()["total"] == 4


def test_patch_agency(client, admin):
    response = client.patch(f"/api/v1/agencies/{SUB}", json={"name": "Phòng Tư pháp", "parent_code": OTHER,
                                                            "level": "commune"}, headers=admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"code": SUB, "name": "Phòng Tư pháp", "parent_code": OTHER, "level": "commune"}
    assert [a["code"] for a in client.get(f"/api/v1/agencies?parent={OTHER}").get_json()["items"]] == [SUB]
    # To the top of the tree.
    response = client.patch(f"/api/v1/agencies/{SUB}", json={"parent_code": None}, headers=admin)
    assert response.status_code == 200 and response.get_json()["parent_code"] is None
    assert_problem(client.patch("/api/v1/agencies/999.99.99.H99", json={"name": "X"}, headers=admin), 404)
    body = assert_problem(client.patch(f"/api/v1/agencies/{SUB}", json={"parent_code": "999.99.99.H99"},
                                       headers=admin), 422)
    assert "parent_code" in body["errors"]


@pytest.mark.parametrize("code, new_parent", [
    (ROOT, SUB),    # a grandparent under its grandchild
    (ROOT, DEPT),   # a parent under its child
    (DEPT, SUB),
    (DEPT, DEPT),   # itself
    (SUB, SUB),
])
def test_patch_that_would_create_a_cycle_is_422_and_changes_nothing(client, admin, code, new_parent):
    before = client.get("/api/v1/agencies").get_json()["items"]
    response = client.patch(f"/api/v1/agencies/{code}", json={"parent_code": new_parent, "name": "Đổi tên"},
                            headers=admin)
    body = assert_problem(response, 422)
    assert "parent_code" in body["errors"]
    assert client.get("/api/v1/agencies").get_json()["items"] == before


# -- procedures -------------------------------------------------------------------------------


@pytest.fixture
def procedures(city):
    city.procedure("1.001193", 5, field="Hộ tịch", name="Đăng ký khai sinh")
    city.procedure("1.000656", 3, field="Hộ tịch", name="Đăng ký kết hôn")
    city.procedure("2.000815", 1, field="Chứng thực", name="Chứng thực bản sao từ bản chính")
    return city


def test_procedure_shape(client, procedures):
    response = client.get("/api/v1/procedures/1.001193")
    assert response.status_code == 200
    assert response.get_json() == {"code": "1.001193", "name": "Đăng ký khai sinh", "field": "Hộ tịch",
                                   "time_limit": {"value": 5, "unit": "working_days"}, "online_level": "none"}
    assert client.get("/api/v1/procedures/1.000002").get_json()["time_limit"] == {"value": 4,
                                                                                   "unit": "working_hours"}
    assert_problem(client.get("/api/v1/procedures/9.999999"), 404)
    listing = client.get("/api/v1/procedures").get_json()
    assert set(listing) == {"items", "page", "page_size", "total"} and listing["total"] == 5


def test_procedures_by_field(client, procedures):
    codes = lambda q: [p["code"] for p in client.get("/api/v1/procedures", query_string=q).get_json()["items"]]  # noqa: E731
    assert codes({"field": "Chứng thực"}) == ["1.000002", "2.000815"]
    assert codes({"field": "Hộ tịch"}) == ["1.000001", "1.000656", "1.001193"]
    assert codes({"field": "Xây dựng"}) == []


@pytest.mark.parametrize("q, expected", [
    ("dang ky khai sinh", ["1.001193"]),   # no diacritics
    ("KHAI SINH", ["1.001193"]),           # any case
    ("Đăng ký", ["1.000656", "1.001193"]),  # with them
    ("dang ky", ["1.000656", "1.001193"]),
    ("ket hon", ["1.000656"]),
    ("chung thuc ban sao", ["2.000815"]),
    ("1.0011", ["1.001193"]),              # part of the code
    ("ly hon", []),
])
def test_procedure_search(client, procedures, q, expected):
    body = client.get("/api/v1/procedures", query_string={"q": q}).get_json()
    assert [p["code"] for p in body["items"]] == expected
    assert body["total"] == len(expected)


def test_procedure_search_combines_with_field(client, procedures):
    body = client.get("/api/v1/procedures", query_string={"q": "dang ky", "field": "Chứng thực"}).get_json()
    assert body["items"] == []


def test_create_and_patch_procedure(client, admin):
    body = {"code": "1.004227", "name": "Cấp bản sao trích lục hộ tịch", "field": "Hộ tịch",
            "time_limit": {"value": 8, "unit": "working_hours"}}
    response = client.post("/api/v1/procedures", json=body, headers=admin)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {**body, "online_level": "none"}
    assert_problem(client.post("/api/v1/procedures", json=body, headers=admin), 409)
    # The new one is searchable without diacritics.
    found = client.get("/api/v1/procedures", query_string={"q": "trich luc"}).get_json()["items"]
    assert [p["code"] for p in found] == ["1.004227"]

    response = client.patch("/api/v1/procedures/1.004227", json={"time_limit": {"value": 2, "unit": "working_days"}},
                            headers=admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["time_limit"] == {"value": 2, "unit": "working_days"}
    assert response.get_json()["name"] == body["name"]
    assert client.get("/api/v1/procedures/1.004227").get_json()["time_limit"] == {"value": 2, "unit": "working_days"}
    # Renamed, the search follows the new name.
    client.patch("/api/v1/procedures/1.004227", json={"name": "Cấp giấy xác nhận tình trạng hôn nhân"},
                 headers=admin)
    assert client.get("/api/v1/procedures", query_string={"q": "trich luc"}).get_json()["total"] == 0
    assert client.get("/api/v1/procedures", query_string={"q": "tinh trang hon nhan"}).get_json()["total"] == 1
    assert_problem(client.patch("/api/v1/procedures/9.999999", json={"name": "X"}, headers=admin), 404)


@pytest.mark.parametrize("time_limit, fields", [
    ({"value": 0, "unit": "working_days"}, {"time_limit.value"}),
    ({"value": 3, "unit": "weeks"}, {"time_limit.unit"}),
    ({"value": "soon"}, {"time_limit.value", "time_limit.unit"}),
    ("three days", {"time_limit"}),
    (None, {"time_limit"}),
])
def test_invalid_time_limit_on_patch_is_422_and_changes_nothing(client, admin, time_limit, fields):
    response = client.patch("/api/v1/procedures/1.000001", json={"time_limit": time_limit, "name": "Khác"},
                            headers=admin)
    body = assert_problem(response, 422)
    assert fields <= set(body["errors"]), body
    assert client.get("/api/v1/procedures/1.000001").get_json() == {
        "code": "1.000001", "name": "Thủ tục 1.000001", "field": "Hộ tịch",
        "time_limit": {"value": 3, "unit": "working_days"}, "online_level": "none"}


# -- calendar: days ---------------------------------------------------------------------------


def days(client, start, end):
    response = client.get("/api/v1/calendar/days", query_string={"from": start, "to": end})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {d["date"]: d for d in response.get_json()}


def test_tet_2025_is_off_with_vietnamese_names(client, app):
    response = client.get("/api/v1/calendar/days?from=2025-01-24&to=2025-02-03")
    assert response.status_code == 200
    listing = response.get_json()
    assert isinstance(listing, list)  # not paginated
    assert [d["date"] for d in listing] == [(date(2025, 1, 24) + timedelta(n)).isoformat() for n in range(11)]
    assert all(set(d) == {"date", "working", "name"} for d in listing)
    by_date = {d["date"]: d for d in listing}
    # Tết 2025 ran Monday 27/1 to Saturday 1/2.
    for day in ("2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-01"):
        assert by_date[day]["working"] is False, day
        assert "Tết" in by_date[day]["name"], by_date[day]
    assert by_date["2025-01-29"]["name"] == "Tết Nguyên Đán"
    assert "Tết".encode() in response.get_data()  # Vietnamese intact, no \u escapes
    assert by_date["2025-01-24"] == {"date": "2025-01-24", "working": True, "name": None}
    assert by_date["2025-01-25"] == {"date": "2025-01-25", "working": False, "name": None}  # a Saturday
    assert by_date["2025-02-02"]["working"] is False  # Sunday
    assert by_date["2025-02-03"] == {"date": "2025-02-03", "working": True, "name": None}


def test_the_make_up_saturday_works_and_its_bridge_day_is_off(client, app):
    by_date = days(client, "2025-04-25", "2025-05-05")
    assert by_date["2025-04-26"]["working"] is True   # Saturday, worked in exchange for 2/5
    assert by_date["2025-04-27"]["working"] is False
    assert by_date["2025-04-30"]["working"] is False and by_date["2025-04-30"]["name"]
    assert by_date["2025-05-01"]["working"] is False and by_date["2025-05-01"]["name"]
    assert by_date["2025-05-02"]["working"] is False  # the bridge day
    assert by_date["2025-05-05"]["working"] is True


def test_days_span_limits(client, app):
    assert len(days(client, "2024-01-01", "2024-12-31")) == 366  # a leap year fits
    assert len(days(client, "2025-03-03", "2025-03-03")) == 1
    body = assert_problem(client.get("/api/v1/calendar/days?from=2025-01-01&to=2026-01-02"), 422)
    assert body["errors"]
    body = assert_problem(client.get("/api/v1/calendar/days?from=2025-02-01&to=2025-01-31"), 422)
    assert body["errors"]
    assert "from" in assert_problem(client.get("/api/v1/calendar/days?to=2025-01-31"), 422)["errors"]
    assert "to" in assert_problem(client.get("/api/v1/calendar/days?from=2025-01-31&to=31/01/2025"),
                                  422)["errors"]


# -- calendar: due ----------------------------------------------------------------------------


def due(client, **params):
    response = client.get("/api/v1/calendar/due", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_due_domain_example(client, app):
    body = due(client, accepted_at="2025-01-24T10:00:00+07:00", days=3)
    assert body["accepted_at"] == "2025-01-24T10:00:00+07:00"
    assert body["effective_intake_at"] == "2025-01-24T10:00:00+07:00"
    assert body["due_at"] == "2025-02-05T17:00:00+07:00"


def test_due_answers_in_the_business_time_zone(client, app):
    body = due(client, accepted_at="2025-01-24T03:00:00Z", days=3)
    assert body["accepted_at"] == "2025-01-24T10:00:00+07:00"
    assert body["due_at"] == "2025-02-05T17:00:00+07:00"


@pytest.mark.parametrize("accepted_at, effective, due_at", [
    # Tuesday before the cut-off: counted that day; one day means Wednesday.
    ("2025-03-04T14:59:00+07:00", "2025-03-04T14:59:00+07:00", "2025-03-05T17:00:00+07:00"),
    ("2025-03-04T15:00:00+07:00", "2025-03-04T15:00:00+07:00", "2025-03-05T17:00:00+07:00"),
    # After 15:00 the intake moves to the next working day at 07:30.
    ("2025-03-04T15:30:00+07:00", "2025-03-05T07:30:00+07:00", "2025-03-06T17:00:00+07:00"),
    # Friday after the cut-off: Monday.
    ("2025-03-07T16:00:00+07:00", "2025-03-10T07:30:00+07:00", "2025-03-11T17:00:00+07:00"),
    # A Saturday: Monday.
    ("2025-03-08T09:00:00+07:00", "2025-03-10T07:30:00+07:00", "2025-03-11T17:00:00+07:00"),
    # The last day before Tết, after the cut-off: after Tết.
    ("2025-01-24T15:30:00+07:00", "2025-02-03T07:30:00+07:00", "2025-02-04T17:00:00+07:00"),
])
def test_due_cut_off(client, app, accepted_at, effective, due_at):
    body = due(client, accepted_at=accepted_at, days=1)
    assert (body["effective_intake_at"], body["due_at"]) == (effective, due_at)


@pytest.mark.parametrize("accepted_at, hours, due_at", [
    ("2025-03-04T10:00:00+07:00", 4, "2025-03-04T16:00:00+07:00"),  # 1.5 h before lunch, 2.5 h after
    ("2025-03-04T08:00:00+07:00", 3, "2025-03-04T11:00:00+07:00"),  # within the morning
    ("2025-03-04T14:00:00+07:00", 4, "2025-03-05T08:30:00+07:00"),  # 3 h today, 1 h tomorrow
    ("2025-03-07T14:00:00+07:00", 4, "2025-03-10T08:30:00+07:00"),  # over a weekend
    ("2025-03-04T11:00:00+07:00", 1, "2025-03-04T14:00:00+07:00"),  # lunch is not counted
])
def test_due_in_working_hours(client, app, accepted_at, hours, due_at):
    body = due(client, accepted_at=accepted_at, hours=hours)
    assert body["effective_intake_at"] == accepted_at
    assert body["due_at"] == due_at


def test_due_for_a_procedure_uses_its_time_limit(client, admin):
    by_procedure = due(client, accepted_at="2025-01-24T10:00:00+07:00", procedure="1.000001")  # 3 days
    assert by_procedure["due_at"] == "2025-02-05T17:00:00+07:00"
    by_hours = due(client, accepted_at="2025-03-04T10:00:00+07:00", procedure="1.000002")  # 4 hours
    assert by_hours["due_at"] == "2025-03-04T16:00:00+07:00"
    # Change the limit: the preview follows.
    client.patch("/api/v1/procedures/1.000001", json={"time_limit": {"value": 1, "unit": "working_days"}},
                 headers=admin)
    assert due(client, accepted_at="2025-01-24T10:00:00+07:00", procedure="1.000001")["due_at"] == \
        "2025-02-03T17:00:00+07:00"


@pytest.mark.parametrize("params, field", [
    ({"accepted_at": "2025-01-24T10:00:00+07:00", "procedure": "9.999999"}, "procedure"),
    ({"accepted_at": "2025-01-24T10:00:00", "days": 3}, "accepted_at"),          # naive
    ({"accepted_at": "24/01/2025 10:00", "days": 3}, "accepted_at"),
    ({"days": 3}, "accepted_at"),
    ({"accepted_at": "2025-01-24T10:00:00+07:00"}, None),                         # no limit
    ({"accepted_at": "2025-01-24T10:00:00+07:00", "days": 3, "hours": 4}, None),  # two limits
    ({"accepted_at": "2025-01-24T10:00:00+07:00", "days": 3, "procedure": "1.000001"}, None),
    ({"accepted_at": "2025-01-24T10:00:00+07:00", "days": 0}, "days"),
    ({"accepted_at": "2025-01-24T10:00:00+07:00", "hours": -1}, "hours"),
    ({"accepted_at": "2025-01-24T10:00:00+07:00", "days": "three"}, "days"),
])
def test_due_refuses_bad_input_with_422(client, city, params, field):
    body = assert_problem(client.get("/api/v1/calendar/due", query_string=params), 422)
    assert body["errors"], body
    if field:
        assert field in body["errors"], body


# -- calendar: overrides ----------------------------------------------------------------------


def test_override_makes_a_tuesday_a_day_off_and_delete_restores_it(client, admin):
    before_days = days(client, "2025-03-10", "2025-03-12")
    assert before_days["2025-03-11"] == {"date": "2025-03-11", "working": True, "name": None}
    assert due(client, accepted_at="2025-03-10T10:00:00+07:00", days=1)["due_at"] == "2025-03-11T17:00:00+07:00"

    override = {"date": "2025-03-11", "working": False, "name": "Nghỉ theo quyết định của UBND tỉnh"}
    response = client.post("/api/v1/calendar/overrides", json=override, headers=admin)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == override
    assert days(client, "2025-03-11", "2025-03-11")["2025-03-11"] == override
    assert due(client, accepted_at="2025-03-10T10:00:00+07:00", days=1)["due_at"] == "2025-03-12T17:00:00+07:00"
    on_the_day = due(client, accepted_at="2025-03-11T10:00:00+07:00", hours=1)
    assert on_the_day["effective_intake_at"] == "2025-03-12T07:30:00+07:00"
    assert on_the_day["due_at"] == "2025-03-12T08:30:00+07:00"
    listed = client.get("/api/v1/calendar/overrides", headers=admin).get_json()
    assert listed["items"] == [override] and listed["total"] == 1
    after = client.get("/api/v1/calendar/overrides?from=2025-03-12", headers=admin).get_json()
    before = client.get("/api/v1/calendar/overrides?from=2025-03-01&to=2025-03-11", headers=admin).get_json()
    assert (after["total"], before["items"]) == (0, [override])

    duplicate = client.post("/api/v1/calendar/overrides", json={**override, "working": True, "name": "Khác"},
                            headers=admin)
    assert_problem(duplicate, 409)
    assert days(client, "2025-03-11", "2025-03-11")["2025-03-11"] == override

    deleted = client.delete("/api/v1/calendar/overrides/2025-03-11", headers=admin)
    assert deleted.status_code == 204 and deleted.get_data() == b""
    assert days(client, "2025-03-10", "2025-03-12") == before_days
    assert due(client, accepted_at="2025-03-10T10:00:00+07:00", days=1)["due_at"] == "2025-03-11T17:00:00+07:00"
    assert_problem(client.delete("/api/v1/calendar/overrides/2025-03-11", headers=admin), 404)


def test_override_can_make_a_holiday_or_a_weekend_a_working_day(client, admin):
    for body in ({"date": "2025-03-15", "working": True, "name": "Làm bù"},
                 {"date": "2025-09-01", "working": True, "name": "Làm việc"}):
        assert client.post("/api/v1/calendar/overrides", json=body, headers=admin).status_code == 201
    assert days(client, "2025-03-15", "2025-03-15")["2025-03-15"] == {"date": "2025-03-15", "working": True,
                                                                      "name": "Làm bù"}
    assert days(client, "2025-09-01", "2025-09-01")["2025-09-01"]["working"] is True
    # Friday 14/3 plus one working day is now Saturday 15/3.
    assert due(client, accepted_at="2025-03-14T10:00:00+07:00", days=1)["due_at"] == "2025-03-15T17:00:00+07:00"


def test_override_validation_and_unknown_delete(client, admin):
    for body, field in (({"date": "2025-02-30", "working": False, "name": "X"}, "date"),
                        ({"date": "2025-03-11", "name": "X"}, "working"),
                        ({"date": "2025-03-11", "working": False}, "name"),
                        ({"date": "2025-03-11", "working": False, "name": ""}, "name")):
        problem = assert_problem(client.post("/api/v1/calendar/overrides", json=body, headers=admin), 422)
        assert field in problem["errors"], problem
    assert client.get("/api/v1/calendar/overrides", headers=admin).get_json()["total"] == 0
    assert_problem(client.delete("/api/v1/calendar/overrides/2031-01-01", headers=admin), 404)
    assert_problem(client.delete("/api/v1/calendar/overrides/not-a-date", headers=admin), 404)


@pytest.mark.parametrize("q", ["%", "_", "1.%", "%khai%", "\\"])
def test_search_wildcards_are_literal(client, procedures, q):
    body = client.get("/api/v1/procedures", query_string={"q": q}).get_json()
    assert body["items"] == [] and body["total"] == 0
