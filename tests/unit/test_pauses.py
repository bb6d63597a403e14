"""Pauses count from the later of their request and the effective intake (docs/rules.md#pauses).

The worked examples, two properties against the plain rule ("from the request"), and a
differential check against a brute-force count written here, one working day or one
office minute at a time, for pauses requested on the intake day after the cut-off.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.calendar import OfficeHours, WorkingCalendar
from tracker.domain.deadlines import DAYS, HOURS, Deadlines, TimeLimit
from tracker.domain.progress import DossierClock, apply, current_due

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()
HOURS_CFG = OfficeHours.parse()
RULES = Deadlines(CAL, HOURS_CFG)
REASON = {"reason": "Thiếu bản sao giấy khai sinh"}


def vn(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=VN)


def replay(limit: TimeLimit, accepted: datetime, requested: datetime, received: datetime | None) -> DossierClock:
    clock = DossierClock(status="registered", limit=limit)
    apply(clock, "accept", accepted, RULES)
    apply(clock, "request_supplement", requested, RULES, REASON)
    if received is not None:
        apply(clock, "receive_supplement", received, RULES)
    return clock


# -- the worked examples ------------------------------------------------------------------


def test_day_limit_example_pause_before_intake_counts_one_day():
    # Accepted Monday 16:00, after the cut-off: the clock starts Tuesday 07:30, due Friday.
    clock = replay(TimeLimit(3, DAYS), vn(2025, 3, 10, 16), vn(2025, 3, 10, 16, 30), None)
    assert clock.effective_intake_at == vn(2025, 3, 11, 7, 30)
    assert clock.due_at == vn(2025, 3, 14, 17)
    apply(clock, "receive_supplement", vn(2025, 3, 12, 9), RULES)
    # Tuesday was the intake day (never counted, so never paused): only Wednesday is paused.
    assert clock.due_at == vn(2025, 3, 17, 17)
    assert clock.appointment_at == vn(2025, 3, 17, 17)
    assert clock.paused_days == 1


def test_hour_limit_example_pause_before_intake_counts_from_opening():
    # 8 working hours accepted Monday 16:00: counted from Tuesday 07:30, due Wednesday 08:00.
    clock = replay(TimeLimit(8, HOURS), vn(2025, 3, 10, 16), vn(2025, 3, 10, 16, 30), None)
    assert clock.effective_intake_at == vn(2025, 3, 11, 7, 30)
    assert clock.due_at == vn(2025, 3, 12, 8)
    apply(clock, "receive_supplement", vn(2025, 3, 11, 9, 30), RULES)
    # Monday 16:30-17:00 lay before the intake: only Tuesday 07:30-09:30 (120 minutes) is paused.
    assert clock.due_at == vn(2025, 3, 12, 10)


def test_a_running_pause_before_intake_moves_nothing_yet():
    clock = replay(TimeLimit(3, DAYS), vn(2025, 3, 10, 16), vn(2025, 3, 10, 16, 30), None)
    assert current_due(clock, vn(2025, 3, 11, 16), RULES) == vn(2025, 3, 14, 17)
    assert current_due(clock, vn(2025, 3, 12, 9), RULES) == vn(2025, 3, 17, 17)


# -- properties ---------------------------------------------------------------------------

LIMITS = st.one_of(st.builds(TimeLimit, st.integers(1, 30), st.just(DAYS)),
                   st.builds(TimeLimit, st.integers(1, 40), st.just(HOURS)))
DAYS_2024_2026 = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))
MINUTES_OF_DAY = st.integers(0, 24 * 60 - 1)


def at_minute(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=VN)


@st.composite
def before_intake(draw):
    """An acceptance whose effective intake is later, and a pause requested and ended before it."""
    limit = draw(LIMITS)
    day = draw(DAYS_2024_2026)
    if CAL.is_working_day(day):
        accepted = at_minute(day, draw(st.integers(15 * 60 + 1, 24 * 60 - 1)))
    else:
        accepted = at_minute(day, draw(MINUTES_OF_DAY))
    intake = RULES.effective_intake(accepted)
    gap = int((intake - accepted).total_seconds() // 60)
    requested = accepted + timedelta(minutes=draw(st.integers(0, gap)))
    left = int((intake - requested).total_seconds() // 60)
    received = requested + timedelta(minutes=draw(st.integers(0, left)))
    return limit, accepted, requested, received


@given(before_intake())
def test_a_pause_wholly_before_the_intake_never_moves_the_deadline(case):
    limit, accepted, requested, received = case
    clock = replay(limit, accepted, requested, received)
    assert clock.due_at == RULES.due(RULES.effective_intake(accepted), limit)
    assert clock.paused_days == 0


@st.composite
def any_pause(draw):
    limit = draw(LIMITS)
    accepted = at_minute(draw(DAYS_2024_2026), draw(MINUTES_OF_DAY))
    requested = accepted + timedelta(minutes=draw(st.integers(0, 10 * 24 * 60)))
    received = requested + timedelta(minutes=draw(st.integers(0, 15 * 24 * 60)))
    return limit, accepted, requested, received


@given(any_pause())
def test_an_extension_never_exceeds_the_one_counted_from_the_request(case):
    limit, accepted, requested, received = case
    intake = RULES.effective_intake(accepted)
    counted_from_request = RULES.pause_extension(limit, requested, received)
    extension = RULES.pause_extension(limit, requested, received, intake)
    assert 0 <= extension <= counted_from_request
    if requested >= intake:
        assert extension == counted_from_request
    clock = replay(limit, accepted, requested, received)
    assert clock.due_at <= RULES.extend(RULES.due(intake, limit), limit, counted_from_request)


# -- differential check against a brute-force count ---------------------------------------


def brute_working_day(day: date) -> bool:
    return CAL.is_working_day(day)


def brute_intake(accepted: datetime) -> datetime:
    local = accepted.astimezone(VN)
    if brute_working_day(local.date()) and local.time() <= HOURS_CFG.cutoff:
        return local
    day = local.date() + timedelta(days=1)
    while not brute_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, HOURS_CFG.opens, tzinfo=VN)


def brute_nth_working_day_after(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= brute_working_day(day)
    return day


def brute_office_minute(start: datetime) -> bool:
    """Whether the minute [start, start + 1 min) is office time of a working day (periods start on whole minutes)."""
    local = start.astimezone(VN)
    return brute_working_day(local.date()) and any(s <= local.time() < e for s, e in HOURS_CFG.periods)


def brute_add_minutes(start: datetime, minutes: int) -> datetime:
    at = start
    while minutes:
        if brute_office_minute(at):
            minutes -= 1
        at += timedelta(minutes=1)
    return at


def brute_minutes_between(a: datetime, b: datetime) -> int:
    count, at = 0, a
    while at < b:
        count += brute_office_minute(at)
        at += timedelta(minutes=1)
    return count


def brute_due_after_pause(limit: TimeLimit, accepted: datetime, requested: datetime, received: datetime) -> datetime:
    intake = brute_intake(accepted)
    start = max(requested, intake)
    if limit.unit == DAYS:
        due_day = brute_nth_working_day_after(intake.date(), limit.value)
        first, last = start.astimezone(VN).date(), received.astimezone(VN).date()
        paused = sum(brute_working_day(first + timedelta(days=i)) for i in range(1, (last - first).days + 1))
        return datetime.combine(brute_nth_working_day_after(due_day, paused), HOURS_CFG.closes, tzinfo=VN)
    due = brute_add_minutes(intake, limit.value * 60)
    return brute_add_minutes(due, brute_minutes_between(start, received))


@st.composite
def pause_on_intake_day_after_cutoff(draw):
    """Accepted after the cut-off (or on a day off), the supplement requested later that same day."""
    limit = draw(st.one_of(st.builds(TimeLimit, st.integers(1, 10), st.just(DAYS)),
                           st.builds(TimeLimit, st.integers(1, 16), st.just(HOURS))))
    day = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)))
    first = 15 * 60 + 1 if CAL.is_working_day(day) else 0
    accepted_minute = draw(st.integers(first, 24 * 60 - 1))
    requested_minute = draw(st.integers(accepted_minute, 24 * 60 - 1))
    received = at_minute(day, requested_minute) + timedelta(minutes=draw(st.integers(0, 6 * 24 * 60)))
    return limit, at_minute(day, accepted_minute), at_minute(day, requested_minute), received


@settings(max_examples=150, deadline=None)
@given(pause_on_intake_day_after_cutoff())
def test_deadlines_after_a_pause_agree_with_a_brute_force_count(case):
    limit, accepted, requested, received = case
    clock = replay(limit, accepted, requested, received)
    assert clock.effective_intake_at == brute_intake(accepted)
    assert clock.due_at == brute_due_after_pause(limit, accepted, requested, received)
