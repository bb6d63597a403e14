"""Incremental counters == rebuilt counters == the brute-force reference, over random histories.

Random dossiers are loaded through the API as an admin, with past times: acceptance
after the 15:00 cut-off and on days off (Tết 2026 included), supplement requests
(sometimes two), payment requests, apologies, stops, withdrawals, completions,
hand-offs, online submissions never accepted, dossiers left open, and pauses requested
around the deadline day (where a running pause makes "overdue" come and go). Then
random reports must give the same figures from the live counters, from the counters
rebuilt by ``flask tracker rebuild-stats`` and from ``tests/stats_reference.py``; and
received = resolved + pending + withdrawn, and totals = the sum of the groups.

The statistics service is told that "now" is NOW, a Wednesday morning just after the
history: periods reaching that day are judged at that instant, so dossiers due later
that day (working-hour limits) are within their deadline then. Period boundaries are
drawn around the days something happened, so that they cut through pauses and fall
on the days of acceptances, finishes and deadlines.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from tests import stats_reference as reference
from tracker.extensions import db
from tracker.models import Dossier, DossierCounter, Step
from tracker.models.statistics import StatAgencyCell, StatCell, StatProcedureCell
from tracker.services.statistics import counters as statistics_service

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCIES = ["000.00.00.H57", "000.01.00.H57", "000.01.01.H57", "000.02.00.H57", "000.01.01.01.H57"]
PROCEDURES = {"1.000001": "Hộ tịch", "1.000002": "Chứng thực", "1.000003": "Hộ tịch", "1.000004": "Đất đai"}
#: The history runs from EPOCH to NOW; Tết 2026 (14-22/2) lies inside.
EPOCH = date(2025, 12, 20)
NOW = datetime(2026, 3, 11, 10, 17, 42, tzinfo=TZ)
DAYS = (NOW.date() - EPOCH).days

ACTIONS = ["process", "request_supplement", "receive_supplement", "request_payment", "receive_payment",
           "complete", "stop", "withdraw", "return_result", "apologize", "comment", "handoff",
           "supplement_near_due", "payment_near_due"]
WEIGHTS = {"process": 3, "request_supplement": 3, "receive_supplement": 4, "request_payment": 1,
           "receive_payment": 2, "complete": 3, "stop": 1, "withdraw": 1, "return_result": 2, "apologize": 1,
           "comment": 1, "handoff": 1, "supplement_near_due": 4, "payment_near_due": 1}
WEIGHTED = [a for a in ACTIONS for _ in range(WEIGHTS[a])]

step_strategy = st.tuples(
    st.sampled_from(WEIGHTED),
    st.one_of(st.integers(0, 90), st.integers(60, 3 * 24 * 60), st.integers(3 * 24 * 60, 12 * 24 * 60)),
    st.sampled_from([0, 0, 0, -1, 1, 2, 3]))  # for the *_near_due steps: days after the deadline's day

dossier_strategy = st.fixed_dictionaries({
    "agency": st.sampled_from(AGENCIES),
    "procedure": st.sampled_from(sorted(PROCEDURES)),
    "channel": st.sampled_from(["direct", "online", "postal"]),
    "registered": st.sampled_from([False, False, False, False, False, True]),
    "day": st.one_of(st.integers(0, DAYS), st.integers(DAYS - 3, DAYS)),
    # Minutes after midnight, biased to office hours and the 15:00 cut-off.
    "minute": st.one_of(st.integers(7 * 60, 17 * 60), st.integers(14 * 60 + 50, 15 * 60 + 10), st.integers(0, 1439)),
    "first": st.sampled_from(["refuse_intake", "withdraw", None]),
    "steps": st.one_of(
        st.lists(step_strategy, max_size=8),
        # A pause requested on (or just after) the deadline's day, then a long wait.
        st.tuples(st.tuples(st.just("supplement_near_due"), st.integers(0, 1439), st.sampled_from([0, 0, 1])),
                  st.lists(step_strategy, max_size=4)).map(
            lambda t: [t[0], ("receive_supplement", 9 * 24 * 60 + t[0][1], 0), *t[1]])),
})


def _set_up(factory):
    factory.agency(AGENCIES[0], "UBND thành phố Huế", level="province")
    factory.agency(AGENCIES[1], "Sở Tư pháp", parent=AGENCIES[0])
    factory.agency(AGENCIES[2], "Phòng Hộ tịch", parent=AGENCIES[1])
    factory.agency(AGENCIES[3], "Sở Xây dựng", parent=AGENCIES[0])
    factory.agency(AGENCIES[4], "Tổ một cửa", parent=AGENCIES[2])
    factory.procedure("1.000001", 3, "working_days", field="Hộ tịch")
    factory.procedure("1.000002", 4, "working_hours", field="Chứng thực")
    factory.procedure("1.000003", 1, "working_days", field="Hộ tịch")
    factory.procedure("1.000004", 12, "working_hours", field="Đất đai")
    factory.user("admin", "admin")


def _clear(app) -> None:
    with app.app_context():
        for model in (Step, StatCell, StatAgencyCell, StatProcedureCell, Dossier, DossierCounter):
            db.session.execute(delete(model))
        db.session.commit()


def _iso(at: datetime) -> str:
    return at.astimezone(TZ).isoformat()


def _step_body(action: str, at: datetime, dossier: dict) -> dict:
    action = {"supplement_near_due": "request_supplement", "payment_near_due": "request_payment"}.get(action, action)
    body = {"action": action, "at": _iso(at)}
    if action in ("request_supplement", "stop", "refuse_intake", "apologize"):
        body["reason"] = "Lý do"
    if action == "complete":
        body["result"] = "approved" if at.minute % 3 else "denied"
    if action == "comment":
        body["public_note"] = "Đang xử lý"
    if action == "apologize":
        appointment = datetime.fromisoformat(dossier["appointment_at"]) if dossier.get("appointment_at") else at
        body["new_appointment_at"] = _iso(appointment + timedelta(days=2, hours=1))
    if action == "handoff":
        body = {"action": "process", "at": _iso(at), "to_agency_code": AGENCIES[3]}
    return body


def _when(action: str, gap: int, shift: int, previous: datetime, dossier: dict) -> datetime:
    """The step's time: after a gap, or on a day around the current deadline for *_near_due steps."""
    if action.endswith("_near_due") and dossier.get("due_at"):
        due = datetime.fromisoformat(dossier["due_at"]).astimezone(TZ)
        wanted = datetime.combine(due.date() + timedelta(days=shift), time(0), tzinfo=TZ) + timedelta(
            minutes=gap % 1440)
        return max(previous, wanted)
    return previous + timedelta(minutes=gap)


