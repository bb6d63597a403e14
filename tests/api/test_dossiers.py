"""The dossier resource through HTTP: intake, codes, every (action, status) pair, writes, lists, scope."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import assert_problem
from tracker.domain.calendar import OfficeHours, WorkingCalendar
from tracker.domain.deadlines import DAYS, Deadlines, TimeLimit
from tests.action_table import TABLE

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RULES = Deadlines(WorkingCalendar(), OfficeHours.parse())
BASE = "/api/v1/dossiers"
DEPT = "000.01.00.H57"
SUB = "000.01.01.H57"
OTHER = "000.02.00.H57"
ROOT = "000.00.00.H57"
DAYS_PROC = "1.000001"   # 3 working days
HOURS_PROC = "1.000002"  # 4 working hours

DOSSIER_FIELDS = {"code", "procedure", "agency", "channel", "status", "status_code", "status_label", "applicant",
                  "submitted_at", "accepted_at", "effective_intake_at", "due_at", "appointment_at", "finished_at",
                  "returned_at", "result", "supplement_count", "timeliness", "overdue", "version", "steps"}

STATUSES = {"registered": 1, "accepted": 2, "not_accepted": 3, "processing": 4, "supplement_requested": 5,
            "payment_requested": 6, "withdrawn": 7, "stopped": 8, "done": 9, "returned": 10}
# How to reach each status from a fresh dossier (POST status, then steps).
PATHS = {
    "registered": ("registered", []),
    "accepted": ("accepted", []),
    "not_accepted": ("registered", ["refuse_intake"]),
    "processing": ("accepted", ["process"]),
    "supplement_requested": ("accepted", ["request_supplement"]),
    "payment_requested": ("accepted", ["process", "request_payment"]),
    "withdrawn": ("accepted", ["withdraw"]),
    "stopped": ("accepted", ["stop"]),
    "done": ("accepted", ["process", "complete"]),
    "returned": ("accepted", ["process", "complete", "return_result"]),
}


def allowed_from(status: str) -> list[str]:
    return [a for a, (sources, _) in TABLE.items() if sources is None or status in sources]


def vn_iso(y, mo, d, h=0, mi=0) -> str:
    return datetime(y, mo, d, h, mi, tzinfo=VN).isoformat()


def today_code_date() -> str:
    return datetime.now(VN).strftime("%y%m%d")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Api:
    """Small helpers around the test client, with tokens cached per user."""

    def __init__(self, client, auth):
        self.client = client
        self.auth = auth
        self._headers: dict[str, dict] = {}

    def h(self, user: str, **extra) -> dict:
        if user not in self._headers:
            self._headers[user] = self.auth.headers(user)
        return {**self._headers[user], **extra}

    def create(self, user: str = "clerk", expect: int | None = 201, headers: dict | None = None, **body):
        body.setdefault("procedure_code", DAYS_PROC)
        body.setdefault("channel", "direct")
        body.setdefault("applicant", {"name": "Nguyễn Văn An", "id_number": "046195001122",
                                      "phone": "0912345678"})
        if user == "admin":
            body.setdefault("agency_code", DEPT)
        response = self.client.post(BASE, json=body, headers=self.h(user, **(headers or {})))
        if expect is not None:
            assert response.status_code == expect, response.get_data(as_text=True)
        return response

    def step(self, code: str, action: str, user: str = "clerk", expect: int | None = 201,
             headers: dict | None = None, **fields):
        response = self.client.post(f"{BASE}/{code}/steps", json={"action": action, **fields},
                                    headers=self.h(user, **(headers or {})))
        if expect is not None:
            assert response.status_code == expect, response.get_data(as_text=True)
        return response

    def get(self, code: str, user: str = "clerk", **headers):
        return self.client.get(f"{BASE}/{code}", headers=self.h(user, **headers))

    def dossier(self, code: str, user: str = "admin") -> dict:
        response = self.get(code, user)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def list(self, user: str = "admin", **query) -> dict:
        response = self.client.get(BASE, query_string=query, headers=self.h(user))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def codes(self, user: str = "admin", **query) -> set[str]:
        body = self.list(user, page_size=100, **query)
        return {item["code"] for item in body["items"]}


@pytest.fixture
def api(client, auth, city):
    return Api(client, auth)


def fields_for(action: str, dossier: dict) -> dict:
    """Every field the action needs, valid for the dossier."""
    fields = {"reason": "Lý do kiểm thử", "result": "approved", "note": "Ghi chú nội bộ"}
    if action == "apologize":
        current = parse(dossier["appointment_at"]) if dossier.get("appointment_at") else datetime.now(VN)
        fields["new_appointment_at"] = (current + timedelta(days=30)).isoformat()
    return fields


def drive(api: Api, status: str) -> dict:
    """A fresh dossier of the clerk's agency in ``status``."""
    start, actions = PATHS[status]
    dossier = api.create(status=start).get_json()
    for action in actions:
        dossier = api.step(dossier["code"], action, **fields_for(action, dossier)).get_json()["dossier"]
    assert dossier["status"] == status
    return dossier


# -- intake ----------------------------------------------------------------------------------


def _create_returns_the_full_dossier(api, client):
    response = api.create("admin", accepted_at=vn_iso(2025, 1, 24, 10),
                          applicant={"name": "Nguyễn Văn An", "id_number": "046195001122",
                                     "phone": "0912345678", "email": "an@example.vn", "address": "Huế"})
    body = response.get_json()
    assert DOSSIER_FIELDS <= set(body), DOSSIER_FIELDS - set(body)
    assert body["code"] == f"{DEPT}-250124-0001"
    assert response.headers["Location"].endswith(f"{BASE}/{body['code']}")
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2
    assert body["procedure"] == {"code": DAYS_PROC, "name": f"Thủ tục {DAYS_PROC}"}
    assert body["agency"] == {"code": DEPT, "name": "Sở Tư pháp"}
    assert body["channel"] == "direct"
    assert (body["status"], body["status_code"], body["status_label"]) == ("accepted", 2, "Đã tiếp nhận")
    assert body["applicant"] == {"name": "Nguyễn Văn An", "id_number": "046195001122", "phone": "0912345678",
                                 "email": "an@example.vn", "address": "Huế"}
    assert body["accepted_at"] == "2025-01-24T10:00:00+07:00"
    assert body["submitted_at"] == "2025-01-24T10:00:00+07:00"
    assert body["effective_intake_at"] == "2025-01-24T10:00:00+07:00"
    assert body["due_at"] == "2025-02-05T17:00:00+07:00"  # the rule book's example, over Tết
    assert body["appointment_at"] == "2025-02-05T17:00:00+07:00"
    assert body["finished_at"] is None and body["returned_at"] is None and body["result"] is None
    assert body["supplement_count"] == 0
    assert body["timeliness"] is None
    assert body["overdue"] is True  # accepted in 2025 and never finished
    assert body["version"] == 1
    assert [s["action"] for s in body["steps"]] == ["accept"]
    assert body["steps"][0]["seq"] == 1
    # The Location leads to the same dossier, with the same ETag.
    again = client.get(response.headers["Location"], headers=api.h("admin"))
    assert again.status_code == 200
    assert again.headers["ETag"] == etag
    assert again.get_json()["code"] == body["code"]


