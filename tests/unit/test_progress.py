"""Pure tests of tracker/domain/progress.py: how each step moves a dossier's clock."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.domain import progress
from tracker.domain.calendar import OfficeHours, WorkingCalendar
from tracker.domain.deadlines import DAYS, HOURS, Deadlines, TimeLimit
from tracker.domain.progress import BadAppointment, DossierClock, apply, current_due, is_overdue
from tracker.domain.workflow import MissingFields, TransitionRefused
from tests.action_table import TABLE

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc
RULES = Deadlines(WorkingCalendar(), OfficeHours.parse())

REFUSED = (TransitionRefused, MissingFields, BadAppointment)

ACTIONS = list(TABLE)


def vn(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=VN)


def fresh(limit: TimeLimit = TimeLimit(3, DAYS)) -> DossierClock:
    return DossierClock(status="registered", limit=limit)


def run(clock: DossierClock, steps, payment_pauses: bool = True) -> DossierClock:
    """Apply ``(action, at, fields)`` steps in order."""
    for action, at, *rest in steps:
        fields = rest[0] if rest else {}
        apply(clock, action, at, RULES, fields, payment_pauses=payment_pauses)
    return clock


def accepted(at: datetime, limit: TimeLimit = TimeLimit(3, DAYS)) -> DossierClock:
    return run(fresh(limit), [("accept", at)])


REASON = {"reason": "Thiếu giấy tờ"}


# -- acceptance ------------------------------------------------------------------------


def test_domain_example_three_days_over_tet():
    clock = accepted(vn(2025, 1, 24, 10))
    assert clock.status == "accepted"
    assert clock.accepted_at == vn(2025, 1, 24, 10)
    assert clock.effective_intake_at == vn(2025, 1, 24, 10)
    assert clock.due_at == vn(2025, 2, 5, 17)
    assert RULES.local(clock.due_at).weekday() == 2  # a Wednesday
    assert clock.appointment_at == clock.due_at
    assert clock.finished_at is None and clock.timeliness is None


def test_accept_after_cutoff_starts_next_working_day():
    # Friday 2025-02-28 15:30 is after the 15:00 cut-off: effective Monday 03-03 07:30.
    clock = accepted(vn(2025, 2, 28, 15, 30))
    assert clock.accepted_at == vn(2025, 2, 28, 15, 30)
    assert clock.effective_intake_at == vn(2025, 3, 3, 7, 30)
    assert clock.due_at == vn(2025, 3, 6, 17)


def test_accept_given_in_utc_is_judged_in_local_time():
    # 2025-03-02 17:30 UTC is Monday 2025-03-03 00:30 in Vietnam: before opening, a working day.
    at = datetime(2025, 3, 2, 17, 30, tzinfo=UTC)
    clock = accepted(at)
    assert clock.effective_intake_at == vn(2025, 3, 3, 0, 30)
    assert clock.due_at == vn(2025, 3, 6, 17)


def test_hour_limit_counts_office_hours():
    clock = accepted(vn(2025, 3, 3, 8), TimeLimit(4, HOURS))
    # 08:00-11:30 is 3.5 h, then 13:30-14:00.
    assert clock.due_at == vn(2025, 3, 3, 14)


# -- pauses ----------------------------------------------------------------------------


def test_supplement_pause_monday_to_wednesday_moves_two_working_days():
    clock = accepted(vn(2025, 2, 28, 9))  # Friday -> due Wednesday 03-05 17:00
    assert clock.due_at == vn(2025, 3, 5, 17)
    run(clock, [("request_supplement", vn(2025, 3, 3, 10), REASON)])  # Monday
    assert clock.status == "supplement_requested"
    assert clock.supplement_count == 1
    assert clock.paused_at == vn(2025, 3, 3, 10)
    assert clock.due_at == vn(2025, 3, 5, 17)  # not moved until the pause ends
    run(clock, [("receive_supplement", vn(2025, 3, 5, 9))])  # Wednesday
    assert clock.status == "processing"
    assert clock.paused_at is None
    assert clock.due_at == vn(2025, 3, 7, 17)
    assert clock.appointment_at == vn(2025, 3, 7, 17)
    assert clock.paused_days == 2
    assert clock.pauses == [(vn(2025, 3, 3, 10), vn(2025, 3, 5, 9))]


def test_a_snapshot_keeps_the_clock_as_it_was_before_a_step():
    clock = accepted(vn(2025, 2, 28, 9))
    run(clock, [("request_supplement", vn(2025, 3, 3, 10), REASON)])
    before = clock.snapshot()
    run(clock, [("receive_supplement", vn(2025, 3, 5, 9))])
    assert (before.status, before.paused_at, before.due_at) == ("supplement_requested", vn(2025, 3, 3, 10),
                                                               vn(2025, 3, 5, 17))
    assert before.pauses == [] and len(clock.pauses) == 1


def test_same_day_pause_moves_nothing_for_day_limits():
    clock = accepted(vn(2025, 2, 28, 9))
    run(clock, [("request_supplement", vn(2025, 3, 3, 8), REASON), ("receive_supplement", vn(2025, 3, 3, 16))])
    assert clock.due_at == vn(2025, 3, 5, 17)
    assert clock.paused_days == 0


def test_pause_over_a_weekend_counts_working_days_only():
    clock = accepted(vn(2025, 3, 3, 9))  # Monday -> due Thursday 03-06
    run(clock, [("request_supplement", vn(2025, 3, 6, 10), REASON),  # Thursday
                ("receive_supplement", vn(2025, 3, 10, 10))])  # next Monday: Fri + Mon = 2
    assert clock.due_at == vn(2025, 3, 10, 17)


def test_hour_limit_pause_moves_by_working_minutes():
    clock = accepted(vn(2025, 3, 3, 8), TimeLimit(4, HOURS))  # due 14:00
    run(clock, [("request_supplement", vn(2025, 3, 3, 9), REASON),
                ("receive_supplement", vn(2025, 3, 3, 10))])
    assert clock.due_at == vn(2025, 3, 3, 15)


def test_hour_limit_pause_over_lunch_counts_only_office_minutes():
    clock = accepted(vn(2025, 3, 3, 8), TimeLimit(4, HOURS))  # due 14:00
    # 11:00 -> 14:00 holds 30 + 30 office minutes.
    run(clock, [("process", vn(2025, 3, 3, 10)),
                ("request_supplement", vn(2025, 3, 3, 11), REASON),
                ("receive_supplement", vn(2025, 3, 3, 14))])
    assert clock.due_at == vn(2025, 3, 3, 15)


def test_hour_limit_pause_overnight():
    clock = accepted(vn(2025, 3, 3, 8), TimeLimit(4, HOURS))  # due 14:00
    run(clock, [("request_supplement", vn(2025, 3, 3, 13, 45), REASON),
                ("receive_supplement", vn(2025, 3, 4, 8, 30))])
    # 13:45 -> 17:00 = 195 min, 07:30 -> 08:30 = 60 min: 255 minutes after 14:00 Monday.
    # 14:00 -> 17:00 is 180, then Tuesday 07:30 + 75 min = 08:45.
    assert clock.due_at == vn(2025, 3, 4, 8, 45)


@pytest.mark.parametrize("payment_pauses, due", [(True, vn(2025, 3, 7, 17)), (False, vn(2025, 3, 5, 17))])
def test_payment_pause_is_configurable(payment_pauses, due):
    clock = accepted(vn(2025, 2, 28, 9))  # due Wednesday 03-05
    run(clock, [("process", vn(2025, 3, 3, 8)),
                ("request_payment", vn(2025, 3, 3, 10)),  # Monday
                ("receive_payment", vn(2025, 3, 5, 9))],  # Wednesday
        payment_pauses=payment_pauses)
    assert clock.status == "processing"
    assert clock.due_at == due
    assert clock.paused_at is None
    assert clock.supplement_count == 0


def test_payment_not_pausing_keeps_overdue_running():
    clock = accepted(vn(2025, 2, 28, 9))  # due Wednesday 03-05
    run(clock, [("process", vn(2025, 3, 3, 8)), ("request_payment", vn(2025, 3, 3, 10))],
        payment_pauses=False)
    assert clock.status == "payment_requested"
    assert clock.paused_at is None
    assert is_overdue(clock, vn(2025, 3, 6, 9), RULES)


# -- apology ---------------------------------------------------------------------------


def test_apology_moves_the_appointment_only():
    clock = accepted(vn(2025, 3, 3, 9))  # due Thursday 03-06 17:00
    new = vn(2025, 3, 12, 17)
    run(clock, [("apologize", vn(2025, 3, 6, 10), {"reason": "Chờ ý kiến", "new_appointment_at": new})])
    assert clock.status == "accepted"
    assert clock.appointment_at == new
    assert clock.due_at == vn(2025, 3, 6, 17)
    run(clock, [("process", vn(2025, 3, 7, 8)), ("complete", vn(2025, 3, 10, 10), {"result": "approved"})])
    # Finished before the promised appointment but after the legal deadline: late.
    assert clock.finished_at == vn(2025, 3, 10, 10)
    assert clock.timeliness == "late"


@pytest.mark.parametrize("new", [vn(2025, 3, 5, 17), vn(2025, 3, 6, 17)])
def test_apology_refuses_an_earlier_or_equal_appointment(new):
    clock = accepted(vn(2025, 3, 3, 9))
    before = copy.deepcopy(clock)
    with pytest.raises(BadAppointment):
        apply(clock, "apologize", vn(2025, 3, 4, 10), RULES, {"reason": "x", "new_appointment_at": new})
    assert clock == before


def test_apology_needs_reason_and_new_appointment():
    clock = accepted(vn(2025, 3, 3, 9))
    before = copy.deepcopy(clock)
    with pytest.raises(MissingFields) as error:
        apply(clock, "apologize", vn(2025, 3, 4, 10), RULES, {"reason": "x"})
    assert set(error.value.errors) == {"new_appointment_at"}
    with pytest.raises(MissingFields) as error:
        apply(clock, "apologize", vn(2025, 3, 4, 10), RULES, {"new_appointment_at": vn(2025, 4, 1, 17)})
    assert set(error.value.errors) == {"reason"}
    assert clock == before


# -- finishing and timeliness -------------------------------------------------------------


def test_more_than_one_supplement_request_is_late_whatever_the_dates():
    clock = accepted(vn(2025, 3, 3, 9))  # due Thursday 03-06
    run(clock, [("request_supplement", vn(2025, 3, 3, 10), REASON), ("receive_supplement", vn(2025, 3, 3, 11)),
                ("request_supplement", vn(2025, 3, 3, 13, 45), REASON),
                ("receive_supplement", vn(2025, 3, 3, 14)),
                ("complete", vn(2025, 3, 3, 16), {"result": "approved"})])
    assert clock.supplement_count == 2
    assert RULES.local(clock.finished_at).date() < RULES.local(clock.due_at).date()
    assert clock.timeliness == "late"


def test_one_supplement_request_is_judged_by_dates():
    clock = accepted(vn(2025, 3, 3, 9))
    run(clock, [("request_supplement", vn(2025, 3, 3, 10), REASON), ("receive_supplement", vn(2025, 3, 3, 11)),
                ("complete", vn(2025, 3, 3, 16), {"result": "denied"})])
    assert clock.supplement_count == 1
    assert clock.result == "denied"
    assert clock.timeliness == "early"


@pytest.mark.parametrize("finish, expected", [
    (vn(2025, 3, 5, 16), "early"),
    (vn(2025, 3, 6, 8), "on_time"),
    (vn(2025, 3, 6, 23, 59), "on_time"),  # same local date as due_at: on time even after 17:00
    (vn(2025, 3, 7, 0, 1), "late"),
])
def test_complete_timeliness_by_local_date(finish, expected):
    clock = accepted(vn(2025, 3, 3, 9))  # due Thursday 03-06 17:00
    run(clock, [("process", vn(2025, 3, 3, 10)), ("complete", finish, {"result": "approved"})])
    assert clock.status == "done"
    assert clock.finished_at == finish
    assert clock.result == "approved"
    assert clock.timeliness == expected


def test_complete_timeliness_uses_local_not_utc_dates():
    clock = accepted(vn(2025, 3, 3, 9))  # due Thursday 03-06 17:00 local
    # 2025-03-06 18:30 UTC is Friday 01:30 in Vietnam: late, although the UTC date is the due date.
    run(clock, [("process", vn(2025, 3, 3, 10)),
                ("complete", datetime(2025, 3, 6, 18, 30, tzinfo=UTC), {"result": "approved"})])
    assert clock.timeliness == "late"


@pytest.mark.parametrize("finish, expected", [
    (vn(2025, 3, 3, 13, 59), "on_time"),
    (vn(2025, 3, 3, 14), "on_time"),
    (vn(2025, 3, 3, 14, 1), "late"),
])
def test_hour_limit_late_after_due_instant(finish, expected):
    clock = accepted(vn(2025, 3, 3, 8), TimeLimit(4, HOURS))  # due 14:00
    run(clock, [("process", vn(2025, 3, 3, 9)), ("complete", finish, {"result": "approved"})])
    assert clock.timeliness == expected


def test_return_keeps_the_done_time_as_finish():
    clock = accepted(vn(2025, 3, 3, 9))  # due 03-06
    run(clock, [("process", vn(2025, 3, 3, 10)), ("complete", vn(2025, 3, 6, 10), {"result": "approved"}),
                ("return_result", vn(2025, 3, 12, 9))])
    assert clock.status == "returned"
    assert clock.finished_at == vn(2025, 3, 6, 10)
    assert clock.returned_at == vn(2025, 3, 12, 9)
    assert clock.timeliness == "on_time"


@pytest.mark.parametrize("source", ["accepted", "processing", "supplement_requested", "payment_requested"])
def test_stop_is_a_finish(source):
    clock = accepted(vn(2025, 3, 3, 9))  # due 03-06
    lead = {"accepted": [], "processing": [("process", vn(2025, 3, 3, 10))],
            "supplement_requested": [("request_supplement", vn(2025, 3, 3, 10), REASON)],
            "payment_requested": [("process", vn(2025, 3, 3, 10)), ("request_payment", vn(2025, 3, 3, 11))]}
    run(clock, lead[source])
    assert clock.status == source
    run(clock, [("stop", vn(2025, 3, 4, 10), {"reason": "Không đủ điều kiện"})])
    assert clock.status == "stopped"
    assert clock.finished_at == vn(2025, 3, 4, 10)
    assert clock.paused_at is None
    assert clock.timeliness == "early"


def test_stop_after_the_deadline_is_late():
    clock = accepted(vn(2025, 3, 3, 9))
    run(clock, [("stop", vn(2025, 3, 10, 10), {"reason": "x"})])
    assert clock.timeliness == "late"


@pytest.mark.parametrize("lead", [
    [],
    [("process", vn(2025, 3, 3, 10))],
    [("request_supplement", vn(2025, 3, 3, 10), REASON)],
])
def test_withdraw_has_no_timeliness(lead):
    clock = accepted(vn(2025, 3, 3, 9))
    run(clock, lead + [("withdraw", vn(2025, 3, 20, 10))])
    assert clock.status == "withdrawn"
    assert clock.withdrawn_at == vn(2025, 3, 20, 10)
    assert clock.finished_at is None
    assert clock.timeliness is None
    assert not is_overdue(clock, vn(2025, 4, 1, 10), RULES)


def test_withdraw_before_acceptance():
    clock = run(fresh(), [("withdraw", vn(2025, 3, 3, 10))])
    assert clock.status == "withdrawn"
    assert clock.accepted_at is None and clock.due_at is None and clock.timeliness is None


def test_refuse_intake_has_no_clock():
    clock = run(fresh(), [("refuse_intake", vn(2025, 3, 3, 10), {"reason": "Sai thẩm quyền"})])
    assert clock.status == "not_accepted"
    assert clock.accepted_at is None and clock.due_at is None and clock.timeliness is None
    assert not is_overdue(clock, vn(2026, 1, 5, 10), RULES)


# -- overdue -----------------------------------------------------------------------------


def test_overdue_by_local_date_for_day_limits():
    clock = accepted(vn(2025, 3, 3, 9))  # due Thursday 03-06 17:00
    assert not is_overdue(clock, vn(2025, 3, 6, 23, 59), RULES)
    assert is_overdue(clock, vn(2025, 3, 7, 0, 1), RULES)


def test_overdue_by_instant_for_hour_limits():
    clock = accepted(vn(2025, 3, 3, 8), TimeLimit(4, HOURS))  # due 14:00
    assert not is_overdue(clock, vn(2025, 3, 3, 14), RULES)
    assert is_overdue(clock, vn(2025, 3, 3, 14, 1), RULES)


def test_paused_dossier_is_judged_with_the_deadline_moved_so_far():
    clock = accepted(vn(2025, 2, 28, 9))  # due Wednesday 03-05
    run(clock, [("request_supplement", vn(2025, 3, 3, 10), REASON)])  # Monday
    # Thursday: without the pause it would be overdue; three paused days move due to Monday 03-10.
    assert current_due(clock, vn(2025, 3, 6, 10), RULES) == vn(2025, 3, 10, 17)
    assert not is_overdue(clock, vn(2025, 3, 6, 10), RULES)
    assert not is_overdue(clock, vn(2025, 3, 20, 10), RULES)
    assert clock.due_at == vn(2025, 3, 5, 17)  # judging changes nothing


def test_paused_after_the_deadline_stays_overdue():
    clock = accepted(vn(2025, 2, 28, 9))  # due Wednesday 03-05
    run(clock, [("process", vn(2025, 3, 3, 9)),
                ("request_supplement", vn(2025, 3, 7, 10), REASON)])  # Friday, already late
    # Monday 03-10: one paused working day moves due to Thursday 03-06 -> still overdue.
    assert current_due(clock, vn(2025, 3, 10, 10), RULES) == vn(2025, 3, 6, 17)
    assert is_overdue(clock, vn(2025, 3, 10, 10), RULES)


def test_paused_hour_limit_overdue_uses_minutes_so_far():
    clock = accepted(vn(2025, 3, 3, 8), TimeLimit(4, HOURS))  # due 14:00
    run(clock, [("request_supplement", vn(2025, 3, 3, 9), REASON)])
    # At 14:30, 210 office minutes have passed in the pause (09:00-11:30, 13:30-14:30).
    # 14:00 + 210 office minutes: 180 to 17:00, then Tuesday 07:30 + 30.
    assert current_due(clock, vn(2025, 3, 3, 14, 30), RULES) == vn(2025, 3, 4, 8)
    assert not is_overdue(clock, vn(2025, 3, 3, 14, 30), RULES)


def test_finished_dossier_is_never_overdue():
    clock = accepted(vn(2025, 3, 3, 9))
    run(clock, [("process", vn(2025, 3, 3, 10)), ("complete", vn(2025, 3, 20, 10), {"result": "approved"})])
    assert clock.timeliness == "late"
    assert not is_overdue(clock, vn(2025, 4, 1, 10), RULES)


# -- refusals leave the clock alone ----------------------------------------------------------------


@pytest.mark.parametrize("status_path, action", [
    ([], "complete"),
    ([], "receive_supplement"),
    ([], "request_payment"),
    ([("process", vn(2025, 3, 3, 10)), ("complete", vn(2025, 3, 3, 11), {"result": "approved"})], "stop"),
])
def test_refused_transition_changes_nothing(status_path, action):
    clock = run(accepted(vn(2025, 3, 3, 9)), status_path)
    before = copy.deepcopy(clock)
    with pytest.raises(TransitionRefused) as error:
        apply(clock, action, vn(2025, 3, 4, 10), RULES, {"reason": "x", "result": "approved"})
    assert error.value.allowed == [a for a, (sources, _) in TABLE.items()
                                   if sources is None or clock.status in sources]
    assert clock == before


@pytest.mark.parametrize("action, fields, missing", [
    ("request_supplement", {}, {"reason"}),
    ("stop", {"reason": "   "}, {"reason"}),
    ("complete", {}, {"result"}),
    ("complete", {"result": "maybe"}, {"result"}),
    ("comment", {}, {"note", "public_note"}),
])
def test_missing_fields_change_nothing(action, fields, missing):
    clock = run(accepted(vn(2025, 3, 3, 9)), [("process", vn(2025, 3, 3, 10))])
    before = copy.deepcopy(clock)
    with pytest.raises(MissingFields) as error:
        apply(clock, action, vn(2025, 3, 4, 10), RULES, fields)
    assert set(error.value.errors) == missing
    assert clock == before


# -- properties over random valid action sequences ------------------------------------------


START = datetime(2024, 1, 1)
END = datetime(2026, 12, 31)
ENDINGS = {"refuse_intake", "withdraw", "stop"}
ZONES = st.sampled_from([VN, UTC, timezone(timedelta(hours=-5))])


@st.composite
def scenario(draw):
    limit = draw(st.sampled_from([TimeLimit(1, DAYS), TimeLimit(3, DAYS), TimeLimit(15, DAYS),
                                  TimeLimit(1, HOURS), TimeLimit(4, HOURS), TimeLimit(16, HOURS)]))
    start = draw(st.datetimes(min_value=START, max_value=END - timedelta(days=40)))
    zone = draw(ZONES)
    start = start.replace(tzinfo=VN).astimezone(zone)
    payment_pauses = draw(st.booleans())
    return limit, start, payment_pauses


def _expected_timeliness(clock: DossierClock) -> str:
    if clock.supplement_count > 1:
        return "late"
    finished, due = RULES.local(clock.finished_at), RULES.local(clock.due_at)
    if finished.date() < due.date():
        return "early"
    if finished.date() > due.date():
        return "late"
    if clock.limit.unit == HOURS and finished > due:
        return "late"
    return "on_time"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.data())
def test_random_sequences_keep_the_clock_consistent(setup, data):
    limit, at, payment_pauses = setup
    clock = DossierClock(status="registered", limit=limit)
    end = END.replace(tzinfo=VN)
    closed_tries = 1
    for _ in range(data.draw(st.integers(min_value=1, max_value=14), label="length")):
        # Mostly an allowed, status-moving action; sometimes anything (refusals are checked too).
        moving = [a for a, (sources, _) in TABLE.items() if sources is not None and clock.status in sources]
        if not moving and closed_tries == 0:
            break  # a closed dossier: one more random attempt was made already
        closed_tries -= 0 if moving else 1
        # Endings are rarer than the middle of the story, so that pauses and finishes happen.
        moving = [a for a in moving for _ in range(1 if a in ENDINGS else 4)]
        pool = moving if moving and data.draw(st.integers(0, 5), label="pick") else ACTIONS
        action = data.draw(st.sampled_from(pool), label="action")
        gap = data.draw(st.one_of(st.integers(0, 10 * 60), st.integers(0, 3 * 24 * 60),
                                  st.integers(0, 12 * 24 * 60)), label="gap minutes")
        at = at + timedelta(minutes=gap)
        if at > end:
            break
        fields = {}
        if data.draw(st.integers(0, 9), label="complete fields") > 0:
            fields = {"reason": "lý do", "result": data.draw(st.sampled_from(["approved", "denied"])),
                      "note": "ghi chú"}
            base = clock.appointment_at or at
            fields["new_appointment_at"] = base + timedelta(
                minutes=data.draw(st.integers(min_value=-3 * 24 * 60, max_value=20 * 24 * 60), label="appt"))
        else:
            fields = data.draw(st.sampled_from([{}, {"reason": " "}, {"result": "maybe"}]), label="bad fields")
        before = copy.deepcopy(clock)
        try:
            status = apply(clock, action, at, RULES, fields, payment_pauses=payment_pauses)
        except REFUSED:
            assert clock == before, action
            continue
        sources, target = TABLE[action]
        assert sources is None or before.status in sources
        assert status == clock.status == (target or before.status)

        if clock.accepted_at is not None:
            assert clock.effective_intake_at >= clock.accepted_at
            assert clock.due_at >= clock.effective_intake_at
            assert clock.appointment_at >= clock.due_at
        if before.due_at is not None:
            assert clock.due_at >= before.due_at, (action, before.due_at, clock.due_at)
        if before.appointment_at is not None:
            assert clock.appointment_at >= before.appointment_at
        if action == "apologize":
            assert clock.due_at == before.due_at
            assert clock.appointment_at == fields["new_appointment_at"] > before.appointment_at
        if action in ("request_supplement",) or (action == "request_payment" and payment_pauses):
            assert clock.paused_at == at
            assert clock.due_at == before.due_at
        if action == "request_payment" and not payment_pauses:
            assert clock.paused_at is None and clock.due_at == before.due_at
        if action in ("complete", "stop"):
            assert clock.finished_at == at
            assert clock.paused_at is None
        if action == "return_result":
            assert clock.returned_at == at
            assert clock.finished_at == before.finished_at
        if clock.finished_at is not None:
            assert clock.timeliness == _expected_timeliness(clock)
            if clock.supplement_count > 1:
                assert clock.timeliness == "late"
        else:
            assert clock.timeliness is None
        if clock.status in ("withdrawn", "not_accepted"):
            assert clock.timeliness is None
            assert not is_overdue(clock, at + timedelta(days=400), RULES)
        if clock.status in progress.OPEN:
            # The deadline as judged now is never earlier than the stored one.
            assert current_due(clock, at, RULES) >= clock.due_at
