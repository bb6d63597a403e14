"""Online levels of procedures and the service flags of dossiers, through HTTP."""
from __future__ import annotations

import pytest

from tests.conftest import assert_problem

BASE = "/api/v1/dossiers"
DEPT = "000.01.00.H57"


@pytest.fixture
def admin(city, auth):
    return auth.headers("admin")


@pytest.fixture
def clerk(city, auth):
    return auth.headers("clerk")


def test_procedures_carry_an_online_level_and_filter_on_it(client, admin):
    body = {"code": "2.000001", "name": "Cấp giấy phép", "field": "Xây dựng",
            "time_limit": {"value": 5, "unit": "working_days"}, "online_level": "full"}
    response = client.post("/api/v1/procedures", json=body, headers=admin)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["online_level"] == "full"
    assert client.get("/api/v1/procedures/1.000001").get_json()["online_level"] == "none"  # the default
    listed = client.get("/api/v1/procedures", query_string={"online_level": "full"}).get_json()
    assert [p["code"] for p in listed["items"]] == ["2.000001"]
    none = client.get("/api/v1/procedures", query_string={"online_level": "none"}).get_json()
    assert {p["code"] for p in none["items"]} == {"1.000001", "1.000002"}
    patched = client.patch("/api/v1/procedures/1.000001", json={"online_level": "partial"}, headers=admin)
    assert patched.status_code == 200 and patched.get_json()["online_level"] == "partial"
    assert_problem(client.patch("/api/v1/procedures/1.000001", json={"online_level": "mostly"}, headers=admin), 422)
    assert_problem(client.get("/api/v1/procedures", query_string={"online_level": "x"}), 422)


def _new(client, headers, **extra):
    body = {"procedure_code": "1.000001", "channel": "online", "applicant": {"name": "Trần Văn Bình"}, **extra}
    response = client.post(BASE, json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _step(client, headers, code, **body):
    return client.post(f"{BASE}/{code}/steps", json=body, headers=headers)


def test_flags_default_to_false_and_are_set_at_intake(client, clerk):
    plain = _new(client, clerk)
    assert (plain["online_level"], plain["digitized"], plain["paid_online"], plain["electronic_result"]) == (
        "none", False, False, False)
    flagged = _new(client, clerk, digitized=True, paid_online=True)
    assert flagged["digitized"] is True and flagged["paid_online"] is True
    assert_problem(client.post(BASE, json={"procedure_code": "1.000001", "channel": "online", "digitized": "maybe",
                                           "applicant": {"name": "An"}}, headers=clerk), 422)


def test_steps_set_the_flags_and_refuse_them_on_other_actions(client, clerk):
    code = _new(client, clerk, status="registered")["code"]
    assert _step(client, clerk, code, action="accept", digitized=True).get_json()["dossier"]["digitized"] is True
    body = assert_problem(_step(client, clerk, code, action="process", online=True), 422)
    assert "online" in body["errors"]
    assert _step(client, clerk, code, action="process").status_code == 201
    assert _step(client, clerk, code, action="request_payment").status_code == 201
    paid = _step(client, clerk, code, action="receive_payment", online=True).get_json()
    assert paid["dossier"]["paid_online"] is True and paid["step"]["online"] is True
    assert_problem(_step(client, clerk, code, action="complete", result="approved", digitized=True), 422)
    done = _step(client, clerk, code, action="complete", result="approved", electronic_result=True).get_json()
    assert done["dossier"]["electronic_result"] is True and done["step"]["electronic_result"] is True
    steps = client.get(f"{BASE}/{code}/steps", headers=clerk).get_json()
    assert [(s["action"], s["digitized"], s["online"], s["electronic_result"]) for s in steps] == [
        ("register", None, None, None), ("accept", True, None, None), ("process", None, None, None),
        ("request_payment", None, None, None), ("receive_payment", None, True, None),
        ("complete", None, None, True)]


def test_a_dossier_keeps_the_online_level_it_came_in_with(client, admin, clerk):
    client.patch("/api/v1/procedures/1.000001", json={"online_level": "full"}, headers=admin)
    code = _new(client, clerk)["code"]
    client.patch("/api/v1/procedures/1.000001", json={"online_level": "none"}, headers=admin)
    assert client.get(f"{BASE}/{code}", headers=clerk).get_json()["online_level"] == "full"