def _walk_in_defaults_to_accepted_in_the_callers_agency(api):
    before = datetime.now(VN).replace(microsecond=0) - timedelta(seconds=1)
    body = api.create("sub_clerk").get_json()
    after = datetime.now(VN) + timedelta(seconds=1)
    assert body["status"] == "accepted"
    assert body["agency"]["code"] == SUB
    assert body["code"].startswith(f"{SUB}-{today_code_date()}-")
    accepted = parse(body["accepted_at"])
    assert before <= accepted <= after
    intake = RULES.effective_intake(accepted)
    assert parse(body["effective_intake_at"]) == intake
    assert parse(body["due_at"]) == RULES.due(intake, TimeLimit(3, DAYS))
    assert body["overdue"] is False


def _registered_then_accept_step_starts_the_clock(api):
    body = api.create(status="registered", channel="online").get_json()
    assert (body["status"], body["status_code"]) == ("registered", 1)
    assert body["accepted_at"] is None and body["due_at"] is None and body["effective_intake_at"] is None
    assert body["submitted_at"] is not None
    assert body["overdue"] is False
    assert body["code"].startswith(f"{DEPT}-{today_code_date()}-")
    result = api.step(body["code"], "accept").get_json()
    dossier = result["dossier"]
    assert result["step"]["action"] == "accept"
    assert (result["step"]["status_before"], result["step"]["status_after"]) == ("registered", "accepted")
    assert dossier["status"] == "accepted"
    accepted = parse(dossier["accepted_at"])
    assert accepted >= parse(body["submitted_at"])
    assert parse(dossier["due_at"]) == RULES.due(RULES.effective_intake(accepted), TimeLimit(3, DAYS))
    assert dossier["code"] == body["code"]  # the code never changes


def _registered_with_accepted_at_is_invalid(api):
    response = api.create("admin", expect=None, status="registered", accepted_at=vn_iso(2025, 3, 3, 9))
    body = assert_problem(response, 422)
    assert "accepted_at" in body["errors"]


def test_intake(api, client):
    _create_returns_the_full_dossier(api, client)
    _walk_in_defaults_to_accepted_in_the_callers_agency(api)
    _registered_then_accept_step_starts_the_clock(api)
    _registered_with_accepted_at_is_invalid(api)


def test_codes_count_per_agency_and_day(api):
    day = today_code_date()
    first = api.create().get_json()["code"]
    second = api.create(status="registered").get_json()["code"]
    other = api.create("other_clerk").get_json()["code"]
    sub = api.create("sub_clerk").get_json()["code"]
    third = api.create("manager").get_json()["code"]
    assert first == f"{DEPT}-{day}-0001"
    assert second == f"{DEPT}-{day}-0002"
    assert third == f"{DEPT}-{day}-0003"
    assert other == f"{OTHER}-{day}-0001"
    assert sub == f"{SUB}-{day}-0001"
    # Another day has its own counter; the day is the local date (00:30 in Huế is the previous day in UTC).
    loaded = api.create("admin", accepted_at=vn_iso(2025, 3, 3, 0, 30)).get_json()["code"]
    loaded2 = api.create("admin", accepted_at=vn_iso(2025, 3, 3, 23, 0)).get_json()["code"]
    assert loaded == f"{DEPT}-250303-0001"
    assert loaded2 == f"{DEPT}-250303-0002"
    assert api.create().get_json()["code"] == f"{DEPT}-{day}-0004"


def test_create_validation(api):
    body = assert_problem(api.create(expect=None, channel="fax"), 422)
    assert "channel" in body["errors"]
    body = assert_problem(api.create(expect=None, procedure_code="9.999999"), 422)
    assert "procedure_code" in body["errors"]
    body = assert_problem(api.create(expect=None, applicant={"name": "  "}), 422)
    assert "applicant.name" in body["errors"]
    body = assert_problem(api.create(expect=None, agency_code="999.99.99.H57"), 422)
    assert "agency_code" in body["errors"]
    assert_problem(api.create(expect=None, agency_code=OTHER), 403)  # outside the clerk's subtree
    assert_problem(api.create(expect=None, accepted_at=vn_iso(2025, 3, 3, 9)), 403)  # a clerk may not backdate
    assert api.list()["total"] == 0
    # None of the refused requests used a number of the day's counter.
    assert api.create().get_json()["code"] == f"{DEPT}-{today_code_date()}-0001"


# -- every (action, status) pair ---------------------------------------------------------------------


