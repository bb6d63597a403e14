"""Tests of the Vietnamese working calendar and office-hour settings."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.calendar import OfficeHours, WorkingCalendar

CAL = WorkingCalendar()
DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


# -- holidays.VN data ----------------------------------------------------------


def test_tet_2025_is_not_working() -> None:
    for day in range(27, 32):
        assert not CAL.is_working_day(date(2025, 1, day)), day
    assert not CAL.is_working_day(date(2025, 2, 1))


def test_days_around_tet_2025_are_working() -> None:
    assert CAL.is_working_day(date(2025, 1, 24))  # Friday before Tết
    assert CAL.is_working_day(date(2025, 2, 3))   # Monday after Tết


def test_makeup_saturday_2025_is_working_and_bridge_day_is_not() -> None:
    assert date(2025, 4, 26).weekday() == 5
    assert CAL.is_working_day(date(2025, 4, 26))
    assert not CAL.is_working_day(date(2025, 5, 2))


def test_vietnamese_culture_day_from_2026() -> None:
    assert date(2026, 11, 24).weekday() == 1
    assert not CAL.is_working_day(date(2026, 11, 24))
    assert CAL.day_name(date(2026, 11, 24)) is not None


def test_ordinary_weekends_and_weekdays() -> None:
    assert not CAL.is_working_day(date(2025, 3, 15))  # Saturday
    assert not CAL.is_working_day(date(2025, 3, 16))  # Sunday
    assert CAL.is_working_day(date(2025, 3, 17))      # Monday
    assert CAL.day_name(date(2025, 3, 17)) is None


def test_national_holidays_2025() -> None:
    for day in (date(2025, 1, 1), date(2025, 4, 7), date(2025, 4, 30), date(2025, 5, 1),
                date(2025, 9, 1), date(2025, 9, 2)):
        assert not CAL.is_working_day(day), day


def test_vietnamese_names() -> None:
    assert "Tết" in CAL.day_name(date(2025, 1, 29))
    assert "Hùng Vương" in CAL.day_name(date(2025, 4, 7))
    assert CAL.day_name(date(2025, 1, 24)) is None


# -- overrides -----------------------------------------------------------------


def test_override_makes_a_tuesday_non_working_with_a_name() -> None:
    tuesday = date(2025, 3, 11)
    cal = WorkingCalendar({tuesday: (False, "Nghỉ bão")})
    assert CAL.is_working_day(tuesday)
    assert not cal.is_working_day(tuesday)
    assert cal.day_name(tuesday) == "Nghỉ bão"
    assert cal.next_working_day(date(2025, 3, 10)) == date(2025, 3, 12)


def test_override_makes_a_saturday_working() -> None:
    saturday = date(2025, 3, 15)
    cal = WorkingCalendar({saturday: (True, None)})
    assert cal.is_working_day(saturday)
    assert cal.day_name(saturday) is None
    assert cal.next_working_day(date(2025, 3, 14)) == saturday
    assert cal.working_days_after(date(2025, 3, 14), date(2025, 3, 17)) == 2


def test_override_wins_over_the_package_both_ways() -> None:
    cal = WorkingCalendar({
        date(2025, 4, 30): (True, "Làm việc theo quyết định địa phương"),
        date(2025, 4, 26): (False, None),
    })
    assert cal.is_working_day(date(2025, 4, 30))
    assert cal.day_name(date(2025, 4, 30)) == "Làm việc theo quyết định địa phương"
    assert not cal.is_working_day(date(2025, 4, 26))
    # The global calendar is untouched by another instance's overrides.
    assert not CAL.is_working_day(date(2025, 4, 30))


def test_override_keeps_the_holiday_name_when_none_given() -> None:
    cal = WorkingCalendar({date(2025, 4, 30): (True, None)})
    assert cal.is_working_day(date(2025, 4, 30))
    assert cal.day_name(date(2025, 4, 30)) == CAL.day_name(date(2025, 4, 30))


def test_override_key_must_be_a_date() -> None:
    from datetime import datetime

    with pytest.raises(ValueError):
        WorkingCalendar({datetime(2025, 3, 11): (False, "x")})


# -- arithmetic ----------------------------------------------------------------


def test_add_working_days_across_tet() -> None:
    assert CAL.add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)
    assert CAL.add_working_days(date(2025, 1, 24), 3) == date(2025, 2, 5)
    assert CAL.add_working_days(date(2025, 1, 24), 0) == date(2025, 1, 24)


def test_add_working_days_across_years() -> None:
    # 2025-12-31 is a Wednesday; 2026-01-01 is a holiday.
    assert CAL.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 2)
    assert CAL.add_working_days(date(2025, 12, 30), 3) == date(2026, 1, 5)
    assert CAL.add_working_days(date(2025, 12, 27), 1) == date(2025, 12, 29)


def test_working_days_after_across_years() -> None:
    assert CAL.working_days_after(date(2025, 12, 30), date(2026, 1, 5)) == 3
    assert CAL.working_days_after(date(2025, 12, 31), date(2026, 1, 1)) == 0
    assert CAL.working_days_after(date(2024, 12, 31), date(2026, 12, 31)) == sum(
        CAL.is_working_day(d) for d in _range(date(2025, 1, 1), date(2026, 12, 31))
    )


def test_working_days_after_empty_ranges() -> None:
    assert CAL.working_days_after(date(2025, 3, 10), date(2025, 3, 10)) == 0
    assert CAL.working_days_after(date(2025, 3, 12), date(2025, 3, 10)) == 0
    assert CAL.working_days_after(date(2025, 3, 10), date(2025, 3, 12)) == 2


def test_add_working_days_rejects_negative() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2025, 3, 10), -1)


def test_days_lists_the_inclusive_range() -> None:
    rows = CAL.days(date(2025, 1, 26), date(2025, 2, 3))
    assert [r[0] for r in rows] == list(_range(date(2025, 1, 26), date(2025, 2, 3)))
    assert [r[1] for r in rows] == [False] * 8 + [True]
    assert "Tết" in rows[3][2]
    assert rows[-1][2] is None
    assert CAL.days(date(2025, 2, 3), date(2025, 2, 2)) == []


# -- properties ----------------------------------------------------------------


def _range(start: date, end: date):
    """Every date of [start, end]."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


