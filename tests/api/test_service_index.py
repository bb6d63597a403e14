"""The service-level rates, the service index and the late dossiers, on a history worked out by hand."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import assert_problem

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = "/api/v1/dossiers"
DEPT = "000.01.00.H57"
DAYS3, HOURS4 = "1.000001", "1.000002"
PHONE, ID_NUMBER, NAME, COMMENT = "0912345678", "046195001122", "Võ Thị Hằng", "Chị Lan ở quầy số 2 rất tốt"


def at(day: int, hour: int, minute: int = 0) -> str:
    return datetime(2025, 3, day, hour, minute, tzinfo=VN).isoformat()


@pytest.fixture
def history(client, city, auth, factory):
    """Four dossiers of March 2025 (procedure 1.000001 is offered partly online)."""
    admin = auth.headers("admin")
    assert client.patch(f"/api/v1/procedures/{DAYS3}", json={"online_level": "partial"},
                        headers=admin).status_code == 200

    def dossier(procedure, channel, accepted, steps, **flags):
        response = client.post(BASE, headers=admin, json={
            "procedure_code": procedure, "channel": channel, "agency_code": DEPT, "accepted_at": accepted,
            "applicant": {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER}, **flags})
        assert response.status_code == 201, response.get_data(as_text=True)
        code = response.get_json()["code"]
        for body in steps:
            step = client.post(f"{BASE}/{code}/steps", headers=admin, json=body)
            assert step.status_code == 201, (body, step.get_data(as_text=True))
        return code

    paid = [{"action": "process", "at": at(3, 10)}, {"action": "request_payment", "at": at(3, 11)}]
    codes = {
        # Due Thu 6/3, paused Tue 4/3 -> Fri 7/3; completed 4/3: early.
        "A": dossier(DAYS3, "online", at(3, 9), [*paid, {"action": "receive_payment", "at": at(4, 9), "online": True},
                                                 {"action": "complete", "result": "approved", "at": at(4, 10),
                                                  "electronic_result": True}], digitized=True),
        # The same, paid at the desk and completed on 14/3: late.
        "B": dossier(DAYS3, "direct", at(3, 9), [*paid, {"action": "receive_payment", "at": at(4, 9)},
                                                 {"action": "complete", "result": "denied", "at": at(14, 10)}]),
        # Four working hours, stopped the same morning: on time, resolved without `complete`.
        "C": dossier(HOURS4, "direct", at(5, 8), [{"action": "stop", "at": at(5, 9), "reason": "Hồ sơ giả mạo"}],
                     digitized=True),
        # Paid online with the submission, due 13/3, an apology, still open at the end of March: overdue.
        "D": dossier(DAYS3, "online", at(10, 9), [{"action": "apologize", "at": at(12, 9), "reason": "Chờ ý kiến Sở",
                                                   "new_appointment_at": at(20, 17)}], paid_online=True),
    }
    for code, level in ((codes["A"], "very_satisfied"), (codes["B"], "dissatisfied")):
        response = client.post(f"/api/v1/public/dossiers/{code}/evaluation",
                               json={"verify": PHONE, "overall": level, "comment": COMMENT})
        assert response.status_code == 201, response.get_data(as_text=True)
    return codes


MARCH = {
    "evaluations": {"total": 2, "very_satisfied": 1, "satisfied": 0, "dissatisfied": 1},
    "online_rate": 0.6667,             # A, D online of A, B, D (the partly online procedure)
    "online_payment_rate": 0.6667,     # A, D of A, B, D that paid
    "digitized_rate": 0.5,             # A, C of the four received
    "electronic_result_rate": 0.5,     # A of A, B completed (C was stopped)
    "satisfaction_rate": 0.6667,       # (3 resolved - B) / 3
    "evaluation_rate": 0.6667,         # A, B of the 3 resolved
}


def test_the_rates_of_march(client, history):
    totals = client.get("/api/v1/public/stats", query_string={"period": "2025-03"}).get_json()["totals"]
    assert {k: totals[k] for k in MARCH} == MARCH
    assert totals["progress_rate"] == 0.5  # (A early + C on time) / (3 resolved + D pending)
    # The evaluations count in the month the dossiers were resolved, whenever given.
    april = client.get("/api/v1/public/stats", query_string={"period": "2025-04"}).get_json()["totals"]
    assert april["evaluations"]["total"] == 0 and april["online_rate"] is None


def test_grouped_by_online_level(client, history):
    body = client.get("/api/v1/public/stats", query_string={"period": "2025-03", "group_by": "online_level"}).get_json()
    assert [(g["key"], g["name"], g["received"]["total"]) for g in body["groups"]] == [
        ("partial", "Dịch vụ công trực tuyến một phần", 3), ("none", "Không trực tuyến", 1)]
    partial = body["groups"][0]
    assert (partial["online_rate"], partial["digitized_rate"], partial["satisfaction_rate"]) == (0.6667, 0.3333, 0.5)
    english = client.get("/api/v1/public/stats", headers={"Accept-Language": "en"},
                         query_string={"period": "2025-03", "group_by": "online_level"}).get_json()
    assert [g["name"] for g in english["groups"]] == ["Partly online", "Not online"]


def test_the_service_index_of_march(client, history):
    body = client.get("/api/v1/public/service-index", query_string={"period": "2025-03"}).get_json()
    assert body["weights"] == {"progress": 20.0, "online": 22.0, "digitization": 22.0, "satisfaction": 18.0}
    assert body["totals"] == {
        "progress": {"rate": 0.5, "points": 10.0, "max_points": 20.0},
        "online": {"rate": 0.6667, "points": 14.67, "max_points": 22.0},
        "digitization": {"rate": 0.5, "points": 11.0, "max_points": 22.0},
        "satisfaction": {"rate": 0.6667, "points": 12.0, "max_points": 18.0},
        "score": 47.67, "max_score": 82.0}
    grouped = client.get("/api/v1/public/service-index",
                         query_string={"period": "2025-03", "group_by": "agency"}).get_json()
    assert [(g["key"], g["score"]) for g in grouped["groups"]] == [("000.00.00.H57", 47.67)]
    # Nothing received or resolved: every group unmeasured, nothing scored.
    empty = client.get("/api/v1/public/service-index", query_string={"period": "2024"}).get_json()["totals"]
    assert (empty["score"], empty["max_score"], empty["progress"]["points"]) == (0.0, 0.0, None)
    assert_problem(client.get("/api/v1/public/service-index", query_string={"period": "2025-Q7"}), 422)


def test_the_weights_are_data(client, history, auth):
    admin, clerk = auth.headers("admin"), auth.headers("clerk")
    weights = {"progress": 30, "online": 20, "digitization": 20, "satisfaction": 10}
    assert_problem(client.put("/api/v1/service-index/weights", json=weights, headers=clerk), 403)
    assert_problem(client.put("/api/v1/service-index/weights", json={**weights, "progress": 60}, headers=admin), 422)
    assert_problem(client.put("/api/v1/service-index/weights", json={"progress": 30}, headers=admin), 422)
    response = client.put("/api/v1/service-index/weights", json=weights, headers=admin)
    assert response.status_code == 200 and response.get_json()["progress"] == 30.0
    assert client.get("/api/v1/service-index/weights", headers=admin).get_json()["online"] == 20.0
    totals = client.get("/api/v1/public/service-index", query_string={"period": "2025-03"}).get_json()["totals"]
    assert (totals["progress"]["points"], totals["score"], totals["max_score"]) == (15.0, 15 + 13.33 + 10 + 6.67, 80.0)


def test_the_late_dossiers_of_march(client, history):
    body = client.get("/api/v1/public/late-dossiers", query_string={"period": "2025-03"}).get_json()
    assert body["total"] == 2
    late, overdue = sorted(body["items"], key=lambda e: e["overdue"])
    assert (late["code"], late["timeliness"], late["overdue"], late["apology"]) == (history["B"], "late", False, None)
    assert late["due_at"] == "2025-03-07T17:00:00+07:00" and late["finished_at"] == "2025-03-14T10:00:00+07:00"
    assert (overdue["code"], overdue["finished_at"], overdue["overdue"]) == (history["D"], None, True)
    assert overdue["apology"] == {"at": at(12, 9), "reason": "Chờ ý kiến Sở", "new_appointment_at": at(20, 17)}
    # Judged at the end of 10 March, B was open and overdue, D not yet due.
    early = client.get("/api/v1/public/late-dossiers", query_string={"from": "2025-03-01", "to": "2025-03-10"})
    assert [(e["code"], e["overdue"], e["finished_at"], e["timeliness"]) for e in early.get_json()["items"]] == [
        (history["B"], True, None, None)]
    page = client.get("/api/v1/public/late-dossiers", query_string={"period": "2025-03", "page_size": 1}).get_json()
    assert len(page["items"]) == 1 and page["total"] == 2
    other = client.get("/api/v1/public/late-dossiers", query_string={"period": "2025-03", "agency": "000.02.00.H57"})
    assert other.get_json()["total"] == 0
    assert_problem(client.get("/api/v1/public/late-dossiers", query_string={"agency": "NOPE"}), 422)


@pytest.mark.parametrize("params", [{"period": "2025-03"}, {"from": "2025-03-01", "to": "2025-03-10"},
                                    {"period": "2025"}, {"period": "2025-03", "agency": "000.01.00.H57"}])
def test_the_counted_total_is_the_length_of_the_list(client, history, params):
    """The total comes from the counters, the items from the dossiers: page by page they agree."""
    seen, page = [], 1
    while True:
        body = client.get("/api/v1/public/late-dossiers", query_string={**params, "page": page, "page_size": 1})
        body = body.get_json()
        if not body["items"]:
            break
        seen += [item["code"] for item in body["items"]]
        page += 1
    assert len(seen) == len(set(seen)) == body["total"]
    totals = client.get("/api/v1/public/stats", query_string=params).get_json()["totals"]
    assert body["total"] == totals["resolved"]["late"] + totals["pending"]["overdue"]


def test_no_public_answer_carries_a_comment_or_anything_personal(client, history):
    answers = [client.get(path, query_string={"period": "2025-03", **extra})
               for path in ("/api/v1/public/stats", "/api/v1/public/service-index", "/api/v1/public/late-dossiers")
               for extra in ({}, {"group_by": "agency"}) if not (path.endswith("dossiers") and extra)]
    answers.append(client.get("/api/v1/public/stats.csv", query_string={"period": "2025-03"}))
    answers.append(client.get(f"/api/v1/public/dossiers/{history['A']}"))
    for response in answers:
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        for secret in (COMMENT, PHONE, ID_NUMBER, NAME):
            assert secret not in text, (response.request.path, secret)


def test_the_spreadsheet_carries_the_new_columns(client, history):
    text = client.get("/api/v1/public/stats.csv", query_string={"period": "2025-03"}).get_data(as_text=True)
    header, *rows = text.lstrip("\ufeff").splitlines()
    assert "Tỷ lệ số hóa hồ sơ" in header and "Tỷ lệ hài lòng" in header
    # The CSV writes figures as the Vietnamese page does (a decimal comma).
    assert "50,00%" in rows[-1] and "66,67%" in rows[-1]