def check_status(api: Api, status: str) -> list[str]:
    """Try every action on dossiers in ``status``; return what disagrees with the table."""
    problems: list[str] = []
    allowed = allowed_from(status)
    probe = drive(api, status)
    if probe["status_code"] != STATUSES[status]:
        problems.append(f"{status}: status_code {probe['status_code']}")
    before = api.get(probe["code"])
    # Refused actions first, all on one dossier: 409, the table's allowed list, nothing written.
    for action in (a for a in TABLE if a not in allowed):
        response = api.step(probe["code"], action, expect=None, **fields_for(action, probe))
        if response.status_code != 409:
            problems.append(f"{status} + {action}: {response.status_code}, expected 409")
            continue
        body = assert_problem(response, 409)
        if body.get("allowed_actions") != allowed:
            problems.append(f"{status} + {action}: allowed_actions {body.get('allowed_actions')} != {allowed}")
    after = api.get(probe["code"])
    current = after.get_json()
    if (after.headers["ETag"], current["version"], len(current["steps"]), current["status"]) != (
            before.headers["ETag"], probe["version"], len(probe["steps"]), status):
        problems.append(f"{status}: refused actions changed the dossier")
    # Allowed actions: 201 and the table's status.
    for action in allowed:
        target = TABLE[action][1] or status
        dossier = drive(api, status) if TABLE[action][1] else current
        response = api.step(dossier["code"], action, expect=None, **fields_for(action, dossier))
        if response.status_code != 201:
            problems.append(f"{status} + {action}: {response.status_code} {response.get_data(as_text=True)[:200]}")
            continue
        result = response.get_json()
        got = (result["dossier"]["status"], result["dossier"]["status_code"], result["step"]["action"],
               result["step"]["status_before"], result["step"]["status_after"], result["dossier"]["version"],
               len(result["dossier"]["steps"]))
        expected = (target, STATUSES[target], action, status, target, dossier["version"] + 1,
                    len(dossier["steps"]) + 1)
        if got != expected:
            problems.append(f"{status} + {action}: {got} != {expected}")
        if response.headers["ETag"] != api.get(dossier["code"]).headers["ETag"]:
            problems.append(f"{status} + {action}: the ETag of the answer is not the dossier's")
        if action == "apologize" and (result["dossier"]["due_at"] != dossier["due_at"]
                                      or result["dossier"]["appointment_at"] == dossier["appointment_at"]):
            problems.append(f"{status} + apologize: due_at or appointment_at wrong")
        if not TABLE[action][1]:
            current = result["dossier"]
    return problems


def test_every_action_from_every_status(api):
    """All 130 (action, status) pairs of the actions table (docs/rules.md), through the API."""
    problems = [problem for status in STATUSES for problem in check_status(api, status)]
    assert not problems, "\n".join(problems)


# -- required fields ---------------------------------------------------------------------------------


MISSING = [
    ("registered", "refuse_intake", {}, {"reason"}),
    ("accepted", "request_supplement", {"reason": "  "}, {"reason"}),
    ("processing", "stop", {}, {"reason"}),
    ("processing", "complete", {}, {"result"}),
    ("processing", "complete", {"result": "maybe"}, {"result"}),
    ("accepted", "apologize", {"reason": "Chậm"}, {"new_appointment_at"}),
    ("accepted", "apologize", {"new_appointment_at": "2099-01-01T17:00:00+07:00"}, {"reason"}),
    ("accepted", "comment", {}, {"note", "public_note"}),
    ("accepted", "comment", {"note": " ", "public_note": ""}, {"note", "public_note"}),
]


def _missing_required_fields(api):
    dossiers = {status: drive(api, status) for status in ("registered", "accepted", "processing")}
    for status, action, fields, missing in MISSING:
        dossier = dossiers[status]
        response = api.step(dossier["code"], action, expect=None, **fields)
        body = assert_problem(response, 422)
        assert missing <= set(body["errors"]), (action, fields, body)
    for status, dossier in dossiers.items():
        after = api.dossier(dossier["code"])
        assert after["status"] == status
        assert after["version"] == dossier["version"]
        assert len(after["steps"]) == len(dossier["steps"])


def _comment_with_either_note_is_enough(api):
    dossier = drive(api, "accepted")
    api.step(dossier["code"], "comment", note="nội bộ")
    result = api.step(dossier["code"], "comment", public_note="Đang xem xét").get_json()
    assert result["step"]["public_note"] == "Đang xem xét"
    assert result["dossier"]["version"] == 3


def _apology_must_promise_a_later_date(api):
    dossier = drive(api, "accepted")
    response = api.step(dossier["code"], "apologize", expect=None, reason="Chậm",
                        new_appointment_at=dossier["appointment_at"])
    body = assert_problem(response, 422)
    assert "new_appointment_at" in body["errors"]
    assert api.dossier(dossier["code"])["version"] == 1


def test_required_fields(api):
    _missing_required_fields(api)
    _comment_with_either_note_is_enough(api)
    _apology_must_promise_a_later_date(api)


# -- explicit times --------------------------------------------------------------------------------


def _clerk_may_not_give_step_time(api):
    dossier = drive(api, "accepted")
    response = api.step(dossier["code"], "process", expect=None, at=vn_iso(2025, 3, 3, 9))
    assert_problem(response, 403)
    after = api.dossier(dossier["code"])
    assert (after["status"], after["version"], len(after["steps"])) == ("accepted", 1, 1)


def _clerk_may_not_give_accepted_at(api, app):
    response = api.create(expect=None, accepted_at=vn_iso(2025, 3, 3, 9))
    assert_problem(response, 403)
    assert api.list()["total"] == 0
    with app.app_context():
        from tracker.models import AuditRecord, Dossier, Step
        from tracker.extensions import db
        assert db.session.query(Dossier).count() == 0
        assert db.session.query(Step).count() == 0
        assert db.session.query(AuditRecord).filter(AuditRecord.action == "dossier.create").count() == 0
    assert_problem(api.create("manager", expect=None, accepted_at=vn_iso(2025, 3, 3, 9)), 403)
    assert api.list()["total"] == 0


def _admin_time_in_the_future_is_invalid(api):
    future = (datetime.now(VN) + timedelta(hours=2)).isoformat()
    body = assert_problem(api.create("admin", expect=None, accepted_at=future), 422)
    assert "accepted_at" in body["errors"]
    dossier = api.create("admin", accepted_at=vn_iso(2025, 3, 3, 9)).get_json()
    body = assert_problem(api.step(dossier["code"], "process", "admin", expect=None, at=future), 422)
    assert "at" in body["errors"]
    assert api.dossier(dossier["code"])["version"] == 1


