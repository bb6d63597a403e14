"""Tests of deadline, pause, timeliness and processing-time rules."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.calendar import OfficeHours, WorkingCalendar
from tracker.domain.deadlines import DAYS, HOURS, Deadlines, TimeLimit

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc
HOURS_CFG = OfficeHours.parse()
CAL = WorkingCalendar()
D = Deadlines(CAL, HOURS_CFG)


def vn(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """A Vietnam-local aware datetime."""
    return datetime(y, mo, d, h, mi, s, tzinfo=VN)


def days(n: int) -> TimeLimit:
    """A limit of n working days."""
    return TimeLimit(n, DAYS)


def hours(n: int) -> TimeLimit:
    """A limit of n working hours."""
    return TimeLimit(n, HOURS)


# -- TimeLimit -----------------------------------------------------------------


@pytest.mark.parametrize(("value", "unit"), [(0, DAYS), (-1, HOURS), (1, "days"), (True, DAYS), (1.5, DAYS)])
def test_time_limit_rejects_bad_values(value, unit) -> None:
    with pytest.raises(ValueError):
        TimeLimit(value, unit)


# -- the rule book's example and day limits ---------------------------------------------


def test_domain_example_three_days_over_tet() -> None:
    accepted = vn(2025, 1, 24, 10)
    intake = D.effective_intake(accepted)
    assert intake == accepted
    due = D.due(intake, days(3))
    assert due == vn(2025, 2, 5, 17)
    assert due.tzinfo == VN and due.weekday() == 2


def test_day_limit_from_a_moved_intake() -> None:
    # Accepted Friday 16:00 -> effective Monday 07:30 -> 1 working day -> Tuesday 17:00.
    intake = D.effective_intake(vn(2025, 3, 14, 16))
    assert intake == vn(2025, 3, 17, 7, 30)
    assert D.due(intake, days(1)) == vn(2025, 3, 18, 17)


def test_day_limit_across_the_year_end() -> None:
    assert D.due(vn(2025, 12, 31, 9), days(1)) == vn(2026, 1, 2, 17)


# -- the cut-off -----------------------------------------------------------------


@pytest.mark.parametrize("minute_second", [(59, 0), (0, 0)])
def test_intake_up_to_the_cutoff_counts_that_day(minute_second) -> None:
    minute, second = minute_second
    hour = 14 if minute == 59 else 15
    accepted = vn(2025, 3, 10, hour, minute, second)
    assert D.effective_intake(accepted) == accepted


def test_intake_after_the_cutoff_moves_to_next_working_day() -> None:
    assert D.effective_intake(vn(2025, 3, 10, 15, 1)) == vn(2025, 3, 11, 7, 30)
    # Full precision: one second past the cut-off is past it.
    assert D.effective_intake(vn(2025, 3, 10, 15, 0, 1)) == vn(2025, 3, 11, 7, 30)
    # Friday after the cut-off -> Monday.
    assert D.effective_intake(vn(2025, 3, 14, 15, 1)) == vn(2025, 3, 17, 7, 30)


def test_intake_on_saturday_or_holiday_moves() -> None:
    assert D.effective_intake(vn(2025, 3, 15, 9)) == vn(2025, 3, 17, 7, 30)
    # 30/4, 1/5 and the bridge day 2/5, then a weekend.
    assert D.effective_intake(vn(2025, 4, 30, 9)) == vn(2025, 5, 5, 7, 30)
    # The make-up Saturday is a working day: no move.
    assert D.effective_intake(vn(2025, 4, 26, 9)) == vn(2025, 4, 26, 9)


def test_intake_before_opening_counts_that_day() -> None:
    assert D.effective_intake(vn(2025, 3, 10, 6)) == vn(2025, 3, 10, 6)


def test_intake_in_utc_is_converted() -> None:
    # 08:30 UTC is 15:30 in Vietnam: after the cut-off.
    moved = D.effective_intake(datetime(2025, 3, 10, 8, 30, tzinfo=UTC))
    assert moved == vn(2025, 3, 11, 7, 30)
    assert moved.tzinfo == VN
    kept = D.effective_intake(datetime(2025, 3, 10, 7, 59, tzinfo=UTC))
    assert kept == vn(2025, 3, 10, 14, 59) and kept.tzinfo == VN
    # 20:00 UTC Sunday is 03:00 Monday in Vietnam: a working day before the cut-off.
    early = D.effective_intake(datetime(2025, 3, 16, 20, 0, tzinfo=UTC))
    assert early == vn(2025, 3, 17, 3)


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2025, 3, 10, 10)
    aware = vn(2025, 3, 10, 10)
    for call in (
        lambda: D.effective_intake(naive),
        lambda: D.due(naive, days(1)),
        lambda: D.add_working_minutes(naive, 10),
        lambda: D.working_minutes_between(naive, aware),
        lambda: D.working_minutes_between(aware, naive),
        lambda: D.pause_extension(days(1), aware, naive),
        lambda: D.extend(naive, hours(1), 0),
        lambda: D.timeliness(naive, aware, days(1)),
        lambda: D.overdue(aware, naive, hours(1)),
        lambda: D.processing_working_days(naive, aware),
        lambda: D.local(naive),
    ):
        with pytest.raises(ValueError):
            call()


# -- hour limits -----------------------------------------------------------------


def test_hour_limit_across_lunch() -> None:
    # 10:00-11:30 is 90 min; the other 150 min run from 13:30 to 16:00.
    assert D.due(vn(2025, 3, 10, 10), hours(4)) == vn(2025, 3, 10, 16)


def test_hour_limit_across_night_and_weekend() -> None:
    # Friday 14:00-17:00 is 180 min; Monday 07:30-11:30 is 240; 60 more -> 14:30.
    assert D.due(vn(2025, 3, 14, 14), hours(8)) == vn(2025, 3, 17, 14, 30)


def test_hour_limit_ending_exactly_at_a_period_end() -> None:
    assert D.due(vn(2025, 3, 10, 9, 30), hours(2)) == vn(2025, 3, 10, 11, 30)
    assert D.add_working_minutes(vn(2025, 3, 10, 13, 30), 210) == vn(2025, 3, 10, 17)
    # A whole office day from opening ends at closing, not next morning.
    assert D.add_working_minutes(vn(2025, 3, 10, 7, 30), 450) == vn(2025, 3, 10, 17)
    assert D.add_working_minutes(vn(2025, 3, 10, 7, 30), 900) == vn(2025, 3, 11, 17)


def test_hour_limit_from_outside_office_hours() -> None:
    assert D.add_working_minutes(vn(2025, 3, 10, 12), 30) == vn(2025, 3, 10, 14)
    assert D.add_working_minutes(vn(2025, 3, 10, 18), 30) == vn(2025, 3, 11, 8)
    assert D.add_working_minutes(vn(2025, 3, 10, 6), 30) == vn(2025, 3, 10, 8)
    assert D.add_working_minutes(vn(2025, 3, 10, 11, 30), 1) == vn(2025, 3, 10, 13, 31)


def test_hour_limit_across_tet() -> None:
    # Friday 24/1 16:00: 60 min that day, then Tết; 60 more on Monday 3/2.
    assert D.due(vn(2025, 1, 24, 16), hours(2)) == vn(2025, 2, 3, 8, 30)


def test_add_zero_minutes_is_identity_and_negative_is_refused() -> None:
    start = datetime(2025, 3, 10, 5, tzinfo=UTC)
    assert D.add_working_minutes(start, 0) == start
    assert D.add_working_minutes(start, 0).tzinfo == VN
    with pytest.raises(ValueError):
        D.add_working_minutes(start, -1)


def test_working_minutes_between() -> None:
    assert D.working_minutes_between(vn(2025, 3, 10, 10), vn(2025, 3, 10, 14)) == 120
    assert D.working_minutes_between(vn(2025, 3, 14, 14), vn(2025, 3, 17, 14, 30)) == 480
    assert D.working_minutes_between(vn(2025, 3, 10, 10), vn(2025, 3, 10, 10)) == 0
    assert D.working_minutes_between(vn(2025, 3, 10, 14), vn(2025, 3, 10, 10)) == 0
    assert D.working_minutes_between(vn(2025, 3, 15, 0), vn(2025, 3, 16, 23)) == 0
    assert D.working_minutes_between(vn(2025, 3, 10, 0), vn(2025, 3, 15, 0)) == 5 * 450


# -- pauses and extension --------------------------------------------------------


def test_day_pause_monday_to_wednesday_is_two_days() -> None:
    assert D.pause_extension(days(5), vn(2025, 3, 10, 9), vn(2025, 3, 12, 8)) == 2


def test_day_pause_same_day_is_zero() -> None:
    assert D.pause_extension(days(5), vn(2025, 3, 10, 9), vn(2025, 3, 10, 16)) == 0


def test_day_pause_over_a_weekend_and_tet() -> None:
    assert D.pause_extension(days(5), vn(2025, 3, 14, 9), vn(2025, 3, 17, 9)) == 1
    assert D.pause_extension(days(5), vn(2025, 1, 24, 9), vn(2025, 2, 3, 9)) == 1


def test_hour_pause_counts_office_minutes() -> None:
    assert D.pause_extension(hours(8), vn(2025, 3, 10, 10), vn(2025, 3, 10, 14)) == 120
    assert D.pause_extension(hours(8), vn(2025, 3, 10, 10), vn(2025, 3, 10, 10, 30)) == 30


def test_extend_day_limit() -> None:
    due = vn(2025, 2, 5, 17)
    assert D.extend(due, days(3), 2) == vn(2025, 2, 7, 17)
    assert D.extend(due, days(3), 0) == due
    # Monday pause to Wednesday resume moves a Friday deadline to the next Tuesday.
    ext = D.pause_extension(days(3), vn(2025, 3, 10, 9), vn(2025, 3, 12, 9))
    assert D.extend(vn(2025, 3, 14, 17), days(3), ext) == vn(2025, 3, 18, 17)


def test_extend_hour_limit_continues_after_a_period_end() -> None:
    assert D.extend(vn(2025, 3, 10, 11, 30), hours(2), 30) == vn(2025, 3, 10, 14)
    assert D.extend(vn(2025, 3, 10, 17), hours(2), 30) == vn(2025, 3, 11, 8)
    assert D.extend(vn(2025, 3, 10, 11, 30), hours(2), 0) == vn(2025, 3, 10, 11, 30)
    with pytest.raises(ValueError):
        D.extend(vn(2025, 3, 10, 11, 30), hours(2), -5)


# -- timeliness, overdue, processing time --------------------------------------------


def test_timeliness_day_limit() -> None:
    due = vn(2025, 2, 5, 17)
    assert D.timeliness(vn(2025, 2, 4, 16), due, days(3)) == "early"
    assert D.timeliness(vn(2025, 2, 5, 8), due, days(3)) == "on_time"
    # Day limits judge dates only: 18:00 on the due date is on time.
    assert D.timeliness(vn(2025, 2, 5, 18), due, days(3)) == "on_time"
    assert D.timeliness(vn(2025, 2, 6, 8), due, days(3)) == "late"
    # 17:30 UTC on 5/2 is 00:30 on 6/2 in Vietnam.
    assert D.timeliness(datetime(2025, 2, 5, 17, 30, tzinfo=UTC), due, days(3)) == "late"


def test_timeliness_hour_limit() -> None:
    due = vn(2025, 3, 10, 16)
    assert D.timeliness(vn(2025, 3, 7, 16), due, hours(4)) == "early"
    assert D.timeliness(vn(2025, 3, 10, 15, 59), due, hours(4)) == "on_time"
    assert D.timeliness(vn(2025, 3, 10, 16), due, hours(4)) == "on_time"
    assert D.timeliness(vn(2025, 3, 10, 16, 1), due, hours(4)) == "late"
    assert D.timeliness(vn(2025, 3, 11, 8), due, hours(4)) == "late"


def test_timeliness_more_than_one_supplement_is_late() -> None:
    due = vn(2025, 2, 5, 17)
    assert D.timeliness(vn(2025, 2, 3, 9), due, days(3), supplement_count=1) == "early"
    assert D.timeliness(vn(2025, 2, 3, 9), due, days(3), supplement_count=2) == "late"
    assert D.timeliness(vn(2025, 2, 5, 9), due, hours(3), supplement_count=3) == "late"


def test_overdue() -> None:
    due = vn(2025, 2, 5, 17)
    assert not D.overdue(vn(2025, 2, 5, 23, 59), due, days(3))
    assert D.overdue(vn(2025, 2, 6, 0, 0), due, days(3))
    assert D.overdue(datetime(2025, 2, 5, 17, 30, tzinfo=UTC), due, days(3))
    assert not D.overdue(vn(2025, 2, 5, 17), due, hours(3))
    assert D.overdue(vn(2025, 2, 5, 17, 0, 1), due, hours(3))


def test_processing_working_days() -> None:
    intake = vn(2025, 1, 24, 10)
    assert D.processing_working_days(intake, vn(2025, 2, 5, 16)) == 3
    assert D.processing_working_days(intake, vn(2025, 2, 5, 16), paused_days=1) == 2
    assert D.processing_working_days(intake, vn(2025, 2, 5, 16), paused_days=10) == 0
    assert D.processing_working_days(intake, vn(2025, 1, 24, 16)) == 0
    assert D.processing_working_days(intake, vn(2025, 1, 31, 16)) == 0


def test_other_business_time_zone() -> None:
    utc_rules = Deadlines(CAL, OfficeHours.parse(tz="UTC"))
    due = utc_rules.due(datetime(2025, 3, 10, 10, tzinfo=UTC), hours(4))
    assert due == datetime(2025, 3, 10, 16, tzinfo=UTC)
    assert due.tzinfo == ZoneInfo("UTC")


def test_overrides_change_deadlines() -> None:
    rules = Deadlines(WorkingCalendar({date(2025, 3, 11): (False, "Nghỉ bão")}), HOURS_CFG)
    assert rules.due(vn(2025, 3, 10, 9), days(1)) == vn(2025, 3, 12, 17)
    assert rules.effective_intake(vn(2025, 3, 11, 9)) == vn(2025, 3, 12, 7, 30)


# -- properties ------------------------------------------------------------------

ZONES = st.sampled_from([VN, UTC, ZoneInfo("America/New_York"), timezone(timedelta(hours=9))])
INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=ZONES
)
MINUTE_INSTANTS = INSTANTS.map(lambda d: d.replace(second=0, microsecond=0))
LIMITS = st.one_of(
    st.builds(TimeLimit, st.integers(1, 60), st.just(DAYS)),
    st.builds(TimeLimit, st.integers(1, 120), st.just(HOURS)),
)


@given(INSTANTS, LIMITS)
def test_due_is_never_before_intake(accepted: datetime, limit: TimeLimit) -> None:
    intake = D.effective_intake(accepted)
    due = D.due(intake, limit)
    assert intake >= accepted
    assert due > intake and due > accepted
    assert due.tzinfo == VN and intake.tzinfo == VN
    # A due date always falls on a working day, inside (or at the end of) a period.
    assert CAL.is_working_day(due.date())
    assert any(start < due.time() <= end for start, end in HOURS_CFG.periods)


@given(INSTANTS, LIMITS, INSTANTS, INSTANTS)
def test_a_pause_never_moves_due_earlier(accepted: datetime, limit: TimeLimit,
                                         p: datetime, r: datetime) -> None:
    paused, resumed = min(p, r), max(p, r)
    due = D.due(D.effective_intake(accepted), limit)
    amount = D.pause_extension(limit, paused, resumed)
    assert amount >= 0
    moved = D.extend(due, limit, amount)
    assert moved >= due
    assert (moved == due) == (amount == 0)


@given(INSTANTS, LIMITS, INSTANTS, st.integers(0, 1))
def test_timeliness_agrees_with_dates(accepted: datetime, limit: TimeLimit,
                                      finished: datetime, supplements: int) -> None:
    due = D.due(D.effective_intake(accepted), limit)
    verdict = D.timeliness(finished, due, limit, supplements)
    finish_date, due_date = D.local(finished).date(), due.date()
    assert (verdict == "early") == (finish_date < due_date)
    late = finish_date > due_date or (limit.unit == HOURS and finished > due)
    assert (verdict == "late") == late
    assert D.timeliness(finished, due, limit, 2) == "late"


@given(INSTANTS, LIMITS, INSTANTS)
def test_overdue_agrees_with_timeliness(accepted: datetime, limit: TimeLimit, at: datetime) -> None:
    # Finishing at T is late exactly when being unfinished at T is overdue.
    due = D.due(D.effective_intake(accepted), limit)
    assert D.overdue(at, due, limit) == (D.timeliness(at, due, limit) == "late")


@given(INSTANTS, st.integers(0, 2000), st.integers(0, 2000))
def test_add_working_minutes_composes(start: datetime, a: int, b: int) -> None:
    # Holds even through period ends: from 11:30 the count continues at 13:30,
    # exactly where a single count of a+b minutes would have continued.
    assert D.add_working_minutes(start, a + b) == D.add_working_minutes(
        D.add_working_minutes(start, a), b
    )


@given(INSTANTS, st.integers(0, 3000))
def test_working_minutes_between_inverts_add(start: datetime, minutes: int) -> None:
    end = D.add_working_minutes(start, minutes)
    assert end >= start
    assert D.working_minutes_between(start, end) == minutes


@given(MINUTE_INSTANTS, MINUTE_INSTANTS, MINUTE_INSTANTS)
def test_working_minutes_between_is_additive(x: datetime, y: datetime, z: datetime) -> None:
    a, b, c = sorted((x, y, z))
    total = D.working_minutes_between(a, c)
    assert total == D.working_minutes_between(a, b) + D.working_minutes_between(b, c)


def _office_minute(t: datetime) -> bool:
    """Whether the local minute starting at t is office time on a working day."""
    wall = t.time()
    return CAL.is_working_day(t.date()) and any(s <= wall < e for s, e in HOURS_CFG.periods)


@given(MINUTE_INSTANTS, st.integers(1, 600))
def test_add_working_minutes_matches_minute_by_minute(start: datetime, minutes: int) -> None:
    t, counted = D.local(start), 0
    step = timedelta(minutes=1)
    while counted < minutes:
        if _office_minute(t):
            counted += 1
        t += step
    assert D.add_working_minutes(start, minutes) == t


@given(INSTANTS, INSTANTS)
def test_processing_days_bounds(a: datetime, b: datetime) -> None:
    intake, finished = min(a, b), max(a, b)
    n = D.processing_working_days(intake, finished)
    assert n == CAL.working_days_after(D.local(intake).date(), D.local(finished).date())
    assert D.processing_working_days(intake, finished, paused_days=n + 1) == 0
