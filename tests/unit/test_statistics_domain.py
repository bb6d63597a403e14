"""The pure statistics rules: periods, cells, overdue profiles and step deltas.

The profile and delta tests compare the compact descriptions the counters store with a
day-by-day evaluation of ``progress.is_overdue`` over random histories and calendars.
"""
from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.domain import progress
from tracker.domain import statistics as stats
from tracker.domain.calendar import OfficeHours, WorkingCalendar
from tracker.domain.deadlines import DAYS, HOURS, Deadlines, TimeLimit
from tracker.domain.statuses import Status
from tracker.domain.workflow import Action, TransitionRefused

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


# -- periods --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, start, end", [
    ("2025", date(2025, 1, 1), date(2025, 12, 31)),
    ("2025-02", date(2025, 2, 1), date(2025, 2, 28)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2025-12", date(2025, 12, 1), date(2025, 12, 31)),
    ("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)),
    ("2025-q4", date(2025, 10, 1), date(2025, 12, 31)),
    ("2025-H1", date(2025, 1, 1), date(2025, 6, 30)),
    ("2025-H2", date(2025, 7, 1), date(2025, 12, 31)),
    ("2025-9M", date(2025, 1, 1), date(2025, 9, 30)),
    (" 2025-9m ", date(2025, 1, 1), date(2025, 9, 30)),
])
def test_periods(text, start, end):
    period = stats.parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["2026-Q7", "2026-Q0", "2026-13", "2026-00", "2026-H3", "2026-H0", "2026-8M",
                                  "26", "2026-1", "2026/01", "", "1800", "2100", "2026-W01", None, "２０２６"])
def test_impossible_periods(text):
    with pytest.raises(stats.PeriodError) as raised:
        stats.parse_period(text)
    assert raised.value.field == "period"
    assert raised.value.message


def test_explicit_periods():
    assert stats.explicit_period(date(2025, 3, 5), date(2025, 3, 5)).days == 1
    with pytest.raises(stats.PeriodError) as raised:
        stats.explicit_period(date(2025, 3, 6), date(2025, 3, 5))
    assert raised.value.field == "to"
    with pytest.raises(stats.PeriodError):
        stats.explicit_period(date(1800, 1, 1), date(2025, 3, 5))


def test_month_periods_are_cut_to_the_period():
    months = stats.month_periods(stats.explicit_period(date(2024, 12, 15), date(2025, 2, 3)))
    assert [(m.start, m.end) for m in months] == [
        (date(2024, 12, 15), date(2024, 12, 31)), (date(2025, 1, 1), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 3))]


# -- cells ----------------------------------------------------------------------------------------

def _cell_days(grain: str, start: date) -> list[date]:
    if grain == "d":
        return [start]
    if grain == "m":
        end = stats.month_periods(stats.Period(start, date(start.year, 12, 31)))[0].end
    else:
        end = date(start.year, 12, 31)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _starts(grain: str, lo: date, hi: date) -> list[date]:
    result, day = [], lo
    while day <= hi:
        result.append(day)
        if grain == "d":
            day += timedelta(days=1)
        elif grain == "m":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day = date(day.year + 1, 1, 1)
    return result


@settings(max_examples=300)
@given(st.dates(date(2019, 1, 1), date(2031, 12, 31)), st.integers(-5, 2000))
def test_range_cells_cover_each_day_once(first, length):
    last = first + timedelta(days=length)
    cells = stats.range_cells(first, last)
    covered = [day for grain, lo, hi in cells for start in _starts(grain, lo, hi) for day in _cell_days(grain, start)]
    expected = [first + timedelta(days=i) for i in range(max(0, length + 1))]
    assert sorted(covered) == expected
    assert len(cells) <= 5
    for grain, lo, hi in cells:
        assert lo <= hi
        if grain == "m":
            assert lo.day == hi.day == 1
        if grain == "y":
            assert (lo.month, lo.day) == (hi.month, hi.day) == (1, 1)


def test_cumulative_cells_use_years():
    cells = stats.range_cells(stats.CUMULATIVE_START, date(2025, 12, 31))
    assert cells == [("y", date(1, 1, 1), date(2025, 1, 1))]
    cells = stats.range_cells(stats.CUMULATIVE_START, date(2026, 3, 4))
    assert cells == [("y", date(1, 1, 1), date(2025, 1, 1)), ("m", date(2026, 1, 1), date(2026, 2, 1)),
                     ("d", date(2026, 3, 1), date(2026, 3, 4))]


def test_end_of_day_and_judge_day():
    assert stats.end_of_day(date(2025, 3, 1), TZ) == datetime(2025, 3, 1, 23, 59, 59, 999999, tzinfo=TZ)
    assert stats.judge_day(date(2025, 3, 1), date(2026, 1, 1)) == date(2025, 3, 1)
    assert stats.judge_day(date(2027, 3, 1), date(2026, 1, 1)) == date(2026, 1, 1)


# -- counters -------------------------------------------------------------------------------------