def _admin_time_before_the_previous_step_is_invalid(api):
    dossier = api.create("admin", accepted_at=vn_iso(2025, 3, 3, 9)).get_json()
    api.step(dossier["code"], "process", "admin", at=vn_iso(2025, 3, 4, 9))
    response = api.step(dossier["code"], "complete", "admin", expect=None, result="approved",
                        at=vn_iso(2025, 3, 4, 8, 59))
    body = assert_problem(response, 422)
    assert "at" in body["errors"]
    after = api.dossier(dossier["code"])
    assert (after["status"], after["version"], len(after["steps"])) == ("processing", 2, 2)
    # The same instant as the previous step is fine.
    done = api.step(dossier["code"], "complete", "admin", result="approved", at=vn_iso(2025, 3, 4, 9))
    assert done.get_json()["dossier"]["finished_at"] == "2025-03-04T09:00:00+07:00"


def test_explicit_times(api, app):
    _clerk_may_not_give_accepted_at(api, app)
    _clerk_may_not_give_step_time(api)
    _admin_time_in_the_future_is_invalid(api)
    _admin_time_before_the_previous_step_is_invalid(api)
    _times_out_of_range_are_invalid(api)


def _admin_history_gives_deadlines_and_timeliness(api):
    dossier = api.create("admin", accepted_at=vn_iso(2025, 2, 28, 9)).get_json()  # Friday
    code = dossier["code"]
    assert dossier["due_at"] == "2025-03-05T17:00:00+07:00"
    api.step(code, "request_supplement", "admin", reason="Thiếu", at=vn_iso(2025, 3, 3, 10))  # Monday
    paused = api.step(code, "receive_supplement", "admin", at=vn_iso(2025, 3, 5, 9)).get_json()["dossier"]
    assert paused["due_at"] == "2025-03-07T17:00:00+07:00"  # two working days later
    assert paused["supplement_count"] == 1
    done = api.step(code, "complete", "admin", result="approved", at=vn_iso(2025, 3, 7, 16)).get_json()["dossier"]
    assert done["timeliness"] == "on_time"
    assert done["finished_at"] == "2025-03-07T16:00:00+07:00"
    assert done["result"] == "approved"
    assert done["overdue"] is False
    returned = api.step(code, "return_result", "admin", at=vn_iso(2025, 3, 12, 9)).get_json()["dossier"]
    assert returned["returned_at"] == "2025-03-12T09:00:00+07:00"
    assert returned["finished_at"] == "2025-03-07T16:00:00+07:00"
    assert returned["timeliness"] == "on_time"


def _apology_moves_appointment_not_due_and_late_stays_late(api):
    dossier = api.create("admin", accepted_at=vn_iso(2025, 3, 3, 9)).get_json()  # due Thursday 03-06
    code = dossier["code"]
    assert dossier["due_at"] == "2025-03-06T17:00:00+07:00"
    result = api.step(code, "apologize", "admin", reason="Cần xác minh thêm",
                      new_appointment_at=vn_iso(2025, 3, 12, 17), at=vn_iso(2025, 3, 5, 10)).get_json()
    assert result["dossier"]["appointment_at"] == "2025-03-12T17:00:00+07:00"
    assert result["dossier"]["due_at"] == "2025-03-06T17:00:00+07:00"
    assert result["dossier"]["status"] == "accepted"
    assert result["step"]["new_appointment_at"] == "2025-03-12T17:00:00+07:00"
    api.step(code, "process", "admin", at=vn_iso(2025, 3, 6, 9))
    done = api.step(code, "complete", "admin", result="approved", at=vn_iso(2025, 3, 10, 10)).get_json()
    assert done["dossier"]["timeliness"] == "late"
    assert done["dossier"]["appointment_at"] == "2025-03-12T17:00:00+07:00"


def _supplement_requested_twice_is_late(api):
    code = api.create("admin", accepted_at=vn_iso(2025, 3, 3, 9)).get_json()["code"]
    for action, hour in (("request_supplement", 10), ("receive_supplement", 11), ("request_supplement", 13),
                         ("receive_supplement", 14)):
        api.step(code, action, "admin", reason="Thiếu", at=vn_iso(2025, 3, 3, hour))
    done = api.step(code, "complete", "admin", result="denied", at=vn_iso(2025, 3, 3, 16)).get_json()["dossier"]
    assert done["supplement_count"] == 2
    assert done["result"] == "denied"
    assert done["timeliness"] == "late"


def _hour_limit_dossier(api):
    dossier = api.create("admin", procedure_code=HOURS_PROC, accepted_at=vn_iso(2025, 3, 3, 8)).get_json()
    assert dossier["due_at"] == "2025-03-03T14:00:00+07:00"
    code = dossier["code"]
    api.step(code, "process", "admin", at=vn_iso(2025, 3, 3, 9))
    done = api.step(code, "complete", "admin", result="approved", at=vn_iso(2025, 3, 3, 14, 30)).get_json()
    assert done["dossier"]["timeliness"] == "late"


def _intake_cutoff_and_holidays(api):
    on_cutoff = api.create("admin", accepted_at=vn_iso(2025, 2, 28, 15)).get_json()  # Friday 15:00: counts
    assert on_cutoff["effective_intake_at"] == "2025-02-28T15:00:00+07:00"
    assert on_cutoff["due_at"] == "2025-03-05T17:00:00+07:00"
    after = api.create("admin", accepted_at="2025-02-28T15:00:01+07:00").get_json()  # after the cut-off
    assert after["accepted_at"] == "2025-02-28T15:00:01+07:00"
    assert after["effective_intake_at"] == "2025-03-03T07:30:00+07:00"
    assert after["due_at"] == "2025-03-06T17:00:00+07:00"
    in_tet = api.create("admin", accepted_at=vn_iso(2025, 1, 27, 10)).get_json()  # Tết Monday
    assert in_tet["effective_intake_at"] == "2025-02-03T07:30:00+07:00"
    assert in_tet["due_at"] == "2025-02-06T17:00:00+07:00"
    assert in_tet["code"] == f"{DEPT}-250127-0001"


def test_deadlines_and_timeliness(api):
    _intake_cutoff_and_holidays(api)
    _admin_history_gives_deadlines_and_timeliness(api)
    _apology_moves_appointment_not_due_and_late_stays_late(api)
    _supplement_requested_twice_is_late(api)
    _hour_limit_dossier(api)


# -- hand-off to another agency -------------------------------------------------------------------


