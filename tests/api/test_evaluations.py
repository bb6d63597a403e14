"""The citizens' evaluations: verification, throttle, the 30-day window, scope, criteria, privacy."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import assert_problem
from tracker.models.types import utcnow

BASE = "/api/v1/dossiers"
PUBLIC = "/api/v1/public/dossiers/"
DEPT = "000.01.00.H57"
ID_NUMBER, PHONE = "046195001122", "0912345678"
COMMENT = "Cán bộ Nguyễn Văn Tâm rất nhiệt tình"
CRITERIA = [("timeliness", "Thời gian giải quyết", "Processing time"),
            ("staff_attitude", "Thái độ của cán bộ", "Staff attitude")]


@pytest.fixture
def admin(city, auth):
    headers = auth.headers("admin")
    return headers


@pytest.fixture
def clerk(city, auth):
    return auth.headers("clerk")


@pytest.fixture
def criteria(client, admin):
    for position, (key, vi, en) in enumerate(CRITERIA, start=1):
        response = client.post("/api/v1/evaluation-criteria", headers=admin,
                               json={"key": key, "label_vi": vi, "label_en": en, "position": position})
        assert response.status_code == 201, response.get_data(as_text=True)
    return [key for key, *_ in CRITERIA]


def _dossier(client, headers, steps=(("process", {}), ("complete", {"result": "approved"}))):
    response = client.post(BASE, headers=headers, json={
        "procedure_code": "1.000001", "channel": "direct",
        "applicant": {"name": "Phạm Thị Kiểm", "id_number": ID_NUMBER, "phone": PHONE}})
    assert response.status_code == 201
    code = response.get_json()["code"]
    for action, extra in steps:
        assert client.post(f"{BASE}/{code}/steps", headers=headers, json={"action": action, **extra}).status_code == 201
    return code


def _evaluate(client, code, **body):
    return client.post(f"{PUBLIC}{code}/evaluation", json={"verify": ID_NUMBER, "overall": "satisfied", **body})


def test_the_applicant_evaluates_a_finished_dossier(client, clerk, criteria):
    code = _dossier(client, clerk)
    response = _evaluate(client, code, criteria={"timeliness": "very_satisfied"}, comment=COMMENT)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["overall"] == "satisfied" and body["overall_label"] == "Hài lòng"
    assert body["criteria"] == {"timeliness": "very_satisfied"}
    text = response.get_data(as_text=True)
    for secret in (COMMENT, ID_NUMBER, PHONE, "Phạm Thị Kiểm"):
        assert secret not in text
    # Staff read the comment, within their scope only.
    staff = client.get(f"{BASE}/{code}/evaluation", headers=clerk)
    assert staff.status_code == 200 and staff.get_json()["comment"] == COMMENT


def test_a_second_evaluation_within_30_days_replaces_the_first(app, client, clerk, monkeypatch):
    code = _dossier(client, clerk)
    first = _evaluate(client, code, overall="dissatisfied").get_json()
    replaced = client.post(f"{PUBLIC}{code}/evaluation", json={"verify": PHONE, "overall": "very_satisfied"})
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    assert replaced.get_json()["overall"] == "very_satisfied"
    assert replaced.get_json()["first_given_at"] == first["first_given_at"]
    later = utcnow() + timedelta(days=30, minutes=1)
    monkeypatch.setattr("tracker.services.evaluations.utcnow", lambda: later)
    body = assert_problem(_evaluate(client, code), 409)
    assert "30 days" in body["detail"]
    assert client.get(f"{BASE}/{code}/evaluation", headers=clerk).get_json()["overall"] == "very_satisfied"


@pytest.mark.parametrize("steps", [(), (("process", {}),), (("request_supplement", {"reason": "Thiếu"}),),
                                   (("withdraw", {}),)])
def test_an_unfinished_or_withdrawn_dossier_cannot_be_evaluated(client, clerk, steps):
    assert_problem(_evaluate(client, _dossier(client, clerk, steps)), 409)


@pytest.mark.parametrize("steps", [(("stop", {"reason": "Hồ sơ giả mạo"}),),
                                   (("process", {}), ("complete", {"result": "denied"}), ("return_result", {}))])
def test_stopped_and_returned_dossiers_can_be_evaluated(client, clerk, steps):
    assert _evaluate(client, _dossier(client, clerk, steps)).status_code == 201


def test_a_refused_intake_can_be_evaluated(client, clerk):
    response = client.post(BASE, headers=clerk, json={
        "procedure_code": "1.000001", "channel": "online", "status": "registered",
        "applicant": {"name": "Phạm Thị Kiểm", "phone": PHONE}})
    code = response.get_json()["code"]
    client.post(f"{BASE}/{code}/steps", headers=clerk, json={"action": "refuse_intake", "reason": "Sai thủ tục"})
    assert client.post(f"{PUBLIC}{code}/evaluation", json={"verify": PHONE, "overall": "dissatisfied"}
                       ).status_code == 201


def test_a_wrong_verify_is_403_and_failures_are_throttled(client, clerk):
    code = _dossier(client, clerk)
    for _ in range(5):
        body = assert_problem(_evaluate(client, code, verify="046195001123"), 403)
        assert ID_NUMBER not in str(body)
    throttled = _evaluate(client, code)  # the right number, but the dossier's verifications wait now
    assert_problem(throttled, 429)
    assert throttled.headers["Retry-After"].isdigit()
    # The lookup's verification shares the throttle.
    assert client.get(PUBLIC + code, query_string={"verify": ID_NUMBER}).status_code == 429


def test_bad_evaluations_are_422(client, clerk, criteria):
    code = _dossier(client, clerk)
    assert_problem(_evaluate(client, code, overall="meh"), 422)
    assert_problem(client.post(f"{PUBLIC}{code}/evaluation", json={"overall": "satisfied"}), 422)
    body = assert_problem(_evaluate(client, code, criteria={"colour": "satisfied"}), 422)
    assert "criteria.colour" in body["errors"]
    assert_problem(_evaluate(client, code, criteria={"timeliness": "great"}), 422)
    assert_problem(client.post(f"{PUBLIC}NO-SUCH-CODE/evaluation", json={"verify": ID_NUMBER,
                                                                          "overall": "satisfied"}), 404)


def test_staff_see_evaluations_of_their_scope_only(client, clerk, auth):
    code = _dossier(client, clerk)
    assert_problem(client.get(f"{BASE}/{code}/evaluation", headers=clerk), 404)  # not evaluated yet
    _evaluate(client, code, comment=COMMENT)
    assert_problem(client.get(f"{BASE}/{code}/evaluation", headers=auth.headers("other_clerk")), 404)
    assert client.get(f"{BASE}/{code}/evaluation", headers=auth.headers("viewer")).status_code == 200
    assert_problem(client.get(f"{BASE}/{code}/evaluation"), 401)


def test_criteria_are_managed_by_admins_and_listed_in_the_asked_language(client, admin, clerk, criteria):
    assert client.get("/api/v1/public/evaluation-criteria").get_json() == [
        {"key": "timeliness", "label": "Thời gian giải quyết"}, {"key": "staff_attitude", "label": "Thái độ của cán bộ"}]
    english = client.get("/api/v1/public/evaluation-criteria", headers={"Accept-Language": "en"}).get_json()
    assert [c["label"] for c in english] == ["Processing time", "Staff attitude"]
    assert_problem(client.post("/api/v1/evaluation-criteria", headers=clerk,
                               json={"key": "ease", "label_vi": "Thuận tiện", "label_en": "Ease"}), 403)
    assert_problem(client.post("/api/v1/evaluation-criteria", headers=admin,
                               json={"key": "timeliness", "label_vi": "x", "label_en": "x"}), 409)
    retired = client.patch("/api/v1/evaluation-criteria/staff_attitude", headers=admin, json={"active": False})
    assert retired.status_code == 200 and retired.get_json()["active"] is False
    assert [c["key"] for c in client.get("/api/v1/public/evaluation-criteria").get_json()] == ["timeliness"]
    assert len(client.get("/api/v1/evaluation-criteria", headers=admin).get_json()) == 2
    assert_problem(client.patch("/api/v1/evaluation-criteria/nope", headers=admin, json={"active": False}), 404)