@given(DATES, st.integers(min_value=0, max_value=400))
def test_add_working_days_properties(d: date, n: int) -> None:
    result = CAL.add_working_days(d, n)
    if n == 0:
        assert result == d
    else:
        assert result > d
        assert CAL.is_working_day(result)
    assert CAL.working_days_after(d, result) == n


@given(DATES)
def test_next_working_day_matches_brute_force(d: date) -> None:
    expected = d + timedelta(days=1)
    while not CAL.is_working_day(expected):
        expected += timedelta(days=1)
    assert CAL.next_working_day(d) == expected


@given(DATES, st.integers(min_value=-30, max_value=500))
def test_working_days_after_matches_brute_force(a: date, span: int) -> None:
    b = a + timedelta(days=span)
    expected = sum(CAL.is_working_day(d) for d in _range(a + timedelta(days=1), b))
    assert CAL.working_days_after(a, b) == expected


@settings(max_examples=200)
@given(DATES)
def test_is_working_day_matches_holidays_package(d: date) -> None:
    assert CAL.is_working_day(d) == holidays.VN(years=d.year).is_working_day(d)


@given(DATES, DATES, st.booleans())
def test_overrides_only_change_their_own_day(d: date, other: date, working: bool) -> None:
    cal = WorkingCalendar({d: (working, "x")})
    assert cal.is_working_day(d) is working
    assert cal.day_name(d) == "x"
    if other != d:
        assert cal.is_working_day(other) == CAL.is_working_day(other)


# -- OfficeHours -----------------------------------------------------------------


def test_office_hours_defaults() -> None:
    hours = OfficeHours.parse()
    assert hours == OfficeHours()
    assert hours.tz == ZoneInfo("Asia/Ho_Chi_Minh")
    assert hours.cutoff == time(15, 0)
    assert hours.periods == ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
    assert hours.opens == time(7, 30)
    assert hours.closes == time(17, 0)
    assert hours.minutes_per_day == 450


def test_office_hours_custom() -> None:
    hours = OfficeHours.parse("Asia/Bangkok", "16:30", " 8:00-12:00 , 13:00-17:30 ")
    assert hours.tz == ZoneInfo("Asia/Bangkok")
    assert hours.cutoff == time(16, 30)
    assert hours.periods == ((time(8), time(12)), (time(13), time(17, 30)))
    assert hours.opens == time(8) and hours.closes == time(17, 30)


def test_office_hours_single_period() -> None:
    hours = OfficeHours.parse(periods="08:00-16:00")
    assert hours.opens == time(8) and hours.closes == time(16)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "time zone"),
        ({"tz": ""}, "time zone"),
        ({"tz": "../etc/passwd"}, "time zone"),
        ({"cutoff": "25:00"}, "time"),
        ({"cutoff": "15:60"}, "time"),
        ({"cutoff": "3pm"}, "HH:MM"),
        ({"cutoff": ""}, "HH:MM"),
        ({"periods": ""}, "empty"),
        ({"periods": "07:30"}, "HH:MM-HH:MM"),
        ({"periods": "07:30-11:30-12:00"}, "HH:MM-HH:MM"),
        ({"periods": "11:30-07:30"}, "end after"),
        ({"periods": "07:30-07:30"}, "end after"),
        ({"periods": "07:30-11:30,11:00-17:00"}, "overlap"),
        ({"periods": "13:30-17:00,07:30-11:30"}, "increasing"),
        ({"periods": "07:30-11:30,11:30-17:00"}, "touch"),
        ({"periods": "07:30-11:30,"}, "HH:MM"),
    ],
)
def test_office_hours_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OfficeHours.parse(**kwargs)


def test_office_hours_direct_construction_is_validated() -> None:
    with pytest.raises(ValueError):
        OfficeHours(periods=())
    with pytest.raises(ValueError):
        OfficeHours(periods=((time(12), time(8)),))