def _process_hands_the_dossier_to_another_agency(api):
    code = drive(api, "accepted")["code"]
    assert_problem(api.get(code, "other_clerk"), 404)
    result = api.step(code, "process", to_agency_code=OTHER, handler="Trần Thị Bình").get_json()
    assert result["step"]["to_agency_code"] == OTHER
    assert result["step"]["handler"] == "Trần Thị Bình"
    assert result["dossier"]["status"] == "processing"
    assert result["dossier"]["agency"]["code"] == DEPT  # the receiving agency stays
    # The answer to the hand-off already shows the new handling agency, as a later read does.
    assert result["dossier"]["handling_agency"]["code"] == OTHER
    assert api.dossier(code)["handling_agency"] == result["dossier"]["handling_agency"]
    seen = api.get(code, "other_clerk")
    assert seen.status_code == 200
    assert code in api.codes("other_clerk")
    # The other agency's clerk can now work on it.
    api.step(code, "complete", "other_clerk", result="approved")
    assert api.dossier(code)["status"] == "done"


def _unknown_to_agency_is_invalid(api):
    dossier = drive(api, "accepted")
    body = assert_problem(api.step(dossier["code"], "process", expect=None, to_agency_code="999.99.99.H57"), 422)
    assert "to_agency_code" in body["errors"]
    after = api.dossier(dossier["code"])
    assert (after["status"], after["version"], len(after["steps"])) == ("accepted", 1, 1)


# -- If-Match ----------------------------------------------------------------------------------------


def _if_match(api):
    code = drive(api, "accepted")["code"]
    etag = api.get(code).headers["ETag"]
    response = api.step(code, "process", headers={"If-Match": etag})
    new_etag = response.headers["ETag"]
    assert new_etag != etag
    assert api.get(code).headers["ETag"] == new_etag
    stale = api.step(code, "comment", expect=None, note="x", headers={"If-Match": etag})
    assert_problem(stale, 412)
    after = api.dossier(code)
    assert (after["version"], len(after["steps"])) == (2, 2)
    # PATCH honours If-Match too.
    stale = api.client.patch(f"{BASE}/{code}", json={"applicant": {"name": "Lê Văn C"}},
                             headers=api.h("clerk", **{"If-Match": etag}))
    assert_problem(stale, 412)
    assert api.dossier(code)["applicant"]["name"] == "Nguyễn Văn An"
    ok = api.client.patch(f"{BASE}/{code}", json={"applicant": {"name": "Lê Văn C"}},
                          headers=api.h("clerk", **{"If-Match": new_etag}))
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.headers["ETag"] != new_etag
    api.step(code, "comment", note="ok", headers={"If-Match": ok.headers["ETag"]})


def test_hand_off_and_if_match(api):
    _process_hands_the_dossier_to_another_agency(api)
    _unknown_to_agency_is_invalid(api)
    _if_match(api)


# -- PATCH ----------------------------------------------------------------------------------------


def _patch_corrects_applicant_with_nfc(api):
    code = drive(api, "accepted")["code"]
    decomposed = unicodedata.normalize("NFD", "Phạm Thị Kiều Oanh")
    assert decomposed != "Phạm Thị Kiều Oanh"
    response = api.client.patch(f"{BASE}/{code}", headers=api.h("clerk"),
                                json={"applicant": {"name": decomposed, "phone": "+84 987 654 321",
                                                    "email": "oanh@example.vn"}})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["applicant"]["name"] == "Phạm Thị Kiều Oanh"
    assert unicodedata.is_normalized("NFC", body["applicant"]["name"])
    assert body["applicant"]["email"] == "oanh@example.vn"
    assert body["applicant"]["id_number"] == "046195001122"  # untouched
    assert body["version"] == 2
    stored = api.dossier(code)
    assert stored["applicant"]["name"] == "Phạm Thị Kiều Oanh"
    assert stored["status"] == "accepted" and len(stored["steps"]) == 1
    # Search finds the corrected name.
    assert api.codes(q="pham thi kieu") == {code}


def _patch_changes_only_the_applicant(api):
    dossier = drive(api, "accepted")
    response = api.client.patch(f"{BASE}/{dossier['code']}", headers=api.h("clerk"),
                                json={"applicant": {"name": "Lê Văn C"}, "status": "done"})
    assert response.status_code in (200, 422)
    after = api.dossier(dossier["code"])
    assert after["status"] == "accepted"
    assert after["due_at"] == dossier["due_at"]


BAD_APPLICANTS = [
    ({"id_number": "12345"}, "applicant.id_number"),
    ({"id_number": "1234567890"}, "applicant.id_number"),
    ({"id_number": "12345678a"}, "applicant.id_number"),
    ({"id_number": "1234567890123"}, "applicant.id_number"),
    ({"phone": "091234567"}, "applicant.phone"),
    ({"phone": "09123456789"}, "applicant.phone"),
    ({"phone": "1912345678"}, "applicant.phone"),
    ({"phone": "+8491234567"}, "applicant.phone"),
    ({"email": "not-an-email"}, "applicant.email"),
    ({"email": "a@b"}, "applicant.email"),
    ({"email": "a b@example.vn"}, "applicant.email"),
    ({"name": "   "}, "applicant.name"),
    ({"name": ""}, "applicant.name"),
]


def _patch_validation(api):
    dossier = drive(api, "accepted")
    for applicant, field in BAD_APPLICANTS:
        response = api.client.patch(f"{BASE}/{dossier['code']}", json={"applicant": applicant},
                                    headers=api.h("clerk"))
        body = assert_problem(response, 422)
        assert field in body["errors"], (applicant, body)
    after = api.dossier(dossier["code"])
    assert after["version"] == 1
    assert after["applicant"] == dossier["applicant"]


def _patch_accepts_valid_numbers(api):
    dossier = drive(api, "accepted")
    for applicant in ({"id_number": "046195001"}, {"id_number": "0461 9500 1123"}, {"phone": "0987654321"},
                      {"phone": "+84987654321"}):
        response = api.client.patch(f"{BASE}/{dossier['code']}", json={"applicant": applicant},
                                    headers=api.h("clerk"))
        assert response.status_code == 200, response.get_data(as_text=True)
        key, value = next(iter(applicant.items()))
        assert response.get_json()["applicant"][key].replace(" ", "") == value.replace(" ", "")
    assert api.dossier(dossier["code"])["version"] == 5