def _load(client, headers, plan: dict, events: set[date]) -> None:
    """Create one dossier and append its steps; steps the state machine refuses are dropped."""
    limit = NOW - timedelta(minutes=1)
    accepted = min(limit, datetime.combine(EPOCH + timedelta(days=plan["day"]), time(0), tzinfo=TZ)
                   + timedelta(minutes=plan["minute"]))
    body = {"procedure_code": plan["procedure"], "channel": plan["channel"], "agency_code": plan["agency"],
            "applicant": {"name": "Nguyễn Văn An"}}
    if plan["registered"]:
        # Submitted online now (never accepted here: an acceptance would carry today's server time).
        body["status"] = "registered"
    else:
        body["accepted_at"] = _iso(accepted)
    response = client.post("/api/v1/dossiers", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    dossier = response.get_json()
    if plan["registered"]:
        if plan["first"]:
            step = {"action": plan["first"], **({"reason": "Thiếu hồ sơ"} if plan["first"] == "refuse_intake" else {})}
            assert client.post(f"/api/v1/dossiers/{dossier['code']}/steps", json=step,
                               headers=headers).status_code == 201
        return
    at = accepted
    events.add(accepted.date())
    for action, gap, shift in plan["steps"]:
        at = _when(action, gap, shift, at, dossier)
        if at > limit:
            break
        step = _step_body(action, at, dossier)
        response = client.post(f"/api/v1/dossiers/{dossier['code']}/steps", json=step, headers=headers)
        if response.status_code == 409:
            continue
        assert response.status_code == 201, (step, response.get_data(as_text=True))
        dossier = response.get_json()["dossier"]
        events.add(at.astimezone(TZ).date())
        if dossier.get("due_at"):
            events.add(datetime.fromisoformat(dossier["due_at"]).astimezone(TZ).date())


@st.composite
def queries(draw, events: list[date]):
    """A report request whose period boundaries fall around the days something happened."""
    def around():
        day = draw(st.sampled_from(events))
        # A few days either side, or a weekend after it (a running pause can make "overdue"
        # differ between days off and working days).
        saturday = (5 - day.weekday()) % 7
        shift = draw(st.one_of(st.integers(-2, 3), st.sampled_from([saturday, saturday + 1, saturday + 7,
                                                                    saturday + 8])))
        return day + timedelta(days=shift)

    kind = draw(st.sampled_from(["events", "events", "events", "named", "to_today"]))
    query = {}
    if kind == "named":
        query["period"] = draw(st.sampled_from(["2026", "2025", "2026-Q1", "2026-H1", "2026-9M", "2025-12",
                                                "2026-01", "2026-02", "2026-03", "2025-Q4"]))
    else:
        first = around()
        last = NOW.date() + timedelta(days=draw(st.integers(0, 40))) if kind == "to_today" else around()
        first, last = min(first, last), max(first, last)
        query["from"], query["to"] = first.isoformat(), last.isoformat()
    for name, values in (("agency", AGENCIES), ("procedure", sorted(PROCEDURES)),
                         ("field", sorted(set(PROCEDURES.values()))), ("channel", ["direct", "online", "postal"])):
        if draw(st.integers(0, 3)) == 0:
            query[name] = draw(st.sampled_from(values))
    group_by = draw(st.sampled_from([None, "agency", "procedure", "field", "month", "channel"]))
    if group_by:
        query["group_by"] = group_by
    if draw(st.integers(0, 3)) == 0:
        query["min_resolved"] = draw(st.integers(0, 3))
    return query


def _value(counters: dict, path: str):
    for part in path.split("."):
        counters = counters[part]
    return counters


SUMMED = ("received.total", "received.carried_over", "received.online", "received.direct", "received.postal",
          "resolved.total", "resolved.early", "resolved.on_time", "resolved.late", "pending.total",
          "pending.within_deadline", "pending.overdue", "withdrawn")


def check_invariants(body: dict, params: dict) -> None:
    """received = resolved + pending + withdrawn everywhere; totals = Σ groups for partitions."""
    for counters in [body["totals"], *body["groups"]]:
        assert counters["received"]["total"] == (counters["resolved"]["total"] + counters["pending"]["total"]
                                                 + counters["withdrawn"]), counters
        pending = counters["pending"]
        assert pending["total"] == pending["within_deadline"] + pending["overdue"], counters
        assert min(pending["within_deadline"], pending["overdue"], counters["received"]["carried_over"]) >= 0
    if params.get("group_by") in ("agency", "procedure", "field", "channel") and "min_resolved" not in params:
        for path in SUMMED:
            assert _value(body["totals"], path) == sum(_value(g, path) for g in body["groups"]), (path, body)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(plans=st.lists(dossier_strategy, min_size=1, max_size=8), data=st.data())
def test_incremental_equals_rebuilt_equals_reference(app, client, factory, monkeypatch, plans, data):
    monkeypatch.setattr("tracker.services.statistics.reports.utcnow", lambda: NOW)
    if not getattr(factory, "stats_city", False):  # once per test: the fixtures outlive the examples
        _set_up(factory)
        factory.stats_city = True
    _clear(app)
    token = client.post("/api/v1/auth/login", json={"username": "admin", "password": "Correct-Horse-42"})
    headers = {"Authorization": "Bearer " + token.get_json()["access_token"]}
    events: set[date] = {NOW.date()}
    for plan in plans:
        _load(client, headers, plan, events)
    with app.app_context():
        dossiers, agencies = reference.load()

    answers = []
    for params in data.draw(st.lists(queries(sorted(events)), min_size=4, max_size=6), label="queries"):
        response = client.get("/api/v1/public/stats", query_string=params)
        assert response.status_code == 200, (params, response.get_json())
        body = response.get_json()
        check_invariants(body, params)
        start, end = date.fromisoformat(body["period"]["from"]), date.fromisoformat(body["period"]["to"])
        with app.app_context():
            expected = reference.report(dossiers, agencies, start, end, NOW,
                                        **{k: params.get(k) for k in ("agency", "procedure", "field", "channel",
                                                                       "group_by", "min_resolved")})
        assert body["totals"] == expected["totals"], (params, body["totals"], expected["totals"])
        assert body["groups"] == expected["groups"], (params, body["groups"], expected["groups"])
        answers.append((params, body))

    check_rebuilt(app, client, monkeypatch, data, answers)


def check_rebuilt(app, client, monkeypatch, data, answers: list[tuple[dict, dict]]) -> None:
    """``flask tracker rebuild-stats``, then every report answers as it did from the live counters."""
    # The rebuild rolls its sums up in the database (as big ones are), the steps above in Python.
    original = statistics_service.ROLLUP_MIN
    monkeypatch.setattr(statistics_service, "ROLLUP_MIN", data.draw(st.sampled_from([0, 10**9]), label="rollup"))
    result = app.test_cli_runner().invoke(args=["tracker", "rebuild-stats", "--quiet"])
    monkeypatch.setattr(statistics_service, "ROLLUP_MIN", original)
    assert result.exit_code == 0, result.output
    for params, body in answers:
        rebuilt = client.get("/api/v1/public/stats", query_string=params).get_json()
        assert rebuilt["totals"] == body["totals"], params
        assert rebuilt["groups"] == body["groups"], params