def test_counters_as_dict():
    counters = stats.Counters(carried_over=2, online=3, direct=4, postal=1, early=2, on_time=3, late=1,
                              pending=3, overdue=1, withdrawn=1, processing_days=13)
    assert counters.as_dict() == {
        "received": {"total": 10, "carried_over": 2, "online": 3, "direct": 4, "postal": 1},
        "resolved": {"total": 6, "early": 2, "on_time": 3, "late": 1},
        "pending": {"total": 3, "within_deadline": 2, "overdue": 1},
        "withdrawn": 1,
        "on_time_rate": round(5 / 6, 4),
        "progress_rate": round(7 / 9, 4),
        "avg_processing_working_days": round(13 / 6, 2),
        "evaluations": {"total": 0, "very_satisfied": 0, "satisfied": 0, "dissatisfied": 0},
        "online_rate": None, "online_payment_rate": None, "digitized_rate": 0.0, "electronic_result_rate": None,
        "satisfaction_rate": 1.0, "evaluation_rate": 0.0,
    }
    empty = stats.Counters().as_dict()
    assert empty["on_time_rate"] is None and empty["progress_rate"] is None
    assert empty["avg_processing_working_days"] is None


# -- random histories -----------------------------------------------------------------------------

HOURS_SETTINGS = OfficeHours()


def _calendar(overrides: dict) -> Deadlines:
    return Deadlines(WorkingCalendar(overrides), HOURS_SETTINGS)


overrides_strategy = st.dictionaries(
    st.dates(date(2025, 1, 1), date(2025, 4, 30)), st.tuples(st.booleans(), st.just("override")), max_size=8)

ACTIONS = [Action.PROCESS, Action.REQUEST_SUPPLEMENT, Action.RECEIVE_SUPPLEMENT, Action.REQUEST_PAYMENT,
           Action.RECEIVE_PAYMENT, Action.COMPLETE, Action.STOP, Action.WITHDRAW, Action.RETURN_RESULT,
           Action.APOLOGIZE, Action.COMMENT]


@st.composite
def histories(draw):
    """A limit, an acceptance time and up to 8 (action, gap) pairs."""
    unit = draw(st.sampled_from([DAYS, HOURS]))
    value = draw(st.integers(1, 5)) if unit == DAYS else draw(st.integers(1, 20))
    accepted = datetime.combine(draw(st.dates(date(2025, 1, 2), date(2025, 3, 20))),
                                draw(st.times()), tzinfo=TZ)
    steps = draw(st.lists(st.tuples(st.sampled_from(ACTIONS),
                                    st.one_of(st.integers(0, 120), st.integers(0, 20 * 24 * 60))),
                          max_size=8))
    payment_pauses = draw(st.booleans())
    return TimeLimit(value, unit), accepted, steps, payment_pauses


def _fields(action: str, clock: progress.DossierClock, at: datetime) -> dict:
    if action == Action.APOLOGIZE:
        base = clock.appointment_at or at
        return {"reason": "x", "new_appointment_at": base + timedelta(days=3)}
    return {"reason": "x", "result": "approved", "note": "x"}


def replay(limit, accepted, steps, rules, payment_pauses):
    """[(at, before, after)] for the acceptance and every step the state machine allows."""
    clock = progress.DossierClock(status=Status.REGISTERED, limit=limit)
    before = copy.deepcopy(clock)
    progress.apply(clock, Action.ACCEPT, accepted, rules)
    timeline = [(accepted, before, copy.deepcopy(clock))]
    at = accepted
    for action, gap in steps:
        at = at + timedelta(minutes=gap)
        before = copy.deepcopy(clock)
        try:
            progress.apply(clock, action, at, rules, _fields(action, clock, at), payment_pauses=payment_pauses)
        except TransitionRefused:
            continue
        timeline.append((at, before, copy.deepcopy(clock)))
    return timeline


def _overdue_by_rule(timeline, day, rules) -> bool:
    """The rule book's answer: the state after every step up to the end of ``day``, judged then."""
    end = stats.end_of_day(day, TZ)
    state = None
    for at, _before, after in timeline:
        if at <= end:
            state = after
    return state is not None and progress.is_overdue(state, end, rules)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), overrides_strategy, st.integers(0, 30))
def test_profile_matches_the_rule_day_by_day(history, overrides, offset):
    limit, accepted, steps, payment_pauses = history
    rules = _calendar(overrides)
    timeline = replay(limit, accepted, steps, rules, payment_pauses)
    last_at, _, clock = timeline[-1]
    start = rules.local(last_at).date() + timedelta(days=offset)
    main, nonworking = stats.overdue_profile(clock, start, rules)
    total_main = total_nonworking = 0
    for i in range(160):
        day = start + timedelta(days=i)
        total_main += main.get(day, 0)
        total_nonworking += nonworking.get(day, 0)
        value = total_main + (0 if rules.calendar.is_working_day(day) else total_nonworking)
        expected = progress.is_overdue(clock, stats.end_of_day(day, TZ), rules)
        assert value == int(expected), (day, clock)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), overrides_strategy)