def test_patch_applicant(api):
    _patch_corrects_applicant_with_nfc(api)
    _patch_changes_only_the_applicant(api)
    _patch_validation(api)
    _patch_accepts_valid_numbers(api)


# -- lists ----------------------------------------------------------------------------------------


def test_list_filters(api):
    dept = api.create(applicant={"name": "Nguyễn Văn An"}).get_json()["code"]
    online = api.create(status="registered", channel="online", procedure_code=HOURS_PROC,
                        applicant={"name": "Trần Thị Bình"}).get_json()["code"]
    sub = api.create("sub_clerk", channel="postal", applicant={"name": "Lê Văn Cường"}).get_json()["code"]
    other = api.create("other_clerk", applicant={"name": "Đặng Thị Dung"}).get_json()["code"]
    everything = {dept, online, sub, other}
    assert api.codes() == everything
    assert api.list()["total"] == 4
    assert api.codes(agency=DEPT) == {dept, online, sub}
    assert api.codes(agency=SUB) == {sub}
    assert api.codes(agency=ROOT) == everything
    assert api.codes(agency=OTHER) == {other}
    assert api.codes(procedure=HOURS_PROC) == {online}
    assert api.codes(procedure=DAYS_PROC) == {dept, sub, other}
    assert api.codes(status="registered") == {online}
    assert api.codes(status="accepted") == {dept, sub, other}
    assert api.codes(channel="online") == {online}
    assert api.codes(channel="postal") == {sub}
    assert api.codes(channel="direct") == {dept, other}
    assert api.codes(q="nguyen van an") == {dept}
    assert api.codes(q="NGUYỄN VĂN") == {dept}
    assert api.codes(q="dang thi") == {other}
    assert api.codes(q="Đặng") == {other}
    assert api.codes(q=online[-11:].lower()) == {online}  # a code fragment, any case
    assert api.codes(q=f"  {sub.lower()} ") == {sub}
    assert api.codes(q="không có ai") == set()
    # Filters combine.
    assert api.codes(agency=DEPT, channel="direct") == {dept}


def test_list_overdue_and_accepted_dates(api):
    late = api.create("admin", accepted_at=vn_iso(2025, 3, 3, 0, 30)).get_json()["code"]
    finished = api.create("admin", accepted_at=vn_iso(2025, 4, 10, 9)).get_json()["code"]
    api.step(finished, "process", "admin", at=vn_iso(2025, 4, 10, 10))
    api.step(finished, "complete", "admin", result="approved", at=vn_iso(2025, 4, 25, 10))
    paused = api.create("admin", accepted_at=vn_iso(2025, 5, 5, 9)).get_json()["code"]
    api.step(paused, "request_supplement", "admin", reason="Thiếu", at=vn_iso(2025, 5, 5, 10))
    fresh = api.create().get_json()["code"]
    registered = api.create(status="registered").get_json()["code"]
    assert api.dossier(late)["overdue"] is True
    assert api.dossier(finished)["overdue"] is False
    assert api.dossier(finished)["timeliness"] == "late"
    assert api.dossier(paused)["overdue"] is False  # the clock stopped while waiting
    assert api.codes(overdue="true") == {late}
    assert api.codes(overdue="false") == {finished, paused, fresh, registered}
    # Accepted dates are local dates: 2025-03-03 00:30 in Huế is 2025-03-02 in UTC.
    assert api.codes(accepted_from="2025-03-03", accepted_to="2025-03-03") == {late}
    assert api.codes(accepted_to="2025-03-02") == set()
    assert api.codes(accepted_from="2025-04-01", accepted_to="2025-05-31") == {finished, paused}
    assert api.codes(accepted_from="2025-04-10", accepted_to="2025-04-10") == {finished}
    assert late not in api.codes(accepted_from="2025-03-04")
    assert registered not in api.codes(accepted_from="2000-01-01")  # never accepted


def _list_pagination(api):
    for _ in range(3):
        api.create()
    page = api.list(page=1, page_size=2)
    assert (page["page"], page["page_size"], page["total"], len(page["items"])) == (1, 2, 3, 2)
    second = api.list(page=2, page_size=2)
    assert len(second["items"]) == 1
    assert {i["code"] for i in page["items"]}.isdisjoint({i["code"] for i in second["items"]})
    assert api.list(page_size=100)["total"] == 3
    for bad in ({"page_size": 101}, {"page_size": 0}, {"page": 0}):
        response = api.client.get(BASE, query_string=bad, headers=api.h("admin"))
        body = assert_problem(response, 422)
        assert set(bad) <= set(body["errors"]), body
    item = page["items"][0]
    assert DOSSIER_FIELDS - {"steps"} <= set(item)


def _list_validation(api):
    for bad in ({"status": "lost"}, {"channel": "fax"}, {"overdue": "maybe"}, {"accepted_from": "2025-13-01"},
                {"page": 10 ** 20}, {"page": -1}, {"accepted_from": "0001-01-01"}, {"accepted_to": "9999-12-31"},
                {"q": ""}):
        body = assert_problem(api.client.get(BASE, query_string=bad, headers=api.h("admin")), 422)
        assert set(bad) <= set(body["errors"]), body


def _search_text_is_not_a_pattern(api):
    code = api.create(applicant={"name": "Nguyễn Văn An"}).get_json()["code"]
    for q in ("%", "_", "%%", "an%", "\\", "nguyen_van"):
        assert api.codes(q=q) == set(), q
    assert code in api.codes(q="van an")


