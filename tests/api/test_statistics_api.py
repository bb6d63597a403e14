"""GET /api/v1/public/stats (.csv, .xlsx): worked examples, errors, caching, and what it reads.

The worked example (figures computed by hand from docs/rules.md, in the comments) uses the
rule book's own date: a 3-working-day procedure accepted Friday 2025-01-24 at 10:00 is
due Wednesday 2025-02-05 (Tết 2025 in between).
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from tests.conftest import assert_problem
from tracker.extensions import db

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT, DEPT, SUB, OTHER = "000.00.00.H57", "000.01.00.H57", "000.01.01.H57", "000.02.00.H57"
DAYS3, HOURS4 = "1.000001", "1.000002"


def at(text: str) -> str:
    """``2025-01-24 10:00`` in Huế time, as the API wants it."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ).isoformat()


class Loader:
    """Loads history through the API as the admin."""

    def __init__(self, client, auth):
        self.client = client
        self.headers = auth.headers("admin")

    def dossier(self, agency: str, accepted: str, channel: str = "direct", procedure: str = DAYS3,
                steps: tuple = ()) -> str:
        response = self.client.post("/api/v1/dossiers", headers=self.headers, json={
            "procedure_code": procedure, "channel": channel, "agency_code": agency,
            "applicant": {"name": "Trần Thị Bình"}, "accepted_at": at(accepted)})
        assert response.status_code == 201, response.get_json()
        code = response.get_json()["code"]
        for action, when, *extra in steps:
            body = {"action": action, "at": at(when), **(extra[0] if extra else {})}
            response = self.client.post(f"/api/v1/dossiers/{code}/steps", headers=self.headers, json=body)
            assert response.status_code == 201, response.get_json()
        return code


@pytest.fixture
def history(city, client, auth):
    """Dossiers A to I of the worked example (see the figures in the tests)."""
    load = Loader(client, auth)
    done = {"result": "approved"}
    # A: due Wed 5/2 17:00; done 5/2 -> on time; 3 working days (3, 4, 5 Feb).
    load.dossier(DEPT, "2025-01-24 10:00", "direct", steps=[("process", "2025-02-03 08:00"),
                                                            ("complete", "2025-02-05 09:00", done)])
    # B: after the 15:00 cut-off -> intake Mon 3/2, due Thu 6/2; done 4/2 -> early; 1 working day.
    load.dossier(DEPT, "2025-01-24 16:00", "online", steps=[("process", "2025-02-04 08:00"),
                                                            ("complete", "2025-02-04 10:00", done)])
    # C: due Thu 6/2; paused 4/2 -> 7/2 (3 working days) -> due Tue 11/2; done 12/2 -> late; 7 - 3 = 4 days.
    load.dossier(SUB, "2025-02-03 08:00", "postal", steps=[
        ("request_supplement", "2025-02-04 09:00", {"reason": "Thiếu bản sao"}),
        ("receive_supplement", "2025-02-07 10:00"), ("complete", "2025-02-12 09:00", done)])
    # D: withdrawn 5/2.
    load.dossier(OTHER, "2025-02-04 09:00", "direct", steps=[("withdraw", "2025-02-05 10:00")])
    # E: due Mon 3/3; done 10/3 -> late (in March).
    load.dossier(DEPT, "2025-02-26 09:00", "online", steps=[("process", "2025-02-27 09:00"),
                                                            ("complete", "2025-03-10 09:00", done)])
    # F: due Tue 4/2; done 5/3 -> late (in March); overdue from 5/2.
    load.dossier(DEPT, "2025-01-23 09:00", "direct", steps=[("process", "2025-01-23 10:00"),
                                                            ("complete", "2025-03-05 09:00", done)])
    # H: 4 working hours after the cut-off -> from Tue 4/3 07:30, due 11:30; done 11:30 -> on time.
    load.dossier(DEPT, "2025-03-03 15:30", "direct", HOURS4, steps=[("process", "2025-03-04 08:00"),
                                                                    ("complete", "2025-03-04 11:30", done)])
    # I: due Tue 4/3 16:00; done 16:05 -> late (hour limits compare the time).
    load.dossier(SUB, "2025-03-04 10:00", "online", HOURS4, steps=[("process", "2025-03-04 10:30"),
                                                                   ("complete", "2025-03-04 16:05", done)])
    # Never counted: an online submission awaiting acceptance, one refused, one withdrawn before acceptance.
    headers = load.headers
    for first in (None, "refuse_intake", "withdraw"):
        response = client.post("/api/v1/dossiers", headers=headers, json={
            "procedure_code": DAYS3, "channel": "online", "agency_code": DEPT, "status": "registered",
            "applicant": {"name": "Lê Văn Cường"}})
        assert response.status_code == 201
        if first:
            body = {"action": first, **({"reason": "Sai thủ tục"} if first == "refuse_intake" else {})}
            assert client.post(f"/api/v1/dossiers/{response.get_json()['code']}/steps", headers=headers,
                               json=body).status_code == 201
    return load


