"""Import and export in JSON Lines (docs/api-guide.md#import-and-export): a history built through the API goes out
with ``flask tracker export`` and comes back identical in an empty database with ``flask tracker import``.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tracker.domain.statistics import COLUMNS
from tracker.extensions import db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT, DEPT, SUB, OTHER = "000.00.00.H57", "000.01.00.H57", "000.01.01.H57", "000.02.00.H57"
NEW = "000.09.00.H57"          # created after the others, then made the parent of OTHER
DAYS_PROC, HOURS_PROC = "1.000001", "1.000002"  # 3 working days, 4 working hours
LONG_PROC = "1.004227"         # 10 working days, shortened to 2 after some dossiers were accepted
OLD_CODE = "HUE/2023/000123"
BASE = "/api/v1/dossiers"
DATE_FIELDS = ("submitted_at", "accepted_at", "effective_intake_at", "due_at", "appointment_at", "finished_at",
               "returned_at", "withdrawn_at")
STEP_FIELDS = ("seq", "action", "status_before", "status_after", "at", "handler", "note", "public_note", "reason",
               "result", "new_appointment_at", "to_agency_code")


def vn(y, mo, d, h=9, mi=0) -> str:
    return datetime(y, mo, d, h, mi, tzinfo=VN).isoformat()


# -- helpers -----------------------------------------------------------------------------------------


def invoke(app, *args):
    """Run ``flask tracker ...`` against ``app``; stdout and stderr are kept apart."""
    return app.test_cli_runner().invoke(args=["tracker", *args])


def write_lines(path, records) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record if isinstance(record, str) else json.dumps(record, ensure_ascii=False))
            handle.write("\n")
    return str(path)


def admin_headers(client) -> dict:
    response = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": "Bearer " + response.get_json()["access_token"]}


def create(client, headers, body: dict, steps: list[dict]) -> str:
    response = client.post(BASE, json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    code = response.get_json()["code"]
    for step in steps:
        answer = client.post(f"{BASE}/{code}/steps", json=step, headers=headers)
        assert answer.status_code == 201, (code, step, answer.get_data(as_text=True))
    return code


def all_dossiers(client, headers) -> dict[str, dict]:
    response = client.get(f"{BASE}?page_size=100", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["total"] <= 100
    return {item["code"]: item for item in body["items"]}


def comparable(dossier: dict) -> dict:
    """What must survive export and import: the dossier, its dates and the facts of every step."""
    kept = {k: v for k, v in dossier.items() if k not in ("steps", "version")}
    kept["steps"] = [{k: step.get(k) for k in STEP_FIELDS} for step in dossier["steps"]]
    return kept


def stat_rows(app) -> dict[str, set]:
    """The statistics counter tables, with agency and procedure codes instead of ids, zero rows left out."""
    from tracker.models import Agency, Procedure, StatAgencyCell, StatCell

    with app.app_context():
        agencies = dict(db.session.execute(select(Agency.id, Agency.code)).all())
        procedures = dict(db.session.execute(select(Procedure.id, Procedure.code)).all())
        counters = COLUMNS
        fine = {(c.grain, c.start, agencies[c.agency_id], procedures[c.procedure_id], c.channel,
                 *[getattr(c, n) for n in counters]) for c in db.session.scalars(select(StatCell))}
        coarse = {(c.grain, c.start, agencies[c.agency_id], c.channel, *[getattr(c, n) for n in counters])
                  for c in db.session.scalars(select(StatAgencyCell))}
        db.session.remove()
    zero = lambda row, n: any(row[n:])  # noqa: E731
    return {"fine": {r for r in fine if zero(r, 5)}, "coarse": {r for r in coarse if zero(r, 4)}}


def public_stats(client, years) -> dict:
    answers = {}
    for year in years:
        for group_by in ("agency", "procedure", "channel", "month", "field"):
            response = client.get(f"/api/v1/public/stats?period={year}&group_by={group_by}")
            assert response.status_code == 200, response.get_data(as_text=True)
            answers[(year, group_by)] = response.get_json()
        response = client.get(f"/api/v1/public/stats?period={year}&agency={DEPT}&group_by=agency")
        assert response.status_code == 200, response.get_data(as_text=True)
        answers[(year, "dept")] = response.get_json()
    return answers


def count(app, model) -> int:
    with app.app_context():
        number = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return number


def applicant(name: str, **more) -> dict:
    return {"name": name, **more}


def build_history(app, client, factory, tmp_path) -> dict[str, str]:
    """Reference data and dossiers of every shape, all through the HTTP API as admin (plus one legacy file)."""
    factory.agency(ROOT, "UBND thành phố Huế", level="province")
    factory.agency(DEPT, "Sở Tư pháp", parent=ROOT, level="department")
    factory.agency(SUB, "Phòng Hộ tịch", parent=DEPT)
    factory.agency(OTHER, "Sở Xây dựng", parent=ROOT, level="department")
    factory.procedure(DAYS_PROC, 3, "working_days")
    factory.procedure(HOURS_PROC, 4, "working_hours", field="Chứng thực")
    factory.user("admin", "admin")
    h = admin_headers(client)
    # An agency created last and then made the parent of one created earlier.
    assert client.post("/api/v1/agencies", json={"code": NEW, "name": "Sở Nội vụ", "parent_code": ROOT},
                       headers=h).status_code == 201
    assert client.patch(f"/api/v1/agencies/{OTHER}", json={"parent_code": NEW}, headers=h).status_code == 200
    assert client.post("/api/v1/procedures", json={
        "code": LONG_PROC, "name": "Cấp Phiếu lý lịch tư pháp", "field": "Lý lịch tư pháp",
        "time_limit": {"value": 10, "unit": "working_days"}}, headers=h).status_code == 201
    # A local day off (Friday 2025-06-13), declared before the dossiers it delays.
    assert client.post("/api/v1/calendar/overrides", json={"date": "2025-06-13", "working": False,
                                                           "name": "Nghỉ lễ hội Festival Huế"},
                       headers=h).status_code == 201

    # Codes from a previous system: one of ours (it reserves the counter) and one in the old format.
    legacy = write_lines(tmp_path / "legacy.jsonl", [
        {"type": "dossier", "code": f"{DEPT}-250124-0007", "procedure_code": DAYS_PROC, "agency_code": DEPT,
         "channel": "direct", "accepted_at": vn(2025, 1, 24, 8, 0),
         "applicant": applicant("Lê Văn Cũ", id_number="046090001234"),
         "steps": [{"action": "process", "at": vn(2025, 1, 24, 9, 0)}]},
        {"type": "dossier", "code": OLD_CODE, "procedure_code": DAYS_PROC, "agency_code": ROOT,
         "channel": "postal", "accepted_at": vn(2023, 6, 1, 9, 0),
         "applicant": applicant("Hồ Thị Xưa", phone="0905111222"),
         "steps": [{"action": "process", "at": vn(2023, 6, 1, 10, 0)},
                   {"action": "complete", "result": "approved", "at": vn(2023, 6, 5, 10, 0)},
                   {"action": "return_result", "at": vn(2023, 6, 6, 10, 0)}]},
    ])
    result = invoke(app, "import", legacy, "--quiet")
    assert result.exit_code == 0, (result.output, result.stderr)

    def accepted(procedure, agency, channel, at, who, steps, note=None, **flags):
        body = {"procedure_code": procedure, "agency_code": agency, "channel": channel, "accepted_at": at,
                "applicant": who, **flags}
        if note:
            body["note"] = note
        return create(client, h, body, steps)

    codes = {}
    codes["early"] = accepted(DAYS_PROC, DEPT, "direct", vn(2025, 1, 24, 10), applicant(
        "Nguyễn Văn An", id_number="046195001122", phone="0934555666", email="an@example.vn",
        address="12 Lê Lợi, phường Thuận Hóa"), [
        {"action": "process", "at": vn(2025, 2, 3, 8), "handler": "Trần Thị Bình", "public_note": "Đang thẩm định"},
        {"action": "complete", "result": "approved", "at": vn(2025, 2, 4, 9, 30)},
        {"action": "return_result", "at": vn(2025, 2, 6, 8)}], note="Nộp trực tiếp tại quầy số 3")
    codes["supplement"] = accepted(DAYS_PROC, SUB, "online", vn(2025, 3, 3), applicant("Phạm Thị Hoa"), [
        {"action": "request_supplement", "at": vn(2025, 3, 4, 10), "reason": "Thiếu bản sao CCCD",
         "public_note": "Đề nghị bổ sung bản sao căn cước"},
        {"action": "receive_supplement", "at": vn(2025, 3, 6, 14)},
        {"action": "process", "at": vn(2025, 3, 7, 8), "note": "Chuyển chuyên viên"},
        {"action": "complete", "result": "denied", "at": vn(2025, 3, 10, 16)},
        {"action": "return_result", "at": vn(2025, 3, 11)}], digitized=True, paid_online=True)
    codes["two_supplements"] = accepted(DAYS_PROC, DEPT, "postal", vn(2025, 3, 10, 8), applicant("Võ Minh Quân"), [
        {"action": "request_supplement", "at": vn(2025, 3, 10, 9), "reason": "Thiếu giấy tờ"},
        {"action": "receive_supplement", "at": vn(2025, 3, 11, 9)},
        {"action": "request_supplement", "at": vn(2025, 3, 11, 10), "reason": "Thiếu chữ ký"},
        {"action": "receive_supplement", "at": vn(2025, 3, 12, 9)},
        {"action": "complete", "result": "approved", "at": vn(2025, 3, 12, 10)}])
    codes["payment"] = accepted(DAYS_PROC, DEPT, "online", vn(2025, 4, 14, 8), applicant("Đặng Thu Hà"), [
        {"action": "process", "at": vn(2025, 4, 14, 9)},
        {"action": "request_payment", "at": vn(2025, 4, 14, 10), "public_note": "Nộp lệ phí 200.000 đồng"},
        {"action": "receive_payment", "at": vn(2025, 4, 16, 10), "online": True},
        {"action": "complete", "result": "approved", "at": vn(2025, 4, 17, 10), "electronic_result": True},
        {"action": "return_result", "at": vn(2025, 4, 18, 10)}])
    codes["apologised"] = accepted(DAYS_PROC, DEPT, "direct", vn(2025, 4, 1), applicant("Bùi Xuân Sơn"), [
        {"action": "process", "at": vn(2025, 4, 1, 10)},
        {"action": "apologize", "at": vn(2025, 4, 3, 15), "reason": "Cần xin ý kiến Sở Xây dựng",
         "new_appointment_at": vn(2025, 4, 10, 17), "public_note": "Xin lỗi ông/bà, hẹn lại ngày trả"},
        {"action": "complete", "result": "approved", "at": vn(2025, 4, 9, 10)},
        {"action": "return_result", "at": vn(2025, 4, 10, 8)}])
    codes["handed_off"] = accepted(DAYS_PROC, DEPT, "online", vn(2025, 6, 11), applicant("Hoàng Ngọc Lan"), [
        {"action": "process", "at": vn(2025, 6, 11, 10), "to_agency_code": OTHER, "handler": "Ngô Đức Huy"},
        {"action": "process", "at": vn(2025, 6, 12, 9)},
        {"action": "complete", "result": "approved", "at": vn(2025, 6, 16, 15)},
        {"action": "return_result", "at": vn(2025, 6, 17, 9)}])
    codes["withdrawn"] = accepted(DAYS_PROC, ROOT, "direct", vn(2025, 6, 9), applicant("Dương Hoài Nam"), [
        {"action": "process", "at": vn(2025, 6, 9, 10)},
        {"action": "withdraw", "at": vn(2025, 6, 10, 10), "note": "Công dân xin rút"}])
    codes["stopped"] = accepted(HOURS_PROC, DEPT, "direct", vn(2025, 6, 10, 8), applicant("Huỳnh Tâm"), [
        {"action": "stop", "at": vn(2025, 6, 10, 9), "reason": "Hồ sơ giả mạo"}])
    codes["hours"] = accepted(HOURS_PROC, SUB, "direct", vn(2025, 6, 11, 8), applicant("Lê Thanh Vy"), [
        {"action": "process", "at": vn(2025, 6, 11, 8, 30)},
        {"action": "complete", "result": "approved", "at": vn(2025, 6, 11, 13, 45)}])
    codes["hours_late"] = accepted(HOURS_PROC, OTHER, "online", vn(2025, 6, 12, 14), applicant("Đỗ Hải"), [
        {"action": "process", "at": vn(2025, 6, 12, 15)},
        {"action": "complete", "result": "approved", "at": vn(2025, 6, 16, 16)}])
    codes["carried_over"] = accepted(DAYS_PROC, OTHER, "online", vn(2024, 12, 30, 10), applicant("Ngô Yến"), [
        {"action": "process", "at": vn(2024, 12, 31)},
        {"action": "complete", "result": "approved", "at": vn(2025, 1, 6, 10)},
        {"action": "return_result", "at": vn(2025, 1, 7, 10)}])
    codes["pending_old"] = accepted(DAYS_PROC, DEPT, "postal", vn(2024, 11, 4, 10), applicant("Phan Khánh"), [
        {"action": "process", "at": vn(2024, 11, 5)},
        {"action": "comment", "at": vn(2024, 11, 6), "note": "Ghi chú nội bộ", "public_note": "Đang chờ ý kiến"}])
    codes["paused_open"] = accepted(LONG_PROC, DEPT, "direct", vn(2025, 9, 8), applicant("Trần Giang"), [
        {"action": "request_supplement", "at": vn(2025, 9, 9, 10), "reason": "Thiếu tờ khai"}])
    # The procedure's time limit changes: dossiers already accepted keep theirs.
    assert client.patch(f"/api/v1/procedures/{LONG_PROC}", json={"time_limit": {"value": 2, "unit": "working_days"}},
                        headers=h).status_code == 200
    codes["short_limit"] = accepted(LONG_PROC, DEPT, "online", vn(2025, 9, 15), applicant("Trần Mai"), [
        {"action": "process", "at": vn(2025, 9, 15, 10)}])
    # Online submissions: accepted later, refused, still waiting (server clock: no `at` on the API).
    codes["registered_accepted"] = create(client, h, {
        "procedure_code": DAYS_PROC, "agency_code": DEPT, "channel": "online", "status": "registered",
        "applicant": applicant("Nguyễn Thị Thảo", phone="+84912345678")},
        [{"action": "accept", "digitized": True}, {"action": "process", "public_note": "Đã phân công"}])
    codes["refused"] = create(client, h, {
        "procedure_code": DAYS_PROC, "agency_code": SUB, "channel": "online", "status": "registered",
        "applicant": applicant("Châu Phúc")}, [{"action": "refuse_intake", "reason": "Không thuộc thẩm quyền"}])
    codes["registered"] = create(client, h, {
        "procedure_code": HOURS_PROC, "agency_code": OTHER, "channel": "online", "status": "registered",
        "applicant": applicant("Linh")}, [])
    # An applicant correction after intake.
    response = client.get(f"{BASE}/{codes['supplement']}", headers=h)
    response = client.patch(f"{BASE}/{codes['supplement']}", json={"applicant": {"phone": "0987654321"}},
                            headers={**h, "If-Match": response.headers["ETag"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    return codes


# -- the round trip ----------------------------------------------------------------------------------


def test_export_then_import_into_an_empty_database_gives_the_same_dossiers(app, client, factory, tmp_path,
                                                                          second_app):
    codes = build_history(app, client, factory, tmp_path)
    h = admin_headers(client)
    first = all_dossiers(client, h)
    assert len(first) == len(codes) + 2

    # The history is what was meant (so that the comparison below compares something).
    statuses = {name: first[code]["status"] for name, code in codes.items()}
    assert statuses == {
        "early": "returned", "supplement": "returned", "two_supplements": "done", "payment": "returned",
        "apologised": "returned", "handed_off": "returned", "withdrawn": "withdrawn", "stopped": "stopped",
        "hours": "done", "hours_late": "done", "carried_over": "returned", "pending_old": "processing",
        "paused_open": "supplement_requested", "short_limit": "processing", "registered_accepted": "processing",
        "refused": "not_accepted", "registered": "registered"}
    early = first[codes["early"]]
    assert early["code"] == f"{DEPT}-250124-0008"       # after the imported ...-0007
    assert early["due_at"] == "2025-02-05T17:00:00+07:00" and early["timeliness"] == "early"
    assert first[codes["two_supplements"]]["timeliness"] == "late"
    assert first[codes["two_supplements"]]["supplement_count"] == 2
    assert first[codes["apologised"]]["timeliness"] == "late"
    assert first[codes["apologised"]]["appointment_at"] == "2025-04-10T17:00:00+07:00"
    assert first[codes["handed_off"]]["handling_agency"]["code"] == OTHER
    assert first[codes["paused_open"]]["time_limit"] == {"value": 10, "unit": "working_days"}
    assert first[codes["short_limit"]]["time_limit"] == {"value": 2, "unit": "working_days"}
    assert first[codes["withdrawn"]]["withdrawn_at"] == "2025-06-10T10:00:00+07:00"
    assert {d["timeliness"] for d in first.values()} == {"early", "on_time", "late", None}
    evaluation = {"verify": "046195001122", "overall": "dissatisfied", "comment": "Góp ý cho cơ quan"}
    assert client.post(f"/api/v1/public/dossiers/{codes['early']}/evaluation", json=evaluation).status_code == 201
    flags = {name: [n for n, code in codes.items() if first[code][name]]
             for name in ("digitized", "paid_online", "electronic_result")}
    assert flags == {"digitized": ["supplement", "registered_accepted"], "paid_online": ["supplement", "payment"],
                     "electronic_result": ["payment"]}

    path = tmp_path / "export.jsonl"
    result = invoke(app, "export", str(path))
    assert result.exit_code == 0, (result.output, result.stderr)
    assert f"Exported {len(first)} dossiers" in result.output
    exported = path.read_bytes()
    lines = [json.loads(line) for line in exported.decode("utf-8").splitlines()]
    assert [r["type"] for r in lines].count("dossier") == len(first)
    assert "Nguyễn Văn An" in exported.decode("utf-8")        # UTF-8, not \u escapes

    result = invoke(second_app, "import", str(path), "--quiet")
    assert result.exit_code == 0, (result.output, result.stderr)
    assert f"{len(first)} dossiers" in result.output and "0 bad lines" in result.output, result.output

    # Exporting the second database gives the same bytes.
    again = tmp_path / "again.jsonl"
    result = invoke(second_app, "export", str(again), "--quiet")
    assert result.exit_code == 0, (result.output, result.stderr)
    assert again.read_bytes() == exported

    # The same dossiers, field by field, step by step.
    invoke(second_app, "create-user", "admin", "--password", PASSWORD)
    client2 = second_app.test_client()
    second = all_dossiers(client2, admin_headers(client2))
    assert sorted(second) == sorted(first)
    for code, dossier in first.items():
        other = second[code]
        for name in ("status", "timeliness", "supplement_count", "result", "channel", "applicant", "note",
                     "time_limit", "overdue", "handling_agency", "online_level", "digitized", "paid_online",
                     "electronic_result", *DATE_FIELDS):
            assert other[name] == dossier[name], (code, name, dossier[name], other[name])
        assert comparable(other) == comparable(dossier), code

    # The same statistics, read from the counters and through the public API.
    assert stat_rows(second_app) == stat_rows(app)
    evaluated = [json.loads(line)["evaluation"] for line in exported.decode("utf-8").splitlines()
                 if json.loads(line).get("evaluation")]
    assert [(e["overall"], e["comment"]) for e in evaluated] == [("dissatisfied", "Góp ý cho cơ quan")]
    assert client2.get(f"/api/v1/dossiers/{codes['early']}/evaluation", headers=admin_headers(client2)
                       ).get_json()["overall"] == "dissatisfied"
    years = sorted({int(d["accepted_at"][:4]) for d in first.values() if d["accepted_at"]})
    assert years[0] == 2023 and 2025 in years
    stats = public_stats(client, years)
    assert stats[(2025, "agency")]["totals"]["resolved"]["total"] > 0
    assert stats == public_stats(client2, years)


def test_export_import_with_payment_not_pausing_the_clock(make_app, second_app, tmp_path):
    """The importer replays steps with the same rules as the API (here: payment does not pause)."""
    app = make_app(TRACKER_PAYMENT_PAUSES=False)
    from tests.conftest import Factory

    factory = Factory(app)
    factory.agency(DEPT, "Sở Tư pháp")
    factory.procedure(DAYS_PROC, 3, "working_days")
    factory.user("admin", "admin")
    client = app.test_client()
    h = admin_headers(client)
    code = create(client, h, {"procedure_code": DAYS_PROC, "agency_code": DEPT, "channel": "direct",
                              "accepted_at": vn(2025, 3, 3), "applicant": applicant("Lê Văn Tám")}, [
        {"action": "process", "at": vn(2025, 3, 3, 10)},
        {"action": "request_payment", "at": vn(2025, 3, 4, 10)},
        {"action": "receive_payment", "at": vn(2025, 3, 10, 10)},
        {"action": "complete", "result": "approved", "at": vn(2025, 3, 10, 11)}])
    before = client.get(f"{BASE}/{code}", headers=h).get_json()
    assert before["due_at"] == "2025-03-06T17:00:00+07:00" and before["timeliness"] == "late"
    path = tmp_path / "export.jsonl"
    assert invoke(app, "export", str(path), "--quiet").exit_code == 0

    second_app.config["TRACKER_PAYMENT_PAUSES"] = False
    result = invoke(second_app, "import", str(path), "--quiet")
    assert result.exit_code == 0, (result.output, result.stderr)
    invoke(second_app, "create-user", "admin", "--password", PASSWORD)
    client2 = second_app.test_client()
    after = client2.get(f"{BASE}/{code}", headers=admin_headers(client2)).get_json()
    assert comparable(after) == comparable(before)
    assert stat_rows(second_app) == stat_rows(app)


# -- importing ---------------------------------------------------------------------------------------


def dossier_line(code: str, **changes) -> dict:
    record = {"type": "dossier", "code": code, "procedure_code": DAYS_PROC, "agency_code": DEPT,
              "channel": "direct", "accepted_at": vn(2025, 1, 24, 10),
              "applicant": applicant("Nguyễn Văn An", phone="0934555666"),
              "steps": [{"action": "process", "at": vn(2025, 1, 24, 11)},
                        {"action": "complete", "result": "approved", "at": vn(2025, 1, 24, 14)}]}
    record.update(changes)
    return record


@pytest.fixture
def reference_data(city):
    return city


def codes_in(app) -> set[str]:
    from tracker.models import Dossier

    with app.app_context():
        found = set(db.session.scalars(select(Dossier.code)))
        db.session.remove()
    return found


def test_bad_lines_are_reported_with_their_number_and_the_good_ones_go_in(app, reference_data, tmp_path):
    future = (datetime.now(VN) + timedelta(days=2)).isoformat()
    good = [f"{DEPT}-250124-00{n:02d}" for n in range(1, 6)]
    lines = [
        dossier_line(good[0]),                                                                   # 1
        '{"type": "dossier", "code": "X-1", ',                                                   # 2 malformed
        {"type": "banana", "code": "Y"},                                                         # 3 unknown type
        dossier_line(f"{DEPT}-250124-0090", procedure_code="9.999999"),                          # 4 procedure
        dossier_line(f"{DEPT}-250124-0091", applicant={"name": "An", "phone": "12345"}),         # 5 phone
        dossier_line(good[1]),                                                                   # 6
        dossier_line(f"{DEPT}-250124-0092", steps=[                                              # 7 state machine
            {"action": "complete", "result": "approved", "at": vn(2025, 1, 24, 11)}]),
        dossier_line(f"{DEPT}-250124-0093", steps=[                                              # 8 earlier
            {"action": "process", "at": vn(2025, 1, 24, 11)}, {"action": "process", "at": vn(2025, 1, 24, 10, 30)}]),
        "",                                                                                      # 9 blank
        dossier_line(f"{DEPT}-250124-0094", steps=[{"action": "process", "at": future}]),        # 10 future
        dossier_line(good[2]),                                                                   # 11
        dossier_line(good[2], channel="online"),                                                 # 12 duplicate
        dossier_line(f"{DEPT}-250124-0095", note="a\u0000b"),                                    # 13 NUL
        "[1, 2, 3]",                                                                             # 14 not an object
        dossier_line(f"{DEPT}-250124-0096", agency_code="999.99.99.H99"),                        # 15 agency
        dossier_line(good[3], accepted_at=vn(2025, 1, 24, 10)),                                  # 16
        dossier_line(f"{DEPT}-250124-0097", steps=[{"action": "process", "at": "1999-01-01T00:00:00+07:00"}]),  # 17
        {"type": "agency", "code": "bad code", "name": "X"},                                     # 18 agency schema
        dossier_line(good[4]),                                                                   # 19
        # 200 characters that Unicode normalisation (NFC) turns into 400: too long for the column.
        dossier_line(f"{DEPT}-250124-0098", applicant={"name": "\u0958" * 200}),                  # 20
    ]
    path = write_lines(tmp_path / "bad.jsonl", lines)
    result = invoke(app, "import", path, "--quiet")
    assert result.exit_code == 1, (result.output, result.stderr)
    reported = {int(m.group(1)): m.group(2) for m in re.finditer(r"^line (\d+): (.+)$", result.stderr, re.M)}
    assert sorted(reported) == [2, 3, 4, 5, 7, 8, 10, 12, 13, 14, 15, 17, 18, 20], result.stderr
    assert "type" in reported[3]
    assert "procedure_code" in reported[4] and "9.999999" in reported[4]
    assert "phone" in reported[5]
    assert "complete" in reported[7] and "accepted" in reported[7]
    assert "earlier" in reported[8]
    assert "future" in reported[10]
    assert "twice" in reported[12] or "duplicate" in reported[12].lower()
    assert "NUL" in reported[13]
    assert "agency_code" in reported[15]
    assert "code" in reported[18]
    assert "applicant.name" in reported[20] and "255" in reported[20]
    for reason in reported.values():
        assert "Traceback" not in reason
    assert "14 bad lines" in result.output
    assert codes_in(app) == set(good)


def test_a_byte_order_mark_does_not_spoil_the_first_line(app, reference_data, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(dossier_line(f"{DEPT}-250124-0001")).encode() + b"\r\n"
                     + json.dumps(dossier_line(f"{DEPT}-250124-0002")).encode() + b"\r\n")
    result = invoke(app, "import", str(path), "--quiet")
    assert result.exit_code == 0, (result.output, result.stderr)
    assert codes_in(app) == {f"{DEPT}-250124-0001", f"{DEPT}-250124-0002"}


def test_importing_the_same_file_twice_adds_nothing(app, reference_data, tmp_path):
    from tracker.models import Dossier, Step

    path = write_lines(tmp_path / "twice.jsonl", [
        {"type": "agency", "code": "000.07.00.H57", "name": "Sở Y tế", "parent_code": ROOT},
        {"type": "procedure", "code": "1.002482", "name": "Cấp giấy phép nhà thuốc", "field": "Dược",
         "time_limit": {"value": 20, "unit": "working_days"}},
        dossier_line(f"{DEPT}-250124-0001"), dossier_line(f"{DEPT}-250124-0002"), dossier_line(OLD_CODE),
    ])
    first = invoke(app, "import", path, "--quiet")
    assert first.exit_code == 0, (first.output, first.stderr)
    assert "Imported 1 agency, 1 procedure, 3 dossiers" in first.output, first.output
    dossiers, steps, cells = count(app, Dossier), count(app, Step), stat_rows(app)
    second = invoke(app, "import", path, "--quiet")
    assert second.exit_code == 0, (second.output, second.stderr)
    assert "Imported 0 agencies, 0 procedures, 0 dossiers; 5 already present" in second.output, second.output
    assert (count(app, Dossier), count(app, Step)) == (dossiers, steps) == (3, 9)
    assert stat_rows(app) == cells


def test_imported_codes_keep_their_numbers_and_reserve_the_counter(app, reference_data, client, auth, tmp_path):
    from tracker.models import Agency, Dossier
    from tracker.services.codes import next_code
    from tracker.services.dossiers import find

    path = write_lines(tmp_path / "codes.jsonl", [
        dossier_line(f"{DEPT}-250124-0007"),
        dossier_line(f"{SUB}-250124-0003", agency_code=SUB),
        # A code naming another agency than the receiving one still blocks that agency's number.
        dossier_line(f"{OTHER}-250124-0012", agency_code=DEPT),
        dossier_line(OLD_CODE, agency_code=ROOT),
        dossier_line("hue/2024/77", agency_code=ROOT),
    ])
    result = invoke(app, "import", path, "--quiet")
    assert result.exit_code == 0, (result.output, result.stderr)
    assert codes_in(app) == {f"{DEPT}-250124-0007", f"{SUB}-250124-0003", f"{OTHER}-250124-0012", OLD_CODE,
                             "HUE/2024/77"}
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.code == DEPT))
        assert next_code(agency, date(2025, 1, 24)) == f"{DEPT}-250124-0008"
        assert next_code(agency, date(2025, 1, 25)) == f"{DEPT}-250125-0001"
        other = db.session.scalar(select(Agency).where(Agency.code == OTHER))
        assert next_code(other, date(2025, 1, 24)) == f"{OTHER}-250124-0013"
        db.session.rollback()
        old = find(OLD_CODE)
        assert old is not None and old.code == OLD_CODE and old.status == "done"
        assert find(" hue/2024/77 ").code == "HUE/2024/77"
        db.session.remove()
    # Through the API, an admin loading history for that day gets the next numbers.
    h = auth.headers("admin")
    for expected in (f"{DEPT}-250124-0008", f"{DEPT}-250124-0009"):
        response = client.post(BASE, json={"procedure_code": DAYS_PROC, "agency_code": DEPT, "channel": "direct",
                                           "accepted_at": vn(2025, 1, 24, 16), "applicant": applicant("Mới")},
                               headers=h)
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.get_json()["code"] == expected
    response = client.post(BASE, json={"procedure_code": DAYS_PROC, "agency_code": SUB, "channel": "direct",
                                       "accepted_at": vn(2025, 1, 24, 16), "applicant": applicant("Mới")}, headers=h)
    assert response.get_json()["code"] == f"{SUB}-250124-0004"
    response = client.get(f"{BASE}?q=HUE/20", headers=h)
    assert {d["code"] for d in response.get_json()["items"]} == {OLD_CODE, "HUE/2024/77"}


def test_the_import_writes_one_audit_record_and_seals_each_batch(app, reference_data, tmp_path):
    from tracker.models import AuditRecord, Step
    from tracker.services import audit_check

    path = write_lines(tmp_path / "audit.jsonl", [
        dossier_line(f"{DEPT}-250124-0001"), dossier_line(f"{DEPT}-250124-0002"), "not json",
        dossier_line(f"{DEPT}-250124-0003", applicant={"name": "Hà", "id_number": "046195009988"}),
    ])
    before = count(app, AuditRecord)
    result = invoke(app, "import", path, "--quiet")
    assert result.exit_code == 1
    # The summary, and before it one record per committed batch sealing its steps.
    assert count(app, AuditRecord) == before + 2
    with app.app_context():
        last, batch = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(2)).all()
        steps = db.session.scalar(select(func.count(Step.id)))
        assert (batch.action, json.loads(batch.change), batch.steps_sealed) == ("import.batch", {"dossiers": 3}, steps)
        assert steps >= 3 and db.session.scalar(select(func.count(Step.id)).where(Step.audit_id == batch.id)) == steps
        assert (last.action, last.target_type, last.target_id, last.client_ip) == ("import", "file", "audit.jsonl",
                                                                                   "cli")
        change = json.loads(last.change)
        assert change["added"]["dossier"] == 3 and change["errors"] == 1
        assert "0934555666" not in last.change and "046195009988" not in last.change
        assert audit_check.verify()[2] is None
        db.session.remove()

    # Reference data keeps its own records (one per agency or procedure), attributed like the import.
    path = write_lines(tmp_path / "reference.jsonl", [
        {"type": "agency", "code": "000.07.00.H57", "name": "Sở Y tế", "parent_code": ROOT},
        dossier_line(f"{DEPT}-250124-0004"), dossier_line(f"{DEPT}-250124-0005")])
    result = invoke(app, "import", path, "--quiet")
    assert result.exit_code == 0, (result.output, result.stderr)
    with app.app_context():
        records = db.session.scalars(select(AuditRecord).where(AuditRecord.id > before + 2)
                                     .order_by(AuditRecord.id)).all()
        assert [(r.action, r.target_id, r.client_ip) for r in records] == [
            ("agency.create", "000.07.00.H57", "cli"), ("import.batch", "reference.jsonl", "cli"),
            ("import", "reference.jsonl", "cli")]
        assert json.loads(records[2].change)["added"] == {"agency": 1, "procedure": 0, "dossier": 2,
                                                          "calendar_override": 0}
        db.session.remove()


def test_the_progress_bar_goes_to_stderr_and_quiet_silences_it(app, reference_data, tmp_path):
    path = write_lines(tmp_path / "progress.jsonl", [dossier_line(f"{DEPT}-250124-{n:04d}") for n in range(1, 4)])
    loud = invoke(app, "import", path)
    assert loud.exit_code == 0, (loud.output, loud.stderr)
    assert "import" in loud.stderr and "100%" in loud.stderr, loud.stderr
    assert loud.stdout.strip().splitlines() == ["Imported 0 agencies, 0 procedures, 3 dossiers; 0 already present; "
                                                "0 bad lines."]
    quiet = invoke(app, "import", path, "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert "3 already present" in quiet.stdout

    out = tmp_path / "out.jsonl"
    loud = invoke(app, "export", str(out))
    assert loud.exit_code == 0 and "export" in loud.stderr and "100%" in loud.stderr
    assert loud.stdout.strip() == f"Exported 3 dossiers to {out}."
    quiet = invoke(app, "export", str(out), "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_an_imported_pause_before_the_intake_counts_from_the_intake(app, reference_data, client, auth, tmp_path):
    """The rule book's pause example, loaded by the importer, gets the dates the API gives."""
    code = f"{DEPT}-250310-0001"
    path = write_lines(tmp_path / "pause.jsonl", [dossier_line(code, accepted_at=vn(2025, 3, 10, 16), steps=[
        {"action": "request_supplement", "reason": "Thiếu bản sao", "at": vn(2025, 3, 10, 16, 30)},
        {"action": "receive_supplement", "at": vn(2025, 3, 12, 9)},
        {"action": "complete", "result": "approved", "at": vn(2025, 3, 17, 10)}])])
    result = invoke(app, "import", path, "--quiet")
    assert result.exit_code == 0, (result.output, result.stderr)
    dossier = client.get(f"{BASE}/{code}", headers=auth.headers("admin")).get_json()
    assert dossier["effective_intake_at"] == vn(2025, 3, 11, 7, 30)
    assert (dossier["due_at"], dossier["timeliness"]) == (vn(2025, 3, 17, 17), "on_time")