def _times_out_of_range_are_invalid(api):
    total = api.list()["total"]
    for accepted_at in ("1999-12-31T10:00:00+07:00", "0001-01-01T00:00:00+00:00"):
        body = assert_problem(api.create("admin", expect=None, accepted_at=accepted_at), 422)
        assert "accepted_at" in body["errors"], body
    code = api.create("admin", accepted_at=vn_iso(2025, 3, 3, 9)).get_json()["code"]
    for far in ("9999-12-31T23:59:59-05:00", "2150-01-01T17:00:00+07:00"):
        body = assert_problem(api.step(code, "apologize", "admin", expect=None, reason="x",
                                       new_appointment_at=far), 422)
        assert "new_appointment_at" in body["errors"], body
    body = assert_problem(api.step(code, "comment", "admin", expect=None, note="x",
                                   at="0001-01-01T00:00:00+00:00"), 422)
    assert "at" in body["errors"], body
    after = api.dossier(code)
    assert (after["version"], len(after["steps"])) == (1, 1)
    assert api.list()["total"] == total + 1


def test_list_pages_and_validation(api):
    _list_pagination(api)
    _list_validation(api)
    _search_text_is_not_a_pattern(api)


# -- scope and roles ------------------------------------------------------------------------------


def _other_agency_clerk_gets_404(api):
    dossier = drive(api, "accepted")
    code = dossier["code"]
    h = api.h("other_clerk")
    assert_problem(api.client.get(f"{BASE}/{code}", headers=h), 404)
    assert_problem(api.client.get(f"{BASE}/{code}/steps", headers=h), 404)
    assert_problem(api.client.patch(f"{BASE}/{code}", json={"applicant": {"name": "X Y"}}, headers=h), 404)
    assert_problem(api.client.post(f"{BASE}/{code}/steps", json={"action": "process"}, headers=h), 404)
    unknown = assert_problem(api.client.get(f"{BASE}/{DEPT}-250101-9999", headers=api.h("clerk")), 404)
    hidden = assert_problem(api.client.get(f"{BASE}/{code}", headers=h), 404)
    assert hidden["title"] == unknown["title"]
    # The same sentence for both, and one that does not claim the code exists or not.
    assert hidden["detail"] == f"No dossier with the code {code} is visible to your account."
    assert unknown["detail"] == f"No dossier with the code {DEPT}-250101-9999 is visible to your account."
    assert code not in api.codes("other_clerk")
    assert api.list("other_clerk")["total"] == 0
    assert api.list("other_clerk", agency=DEPT)["total"] == 0
    after = api.dossier(code)
    assert after["version"] == 1 and after["applicant"]["name"] == "Nguyễn Văn An"


def test_outsiders_and_viewers(api):
    _other_agency_clerk_gets_404(api)
    _viewer_reads_but_never_writes(api)


def test_subtree_scope(api):
    dept = drive(api, "accepted")["code"]
    sub = api.create("sub_clerk").get_json()["code"]
    assert api.codes("sub_clerk") == {sub}  # a sub-agency does not see its parent's dossiers
    assert_problem(api.get(dept, "sub_clerk"), 404)
    assert api.codes("clerk") == {dept, sub}  # the parent's clerk sees its subtree
    assert api.get(sub, "clerk").status_code == 200
    assert api.codes("manager") == {dept, sub}
    assert api.codes("viewer") == {dept, sub}


def _viewer_reads_but_never_writes(api):
    dossier = drive(api, "accepted")
    total = api.list()["total"]
    code = dossier["code"]
    h = api.h("viewer")
    assert api.client.get(f"{BASE}/{code}", headers=h).status_code == 200
    assert api.client.get(f"{BASE}/{code}/steps", headers=h).status_code == 200
    assert_problem(api.client.post(BASE, json={"procedure_code": DAYS_PROC, "channel": "direct",
                                               "applicant": {"name": "A B"}}, headers=h), 403)
    assert_problem(api.client.post(f"{BASE}/{code}/steps", json={"action": "process"}, headers=h), 403)
    assert_problem(api.client.patch(f"{BASE}/{code}", json={"applicant": {"name": "X Y"}}, headers=h), 403)
    assert_problem(api.client.get(BASE), 401)
    assert_problem(api.client.post(BASE, json={}), 401)
    assert_problem(api.client.post(f"{BASE}/{code}/steps", json={"action": "process"}), 401)
    assert api.list()["total"] == total
    assert api.dossier(code)["version"] == 1


def _lookup_ignores_case_and_spaces(api):
    code = drive(api, "accepted")["code"]
    for variant in (code.lower(), f"  {code} ", f" {code.lower()}\t"):
        response = api.client.get(f"{BASE}/{quote(variant)}", headers=api.h("clerk"))
        assert response.status_code == 200, (variant, response.get_data(as_text=True))
        assert response.get_json()["code"] == code
    steps = api.client.get(f"{BASE}/{quote(' ' + code.lower() + ' ')}/steps", headers=api.h("clerk"))
    assert steps.status_code == 200
    assert [s["action"] for s in steps.get_json()] == ["accept"]
    result = api.step(quote(f" {code.lower()} "), "process")
    assert result.get_json()["dossier"]["code"] == code


def _steps_list_is_ordered(api):
    dossier = drive(api, "returned")
    response = api.client.get(f"{BASE}/{dossier['code']}/steps", headers=api.h("viewer"))
    assert response.status_code == 200
    steps = response.get_json()
    assert isinstance(steps, list)
    assert [s["seq"] for s in steps] == [1, 2, 3, 4]
    assert [s["action"] for s in steps] == ["accept", "process", "complete", "return_result"]
    assert [s["status_after"] for s in steps] == ["accepted", "processing", "done", "returned"]
    assert all(s["user"] == "clerk" for s in steps)
    assert [parse(s["at"]) for s in steps] == sorted(parse(s["at"]) for s in steps)


def test_lookup_and_steps(api):
    _lookup_ignores_case_and_spaces(api)
    _steps_list_is_ordered(api)


# -- Idempotency-Key ----------------------------------------------------------------------------------