def stats(client, **params):
    response = client.get("/api/v1/public/stats", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


FEBRUARY = {
    # Carried over: A, B (24/1) and F (23/1). Received in February: C (postal), D (direct), E (online).
    "received": {"total": 6, "carried_over": 3, "online": 1, "direct": 1, "postal": 1},
    # Resolved: B early (4/2), A on time (5/2), C late (12/2).
    "resolved": {"total": 3, "early": 1, "on_time": 1, "late": 1},
    # Open at the end of 28/2: E (due 3/3, within) and F (due 4/2, overdue).
    "pending": {"total": 2, "within_deadline": 1, "overdue": 1},
    "withdrawn": 1,
    "on_time_rate": 0.6667,
    "progress_rate": 0.6,            # (1 + 1 + 1) / (3 + 2)
    "avg_processing_working_days": 2.67,  # (3 + 1 + 4) / 3
    # No procedure is offered online and nothing was paid, digitised or evaluated; A, B, C were completed.
    "evaluations": {"total": 0, "very_satisfied": 0, "satisfied": 0, "dissatisfied": 0},
    "online_rate": None, "online_payment_rate": None, "digitized_rate": 0.0, "electronic_result_rate": 0.0,
    "satisfaction_rate": 1.0, "evaluation_rate": 0.0,
}


def test_worked_example_february(client, history):
    body = stats(client, period="2025-02")
    assert body["period"] == {"from": "2025-02-01", "to": "2025-02-28"}
    assert body["filters"] == {"agency": None, "procedure": None, "field": None, "channel": None,
                               "group_by": None, "min_resolved": None}
    assert body["totals"] == FEBRUARY
    assert body["groups"] == []
    assert stats(client, **{"from": "2025-02-01", "to": "2025-02-28"})["totals"] == FEBRUARY


def test_worked_example_days_and_quarters(client, history):
    # 4/2: carried A, B, F, C; received D; B resolved early; A, F, C, D open, none overdue yet
    # (F is due that very day, C is paused with its deadline on 6/2).
    day = stats(client, **{"from": "2025-02-04", "to": "2025-02-04"})["totals"]
    assert day["received"] == {"total": 5, "carried_over": 4, "online": 0, "direct": 1, "postal": 0}
    assert day["resolved"] == {"total": 1, "early": 1, "on_time": 0, "late": 0}
    assert day["pending"] == {"total": 4, "within_deadline": 4, "overdue": 0}
    # 5/2: F is overdue; C's running pause moved its deadline to 7/2: within.
    day = stats(client, **{"from": "2025-02-05", "to": "2025-02-05"})["totals"]
    assert day["received"]["carried_over"] == 4 and day["withdrawn"] == 1
    assert day["resolved"] == {"total": 1, "early": 0, "on_time": 1, "late": 0}
    assert day["pending"] == {"total": 2, "within_deadline": 1, "overdue": 1}
    march = stats(client, period="2025-03")["totals"]
    assert march["received"] == {"total": 4, "carried_over": 2, "online": 1, "direct": 1, "postal": 0}
    assert march["resolved"] == {"total": 4, "early": 0, "on_time": 1, "late": 3}
    assert march["pending"]["total"] == 0 and march["on_time_rate"] == 0.25
    quarter = stats(client, period="2025-Q1")["totals"]
    assert quarter["received"] == {"total": 8, "carried_over": 0, "online": 3, "direct": 4, "postal": 1}
    assert quarter["resolved"] == {"total": 7, "early": 1, "on_time": 2, "late": 4}
    assert quarter["withdrawn"] == 1 and quarter["pending"]["total"] == 0
    for period in ("2025", "2025-H1", "2025-9M"):
        assert stats(client, period=period)["totals"] == quarter
    empty = stats(client, period="2024")["totals"]
    assert empty["received"]["total"] == 0 and empty["on_time_rate"] is None
    assert empty["progress_rate"] is None and empty["avg_processing_working_days"] is None


def test_groups_by_agency_follow_the_tree(client, history):
    city = stats(client, period="2025-02", group_by="agency")
    assert [g["key"] for g in city["groups"]] == [ROOT]  # one top-level agency
    below_root = stats(client, period="2025-02", group_by="agency", agency=ROOT)["groups"]
    assert [(g["key"], g["name"]) for g in below_root] == [(DEPT, "Sở Tư pháp"), (OTHER, "Sở Xây dựng")]
    dept, other = below_root
    assert dept["received"] == {"total": 5, "carried_over": 3, "online": 1, "direct": 0, "postal": 1}
    assert other["received"]["direct"] == 1 and other["withdrawn"] == 1 and other["resolved"]["total"] == 0
    # Below DEPT: DEPT itself for what it received (A, B, E, F), and SUB (C).
    below_dept = stats(client, period="2025-02", group_by="agency", agency=DEPT)
    assert [g["key"] for g in below_dept["groups"]] == [DEPT, SUB]
    assert below_dept["groups"][0]["resolved"] == {"total": 2, "early": 1, "on_time": 1, "late": 0}
    assert below_dept["groups"][1]["resolved"] == {"total": 1, "early": 0, "on_time": 0, "late": 1}
    assert below_dept["totals"]["received"]["total"] == 5
    # The subtree filter alone.
    assert stats(client, period="2025-02", agency=SUB)["totals"]["received"]["postal"] == 1


def test_other_groupings_and_filters(client, history):
    by_channel = stats(client, period="2025-Q1", group_by="channel")["groups"]
    assert [(g["key"], g["name"], g["received"]["total"]) for g in by_channel] == [
        ("direct", "Trực tiếp", 4), ("online", "Trực tuyến", 3), ("postal", "Qua dịch vụ bưu chính công ích", 1)]
    by_procedure = stats(client, period="2025-Q1", group_by="procedure")["groups"]
    assert [(g["key"], g["received"]["total"]) for g in by_procedure] == [(DAYS3, 6), (HOURS4, 2)]
    by_field = stats(client, period="2025-Q1", group_by="field")["groups"]
    assert [(g["key"], g["name"]) for g in by_field] == [("Chứng thực", "Chứng thực"), ("Hộ tịch", "Hộ tịch")]
    assert stats(client, period="2025-Q1", field="Chứng thực")["totals"]["resolved"] == {
        "total": 2, "early": 0, "on_time": 1, "late": 1}
    assert stats(client, period="2025-Q1", procedure=HOURS4, channel="online")["totals"]["received"]["total"] == 1
    months = stats(client, period="2025-Q1", group_by="month")
    assert [g["key"] for g in months["groups"]] == ["2025-01", "2025-02", "2025-03"]
    assert months["groups"][0]["name"] == "Tháng 01/2025"
    assert months["groups"][1]["received"] == FEBRUARY["received"]
    assert months["groups"][1]["pending"] == FEBRUARY["pending"]
    # Flows add up over the months (stocks, carried over and pending, do not).
    totals, groups = months["totals"], months["groups"]
    assert sum(g["resolved"]["total"] for g in groups) == totals["resolved"]["total"]
    assert sum(g["withdrawn"] for g in groups) == totals["withdrawn"]
    assert sum(g["received"]["direct"] for g in groups) == totals["received"]["direct"]
    english = client.get("/api/v1/public/stats", query_string={"period": "2025-Q1", "group_by": "month"},
                         headers={"Accept-Language": "en"}).get_json()
    assert english["groups"][0]["name"] == "January 2025"


def test_min_resolved_leaves_small_groups_out(client, history):
    groups = stats(client, period="2025-Q1", group_by="agency", agency=DEPT)["groups"]
    assert [(g["key"], g["resolved"]["total"]) for g in groups] == [(DEPT, 5), (SUB, 2)]
    ranked = stats(client, period="2025-Q1", group_by="agency", agency=DEPT, min_resolved=3)
    assert [g["key"] for g in ranked["groups"]] == [DEPT]
    assert ranked["filters"]["min_resolved"] == 3
    assert ranked["totals"]["resolved"]["total"] == 7  # totals keep everything


def test_a_pause_requested_on_the_deadline_day(city, client, auth):
    """Due Fri 7/3, supplement requested that day: while the pause runs, the deadline moves with the
    working days, so the dossier is overdue on days off and within its deadline on working days."""
    load = Loader(client, auth)
    load.dossier(DEPT, "2025-03-04 09:00", steps=[
        ("request_supplement", "2025-03-07 10:00", {"reason": "Thiếu giấy tờ"}),
        ("receive_supplement", "2025-03-19 10:00"), ("complete", "2025-03-20 10:00", {"result": "denied"})])
    expected = {"2025-03-07": 0, "2025-03-08": 1, "2025-03-10": 0, "2025-03-14": 0, "2025-03-15": 1,
                "2025-03-16": 1, "2025-03-18": 0, "2025-03-19": 0}
    for day, overdue in expected.items():
        pending = stats(client, **{"from": "2025-03-01", "to": day})["totals"]["pending"]
        assert pending == {"total": 1, "within_deadline": 1 - overdue, "overdue": overdue}, day
    march = stats(client, period="2025-03")["totals"]
    assert march["resolved"] == {"total": 1, "early": 0, "on_time": 0, "late": 1}  # due 19/3 after the pause


@pytest.mark.parametrize("params, field", [
    ({"period": "2026-Q7"}, "period"), ({"period": "2026-13"}, "period"), ({"period": "2026-H3"}, "period"),
    ({"period": "20266"}, "period"), ({"period": "1066"}, "period"),
    ({"from": "2025-03-02", "to": "2025-03-01"}, "to"), ({"from": "2025-02-30", "to": "2025-03-01"}, "from"),
    ({"from": "2025-02-01"}, "to"), ({"to": "2025-02-01"}, "from"),
    ({"period": "2025", "from": "2025-01-01", "to": "2025-01-02"}, "period"),
    ({"agency": "999.99.99.H57"}, "agency"), ({"procedure": "9.999999"}, "procedure"),
    ({"field": "Không có"}, "field"), ({"channel": "fax"}, "channel"), ({"group_by": "color"}, "group_by"),
    ({"min_resolved": "-1"}, "min_resolved"), ({"min_resolved": "many"}, "min_resolved"),
    ({"from": "1800-01-01", "to": "2025-01-01"}, "from"),
])
@pytest.mark.parametrize("path", ["/api/v1/public/stats", "/api/v1/public/stats.csv", "/api/v1/public/stats.xlsx"])
def test_impossible_requests_are_422_problems(city, client, path, params, field):
    body = assert_problem(client.get(path, query_string=params), 422)
    assert field in body["errors"], body
    assert all(isinstance(m, str) and m for m in body["errors"][field])


def test_too_many_months(city, client):
    body = assert_problem(client.get("/api/v1/public/stats", query_string={
        "from": "2001-01-01", "to": "2025-12-31", "group_by": "month"}), 422)
    assert "group_by" in body["errors"]


def test_default_period_is_the_current_year(city, client):
    body = stats(client)
    assert body["period"]["from"].endswith("-01-01") and body["period"]["to"].endswith("-12-31")


def test_caching_and_cors(client, auth, history):
    response = client.get("/api/v1/public/stats", query_string={"period": "2025-02"},
                          headers={"Origin": "https://portal.example.vn"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://portal.example.vn"
    assert "max-age=" in response.headers["Cache-Control"] and "public" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get("/api/v1/public/stats", query_string={"period": "2025-02"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/api/v1/public/stats", query_string={"period": "2025-03"}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    stranger = client.get("/api/v1/public/stats", query_string={"period": "2025-02"},
                          headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    # A new step changes the figures, hence the ETag.
    Loader(client, auth).dossier(DEPT, "2025-02-10 09:00")
    changed = client.get("/api/v1/public/stats", query_string={"period": "2025-02"}, headers={"If-None-Match": etag})
    assert changed.status_code == 200


def test_csv_has_the_ii06a_headers_and_a_bom(client, history):
    response = client.get("/api/v1/public/stats.csv", query_string={"period": "2025-02", "group_by": "agency",
                                                                      "agency": ROOT})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    groups, columns = rows[0], rows[1]
    # Two header lines: a group's name over its first column, then the columns under it.
    assert groups[3:16] == ["Tiếp nhận", "", "", "", "", "Đã giải quyết", "", "", "", "Đang giải quyết", "", "",
                            "Rút hồ sơ"]
    assert columns[3:16] == ["Tổng số", "Kỳ trước chuyển qua", "Trực tuyến", "Trực tiếp", "Dịch vụ bưu chính",
                             "Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn", "Tổng số", "Trong hạn", "Quá hạn", ""]
    header, group = [], ""
    for top, sub in zip(groups, columns):
        group = top if sub and top else (group if sub else "")
        header.append(f"{group} / {sub}" if sub else top)
    for name in ("Tiếp nhận / Tổng số", "Tiếp nhận / Kỳ trước chuyển qua", "Tiếp nhận / Trực tuyến",
                 "Tiếp nhận / Trực tiếp", "Tiếp nhận / Dịch vụ bưu chính", "Đã giải quyết / Tổng số",
                 "Đã giải quyết / Trước hạn", "Đã giải quyết / Đúng hạn", "Đã giải quyết / Quá hạn",
                 "Đang giải quyết / Tổng số", "Đang giải quyết / Trong hạn", "Đang giải quyết / Quá hạn",
                 "Rút hồ sơ", "Tỷ lệ đúng hạn"):
        assert name in header, name
    assert len(set(header)) == len(header)  # no label repeats ambiguously
    assert [row[1] for row in rows[2:-1]] == [DEPT, OTHER]
    total = dict(zip(header[3:], rows[-1][3:]))
    assert rows[-1][2] == "Tổng cộng"
    assert total["Tiếp nhận / Tổng số"] == "6" and total["Tiếp nhận / Kỳ trước chuyển qua"] == "3"
    assert total["Đã giải quyết / Tổng số"] == "3" and total["Rút hồ sơ"] == "1"
    assert total["Tỷ lệ đúng hạn"] == "66,67%"  # written as on the Vietnamese page
    assert rows[-1][header.index("Đang giải quyết / Tổng số")] == "2"
    english = client.get("/api/v1/public/stats.csv", query_string={"period": "2025-02", "lang": "en"})
    lines = english.data.decode("utf-8-sig").splitlines()
    assert "Received" in lines[0] and "Carried over" in lines[1] and "66.67%" in lines[-1]
    etag = response.headers["ETag"]
    assert client.get("/api/v1/public/stats.csv", query_string={"period": "2025-02", "group_by": "agency",
                                                                  "agency": ROOT},
                      headers={"If-None-Match": etag}).status_code == 304


def test_xlsx_workbook(client, history):
    from openpyxl import load_workbook

    response = client.get("/api/v1/public/stats.xlsx", query_string={"period": "2025-02", "group_by": "channel"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["II.06a"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][3] == "Tiếp nhận" and rows[0][8] == "Đã giải quyết" and rows[0][12] == "Đang giải quyết"
    assert rows[1][3:6] == ("Tổng số", "Kỳ trước chuyển qua", "Trực tuyến")
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A1:A2", "B1:B2", "C1:C2", "D1:H1", "I1:L1", "M1:O1", "P1:P2", "Q1:Q2", "S1:S2"} <= merged
    assert [r[1] for r in rows[2:-1]] == ["direct", "online", "postal"]
    assert rows[-1][2] == "Tổng cộng" and rows[-1][3] == 6
    rate = rows[0].index("Tỷ lệ đúng hạn")
    assert rows[-1][rate] == pytest.approx(0.6667)
    assert sheet.cell(row=len(rows), column=rate + 1).number_format == "0.00%"
    period = [tuple(r) for r in book["Kỳ báo cáo"].iter_rows(values_only=True)]
    assert [label for label, _ in period] == ["Từ ngày", "Đến ngày", "Cơ quan", "Thủ tục", "Lĩnh vực", "Kênh",
                                              "Nhóm theo", "Số hồ sơ giải quyết tối thiểu"]
    assert dict(period)["Nhóm theo"] == "Kênh nộp hồ sơ"
    again = client.get("/api/v1/public/stats.xlsx", query_string={"period": "2025-02", "group_by": "channel"})
    assert again.data == response.data  # same figures, same file


def _statements(app, client, params) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/api/v1/public/stats", query_string=params)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_json()
    return seen


MENTIONS_DOSSIERS = re.compile(r"\b(dossiers|steps)\b", re.IGNORECASE)


def test_a_past_period_reads_only_the_counters(app, client, history):
    for params in ({"period": "2025", "group_by": "agency"}, {"period": "2025-Q1", "group_by": "procedure"},
                   {"period": "2025-02", "group_by": "month", "agency": DEPT},
                   {"from": "2025-02-03", "to": "2025-03-09", "field": "Hộ tịch", "channel": "online"}):
        statements = _statements(app, client, params)
        assert any("stat_" in s for s in statements), statements
        assert not [s for s in statements if MENTIONS_DOSSIERS.search(s)], params


def test_a_period_reaching_today_reads_only_open_dossiers(app, client, history):
    from tracker.models.types import utcnow

    year = utcnow().astimezone(TZ).year
    statements = _statements(app, client, {"period": str(year), "group_by": "agency"})
    touching = [s for s in statements if MENTIONS_DOSSIERS.search(s)]
    assert len(touching) == 1, touching
    assert re.search(r"dossiers\.status IN", touching[0]) and "steps" not in touching[0]
    assert re.search(r"dossiers\.due_at >=", touching[0])  # the open ones due later today, by the deadline index


def test_rebuild_stats_command(app, client, history):
    before = [stats(client, period=p, group_by=g) for p in ("2025-02", "2025-Q1") for g in ("agency", "month")]
    with app.app_context():
        from tracker.models.statistics import StatAgencyCell, StatCell, StatProcedureCell

        for model in (StatCell, StatAgencyCell, StatProcedureCell):
            db.session.execute(model.__table__.delete())
        db.session.commit()
    assert stats(client, period="2025-02")["totals"]["received"]["total"] == 0
    result = app.test_cli_runner().invoke(args=["tracker", "rebuild-stats"])
    assert result.exit_code == 0, result.output
    assert "8 accepted dossiers" in result.output
    after = [stats(client, period=p, group_by=g) for p in ("2025-02", "2025-Q1") for g in ("agency", "month")]
    assert after == before


def test_stats_are_rate_limited_with_the_public_budget(make_app):
    from tracker.extensions import limiter

    app = make_app(TRACKER_RATELIMIT_PUBLIC="2/minute")
    with app.app_context():
        limiter.reset()  # the limiter's counters are shared by every app of the process
    client = app.test_client()
    assert client.get("/api/v1/public/stats").status_code == 200
    assert client.get("/api/v1/public/stats.csv").status_code == 200
    limited = client.get("/api/v1/public/stats.xlsx")
    assert_problem(limited, 429)
    assert limited.headers.get("Retry-After")


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/public/stats", "/api/v1/public/stats.csv", "/api/v1/public/stats.xlsx"):
        operation = spec["paths"][path]["get"]
        assert operation.get("security") == []
        names = {p["name"] for p in operation["parameters"]}
        assert {"period", "from", "to", "agency", "procedure", "field", "channel", "group_by",
                "min_resolved"} <= names
    schema = spec["paths"]["/api/v1/public/stats"]["get"]["responses"]["200"]["content"]["application/json"]
    assert schema["schema"]
    assert "text/csv" in spec["paths"]["/api/v1/public/stats.csv"]["get"]["responses"]["200"]["content"]


def test_xlsx_bytes_do_not_depend_on_the_clock(client, history):
    import time

    query = {"period": "2025-02", "group_by": "channel"}
    first = client.get("/api/v1/public/stats.xlsx", query_string=query)
    time.sleep(2.1)  # past the zip format's two-second resolution and openpyxl's save-time stamp
    second = client.get("/api/v1/public/stats.xlsx", query_string=query)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]


def test_a_pause_before_the_intake_counts_from_the_intake_and_rebuild_corrects_old_dates(app, client, auth, city):
    """The rule book's example, through the API; then a deadline stored under the plain rule
    ("from the request": Tuesday and Wednesday paused, due Tuesday 18th) is corrected by
    ``rebuild-stats``, and so are the counters (on time on Monday 17th, not early)."""
    code = Loader(client, auth).dossier(DEPT, "2025-03-10 16:00", steps=[
        ("request_supplement", "2025-03-10 16:30", {"reason": "Thiếu bản sao"}),
        ("receive_supplement", "2025-03-12 09:00"),
        ("complete", "2025-03-17 10:00", {"result": "approved"})])
    dossier = client.get(f"/api/v1/dossiers/{code}", headers=auth.headers("admin")).get_json()
    assert dossier["due_at"] == at("2025-03-17 17:00")
    assert dossier["timeliness"] == "on_time"
    march = stats(client, period="2025-03")["totals"]
    assert march["resolved"]["on_time"] == 1 and march["avg_processing_working_days"] == 3
    from tracker.models import Dossier

    with app.app_context():
        stale = {"due_at": datetime(2025, 3, 18, 17, tzinfo=TZ), "appointment_at": datetime(2025, 3, 18, 17, tzinfo=TZ),
                 "paused_days": 2, "timeliness": "early"}
        db.session.execute(Dossier.__table__.update().where(Dossier.code == code).values(**stale))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["tracker", "rebuild-stats"])
    assert result.exit_code == 0, result.output
    dossier = client.get(f"/api/v1/dossiers/{code}", headers=auth.headers("admin")).get_json()
    assert (dossier["due_at"], dossier["appointment_at"], dossier["timeliness"]) == (
        at("2025-03-17 17:00"), at("2025-03-17 17:00"), "on_time")
    with app.app_context():
        assert db.session.scalar(db.select(Dossier.paused_days).where(Dossier.code == code)) == 1
    assert stats(client, period="2025-03")["totals"] == march