def test_summed_deltas_give_every_day_figure(history, overrides):
    """Adding every step's deltas up to a day gives that day's open/overdue state and the flows."""
    limit, accepted, steps, payment_pauses = history
    rules = _calendar(overrides)
    timeline = replay(limit, accepted, steps, rules, payment_pauses)
    deltas: dict[date, list[int]] = {}
    for at, before, after in timeline:
        for day, row in stats.step_deltas(before, after, at, rules).items():
            current = deltas.setdefault(day, [0] * len(stats.COLUMNS))
            for i, value in enumerate(row):
                current[i] += value
    final = timeline[-1][2]
    first_day = rules.local(accepted).date() - timedelta(days=2)
    running = [0] * len(stats.COLUMNS)
    for i in range(200):
        day = first_day + timedelta(days=i)
        for j, value in enumerate(deltas.get(day, [0] * len(stats.COLUMNS))):
            running[j] += value
        end = stats.end_of_day(day, TZ)
        accepted_yet = accepted <= end
        finished = final.finished_at is not None and final.finished_at <= end
        withdrawn = final.withdrawn_at is not None and final.withdrawn_at <= end
        open_now = running[stats.RECEIVED] - sum(running[stats.EARLY_COL:stats.WITHDRAWN + 1])
        assert open_now == int(accepted_yet and not finished and not withdrawn), day
        overdue = running[stats.OVERDUE] + (0 if rules.calendar.is_working_day(day)
                                            else running[stats.OVERDUE_NONWORKING])
        assert overdue == int(_overdue_by_rule(timeline, day, rules)), day
    assert sum(row[stats.RECEIVED] for row in deltas.values()) == 1
    resolved = sum(row[c] for row in deltas.values() for c in (stats.EARLY_COL, stats.ON_TIME_COL, stats.LATE_COL))
    assert resolved == int(final.finished_at is not None)
    if final.finished_at is not None:
        column = {"early": stats.EARLY_COL, "on_time": stats.ON_TIME_COL, "late": stats.LATE_COL}[final.timeliness]
        assert deltas[rules.local(final.finished_at).date()][column] >= 1
        days = sum(row[stats.PROCESSING_DAYS] for row in deltas.values())
        assert days == rules.processing_working_days(final.effective_intake_at, final.finished_at, final.paused_days)


def test_a_deadline_on_the_pause_day_is_overdue_on_days_off_only():
    """Due Friday, supplement requested that Friday: the paused deadline follows the working days."""
    rules = _calendar({})
    clock = progress.DossierClock(status=Status.REGISTERED, limit=TimeLimit(3, DAYS))
    progress.apply(clock, Action.ACCEPT, datetime(2025, 3, 4, 9, 0, tzinfo=TZ), rules)  # Tue -> due Fri 7/3
    assert rules.local(clock.due_at).date() == date(2025, 3, 7)
    progress.apply(clock, Action.REQUEST_SUPPLEMENT, datetime(2025, 3, 7, 10, 0, tzinfo=TZ), rules,
                   {"reason": "thiếu giấy tờ"})
    main, nonworking = stats.overdue_profile(clock, date(2025, 3, 7), rules)
    assert main == {date(2025, 3, 8): 1, date(2025, 3, 10): -1} and nonworking == {date(2025, 3, 10): 1}
    for day, expected in [(date(2025, 3, 8), True), (date(2025, 3, 10), False), (date(2025, 3, 15), True)]:
        assert progress.is_overdue(clock, stats.end_of_day(day, TZ), rules) is expected


def test_registered_dossiers_count_nowhere():
    rules = _calendar({})
    clock = progress.DossierClock(status=Status.REGISTERED, limit=TimeLimit(3, DAYS))
    before = copy.deepcopy(clock)
    progress.apply(clock, Action.WITHDRAW, datetime(2025, 3, 4, 9, 0, tzinfo=TZ), rules)
    assert stats.step_deltas(before, clock, datetime(2025, 3, 4, 9, 0, tzinfo=TZ), rules) == {}


@settings(max_examples=500)
@given(st.dates(date(2001, 1, 1), date(2040, 12, 31)))
def test_cumulative_cells_count_each_day_up_to_the_last_once(last):
    cells = stats.cumulative_cells(last)
    counted: dict[date, int] = {}
    window = (date(last.year - 2, 1, 1), date(last.year + 2, 12, 31))
    for grain, lo, hi, sign in cells:
        for start in _starts(grain, max(lo, window[0]), hi):
            for day in _cell_days(grain, start):
                counted[day] = counted.get(day, 0) + sign
    day = window[0]
    while day <= window[1]:
        assert counted.get(day, 0) == (1 if day <= last else 0), (day, cells)
        day += timedelta(days=1)
    assert sum(1 for c in cells if c[0] == "m") <= 2 and len(cells) <= 3
    months = sum(len(_starts(g, lo, hi)) for g, lo, hi, _ in cells if g == "m")
    days = sum(len(_starts(g, lo, hi)) for g, lo, hi, _ in cells if g == "d")
    assert months <= 6 and days <= 16, cells