def test_text_with_tabs_newlines_and_backslashes_goes_in_unchanged(app, reference_data, tmp_path):
    """PostgreSQL receives the rows as COPY text, where these characters are escapes."""
    from tracker.models import Dossier, Evaluation, Step

    tricky = "a\tb\nc\\d\re \\N \\t end\\"
    code = f"{DEPT}-250124-0001"
    line = dossier_line(code, note=tricky, applicant=applicant(tricky.replace("\n", " ")),
                        steps=[{"action": "process", "at": vn(2025, 1, 24, 11), "public_note": tricky,
                                "handler": "Lê\\Văn\tBa"},
                               {"action": "complete", "result": "approved", "at": vn(2025, 1, 24, 14)}],
                        evaluation={"overall": "satisfied", "comment": tricky, "criteria": {"k\\t": "satisfied"},
                                    "first_given_at": vn(2025, 1, 25), "given_at": vn(2025, 1, 25)})
    result = invoke(app, "import", write_lines(tmp_path / "tricky.jsonl", [line]), "--quiet")
    assert result.exit_code == 0, (result.output, result.stderr)
    with app.app_context():
        dossier = db.session.scalars(select(Dossier).where(Dossier.code == code)).one()
        assert dossier.note == tricky
        assert dossier.applicant_name == tricky.replace("\n", " ")
        step = db.session.scalars(select(Step).where(Step.dossier_id == dossier.id, Step.seq == 2)).one()
        assert (step.public_note, step.handler) == (tricky, "Lê\\Văn\tBa")
        evaluation = db.session.scalars(select(Evaluation).where(Evaluation.dossier_id == dossier.id)).one()
        assert (evaluation.comment, evaluation.criteria) == (tricky, {"k\\t": "satisfied"})
        db.session.remove()