def test_idempotency_key_replays(api):
    body = {"procedure_code": DAYS_PROC, "channel": "direct", "applicant": {"name": "Nguyễn Văn An"}}
    key = {"Idempotency-Key": "receipt-42"}
    first = api.client.post(BASE, json=body, headers=api.h("clerk", **key))
    assert first.status_code == 201
    second = api.client.post(BASE, json=body, headers=api.h("clerk", **key))
    assert second.status_code == 201
    assert second.get_json()["code"] == first.get_json()["code"]
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["ETag"] == first.headers["ETag"]
    assert api.list()["total"] == 1
    # Same key, another body: 422 and nothing new.
    other = api.client.post(BASE, json={**body, "channel": "postal"}, headers=api.h("clerk", **key))
    body422 = assert_problem(other, 422)
    assert body422.get("errors")
    assert api.list()["total"] == 1
    # Keys are per user: the manager's identical request creates its own dossier.
    mine = api.client.post(BASE, json=body, headers=api.h("manager", **key))
    assert mine.status_code == 201
    assert mine.get_json()["code"] != first.get_json()["code"]
    assert api.list()["total"] == 2
    # Another key creates another dossier.
    third = api.client.post(BASE, json=body, headers=api.h("clerk", **{"Idempotency-Key": "receipt-43"}))
    assert third.status_code == 201
    assert len({first.get_json()["code"], mine.get_json()["code"], third.get_json()["code"]}) == 3
    assert api.list()["total"] == 3


def _idempotency_key_on_steps(api):
    code = drive(api, "accepted")["code"]
    key = {"Idempotency-Key": "step-1"}
    first = api.step(code, "process", headers=key)
    again = api.step(code, "process", headers=key)
    assert again.get_json()["step"]["seq"] == first.get_json()["step"]["seq"] == 2
    after = api.dossier(code)
    assert (after["version"], len(after["steps"])) == (2, 2)


def _failed_request_does_not_burn_the_key(api):
    key = {"Idempotency-Key": "retry-me"}
    bad = api.client.post(BASE, json={"procedure_code": "9.999999", "channel": "direct",
                                      "applicant": {"name": "A B"}}, headers=api.h("clerk", **key))
    assert_problem(bad, 422)
    assert api.list()["total"] == 0
    good = api.client.post(BASE, json={"procedure_code": "1.000001", "channel": "direct",
                                       "applicant": {"name": "A B"}}, headers=api.h("clerk", **key))
    assert good.status_code == 201, good.get_data(as_text=True)
    assert api.list()["total"] == 1
    response = api.client.post(BASE, json={"procedure_code": DAYS_PROC, "channel": "direct",
                                           "applicant": {"name": "A B"}},
                               headers=api.h("clerk", **{"Idempotency-Key": "k" * 256}))
    assert_problem(response, 422)
    assert api.list()["total"] == 1


def test_idempotency_failures_and_steps(api):
    _failed_request_does_not_burn_the_key(api)
    _idempotency_key_on_steps(api)


# -- language ------------------------------------------------------------------------------------


def test_status_label_follows_accept_language(api):
    code = drive(api, "supplement_requested")["code"]
    assert api.dossier(code)["status_label"] == "Yêu cầu bổ sung hồ sơ"
    english = api.get(code, "clerk", **{"Accept-Language": "en"}).get_json()
    assert english["status_label"] == "Additional documents requested"
    assert api.get(code, "clerk", **{"Accept-Language": "vi"}).get_json()["status_label"] == "Yêu cầu bổ sung hồ sơ"
    assert api.get(code, "clerk", **{"Accept-Language": "en-US,en;q=0.9"}).get_json()["status_label"] \
        == "Additional documents requested"
    listed = api.client.get(BASE, headers=api.h("clerk", **{"Accept-Language": "en"})).get_json()
    assert listed["items"][0]["status_label"] == "Additional documents requested"
    response = api.client.get(BASE, headers=api.h("clerk"))
    assert "Yêu cầu bổ sung hồ sơ" in response.get_data(as_text=True)  # no \u escapes needed


# -- audit ---------------------------------------------------------------------------------------


def test_audit_never_holds_personal_numbers_in_clear(api, app):
    dossier = api.create(applicant={"name": "Nguyễn Văn An", "id_number": "046195001122",
                                    "phone": "0912 345 678", "email": "an@example.vn"}).get_json()
    code = dossier["code"]
    assert dossier["applicant"]["phone"] == "0912345678"
    api.client.patch(f"{BASE}/{code}", headers=api.h("clerk"),
                     json={"applicant": {"id_number": "079088004455", "phone": "+84987654321"}})
    api.step(code, "process", note="Đã kiểm tra giấy tờ")
    api.create("admin", accepted_at=vn_iso(2025, 3, 3, 9),
               applicant={"name": "Trần Thị Bình", "id_number": "123456789", "phone": "0355111222"})
    with app.app_context():
        from tracker.models import AuditRecord

        records = AuditRecord.query.all()
        changes = [r.change for r in records if r.target_type == "dossier"]
    assert len(changes) >= 4
    text = "\n".join(changes)
    assert code in "\n".join(r.target_id for r in records)
    for secret in ("046195001122", "079088004455", "0912345678", "0912 345 678", "987654321", "123456789",
                   "0355111222"):
        assert secret not in text, secret


# -- bodies that are not JSON ---------------------------------------------------------------------


@pytest.mark.parametrize("send", [
    {"data": '{"action": "process"}'},  # JSON without its Content-Type
    {"data": '{"action": "process"}', "content_type": "text/plain"},
    {"data": {"action": "process"}},  # a form
    {"data": "action=process", "content_type": "application/x-www-form-urlencoded"},
])
def test_a_body_that_is_not_json_is_refused_with_415(api, send):
    code = drive(api, "accepted")["code"]
    for path in (BASE, f"{BASE}/{code}/steps", f"{BASE}/{code}"):
        method = api.client.patch if path == f"{BASE}/{code}" else api.client.post
        body = assert_problem(method(path, headers=api.h("clerk"), **send), 415)
        assert body["detail"].startswith("Send the body as application/json")
        assert "errors" not in body
    assert api.dossier(code)["version"] == 1


def test_json_bodies_and_empty_writes_are_unchanged(api, auth):
    code = drive(api, "accepted")["code"]
    # A JSON type with parameters, and a +json type, are JSON.
    response = api.client.post(f"{BASE}/{code}/steps", data='{"action": "process"}', headers=api.h("clerk"),
                               content_type="application/json; charset=utf-8")
    assert response.status_code == 201, response.get_json()
    # A write without a body has nothing to misread: it gets the usual answers.
    assert_problem(api.client.post(BASE, headers=api.h("clerk")), 422)
    tokens = auth.tokens("clerk")
    assert api.client.post("/api/v1/auth/logout",
                           headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code < 400
