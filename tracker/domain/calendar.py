"""Business calendar: Vietnamese working days and office hours.

Pure domain code (no Flask, no database). Holiday data comes from the
``holidays`` package (``holidays.VN``), never from a hand-written list; an
override mapping (the admin-managed table) is layered on top of it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
DEFAULT_CUTOFF = "15:00"
DEFAULT_PERIODS = "07:30-11:30,13:30-17:00"

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")

Period = tuple[time, time]


def parse_hhmm(text: str) -> time:
    """Parse ``H:MM`` or ``HH:MM`` (24-hour clock) into a ``time``; ValueError otherwise."""
    match = _HHMM.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"invalid time {text!r}: expected HH:MM")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"invalid time {text!r}: hour must be 0-23 and minute 0-59")
    return time(hour, minute)


def _parse_zone(name: str) -> ZoneInfo:
    """Resolve an IANA zone name, turning every failure into a ValueError."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("time zone must be a non-empty IANA name, e.g. Asia/Ho_Chi_Minh")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _parse_periods(text: str) -> tuple[Period, ...]:
    """Parse ``HH:MM-HH:MM,HH:MM-HH:MM`` into (start, end) pairs (validated later)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("office periods must not be empty, e.g. 07:30-11:30,13:30-17:00")
    periods: list[Period] = []
    for chunk in text.split(","):
        parts = chunk.split("-")
        if len(parts) != 2:
            raise ValueError(f"invalid office period {chunk.strip()!r}: expected HH:MM-HH:MM")
        periods.append((parse_hhmm(parts[0]), parse_hhmm(parts[1])))
    return tuple(periods)


def _check_periods(periods: tuple[Period, ...]) -> None:
    """Reject empty, empty-length, unordered, overlapping or touching periods."""
    if not periods:
        raise ValueError("office periods must not be empty")
    previous_end: time | None = None
    for start, end in periods:
        if start >= end:
            raise ValueError(f"office period {start:%H:%M}-{end:%H:%M} must end after it starts")
        # Touching periods are refused too: they are one period written as two,
        # and a spurious "period end" would change where minute counts stop.
        if previous_end is not None and start <= previous_end:
            raise ValueError(
                f"office periods must be increasing and must not overlap or touch "
                f"({start:%H:%M} starts before or at the previous end {previous_end:%H:%M})"
            )
        previous_end = end


def time_to_us(t: time) -> int:
    """Microseconds since midnight for a wall-clock time (exact integer arithmetic)."""
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


@dataclass(frozen=True)
class OfficeHours:
    """Business-time settings: business time zone, intake cut-off and office periods."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TZ))
    cutoff: time = time(15, 0)
    periods: tuple[Period, ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))

    def __post_init__(self) -> None:
        """Validate direct construction as strictly as ``parse``."""
        if not isinstance(self.tz, ZoneInfo):
            raise ValueError("tz must be a zoneinfo.ZoneInfo")
        if not isinstance(self.cutoff, time) or self.cutoff.tzinfo is not None:
            raise ValueError("cutoff must be a naive datetime.time")
        _check_periods(tuple(self.periods))
        object.__setattr__(self, "periods", tuple(tuple(p) for p in self.periods))

    @classmethod
    def parse(
        cls,
        tz: str = DEFAULT_TZ,
        cutoff: str = DEFAULT_CUTOFF,
        periods: str = DEFAULT_PERIODS,
    ) -> "OfficeHours":
        """Build settings from configuration strings; ValueError with a clear message on bad input."""
        return cls(tz=_parse_zone(tz), cutoff=parse_hhmm(cutoff), periods=_parse_periods(periods))

    @property
    def opens(self) -> time:
        """Start of the first office period (when a moved intake starts)."""
        return self.periods[0][0]

    @property
    def closes(self) -> time:
        """End of the last office period: deadlines of day limits fall at this time."""
        return self.periods[-1][1]

    @property
    def minutes_per_day(self) -> int:
        """Office minutes in one working day (whole minutes)."""
        total = sum(time_to_us(end) - time_to_us(start) for start, end in self.periods)
        return total // 60_000_000


@dataclass(frozen=True)
class _Year:
    """One year's precomputed calendar (immutable once built, so safe to share between threads)."""

    working: list[int]              # sorted ordinals of working days
    exceptions: frozenset[date]     # days whose status differs from the Mon-Fri rule
    names: dict[date, str]          # holiday or override names


class WorkingCalendar:
    """Vietnamese working days: holidays.VN (swaps included, via its is_working_day) plus overrides."""

    def __init__(self, overrides: Mapping[date, tuple[bool, str | None]] | None = None):
        """Create a calendar; ``overrides`` maps a date to (working, name) and wins over holidays.VN."""
        self._overrides: dict[date, tuple[bool, str | None]] = {}
        for day, (working, name) in (overrides or {}).items():
            if type(day) is not date:  # a datetime would silently never match a date key
                raise ValueError(f"override key must be a date, got {day!r}")
            self._overrides[day] = (bool(working), name)
        self._years: dict[int, _Year] = {}

    # -- cache -----------------------------------------------------------

    def _year(self, year: int) -> _Year:
        """The year's cache, built lazily once (a race builds it twice, harmlessly)."""
        cached = self._years.get(year)
        if cached is None:
            cached = self._build_year(year)
            self._years[year] = cached
        return cached

    def _build_year(self, year: int) -> _Year:
        """Query holidays.VN once for the whole year, then apply the overrides."""
        official = holidays.VN(years=year, language="vi")
        names: dict[date, str] = {day: name for day, name in official.items() if day.year == year}
        working: list[int] = []
        exceptions: set[date] = set()
        day, one = date(year, 1, 1), timedelta(days=1)
        while day.year == year:
            is_working = official.is_working_day(day)
            override = self._overrides.get(day)
            if override is not None:
                is_working = override[0]
                if override[1] is not None:
                    names[day] = override[1]
            if is_working:
                working.append(day.toordinal())
            if is_working != (day.weekday() < 5):
                exceptions.add(day)
            if day == date.max:
                break
            day += one
        return _Year(working=working, exceptions=frozenset(exceptions), names=names)

    # -- queries ---------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """True when ``d`` is a working day (after swaps and overrides)."""
        return (d.weekday() < 5) != (d in self._year(d.year).exceptions)

    def day_name(self, d: date) -> str | None:
        """The override name, else the Vietnamese holiday name, else None."""
        return self._year(d.year).names.get(d)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.add_working_days(d, 1)

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day strictly after ``d``; ``n == 0`` returns ``d``."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return d
        year, after = d.year, d.toordinal()
        while True:
            working = self._year(year).working
            index = bisect_right(working, after)
            available = len(working) - index
            if n <= available:
                return date.fromordinal(working[index + n - 1])
            n -= available
            year += 1
            if year > date.max.year:
                raise ValueError("date out of range")

    def working_days_after(self, a: date, b: date) -> int:
        """Number of working days in the half-open range (a, b]; 0 when b <= a."""
        if b <= a:
            return 0
        first = self._year(a.year).working
        if a.year == b.year:
            return bisect_right(first, b.toordinal()) - bisect_right(first, a.toordinal())
        count = len(first) - bisect_right(first, a.toordinal())
        for year in range(a.year + 1, b.year):
            count += len(self._year(year).working)
        return count + bisect_right(self._year(b.year).working, b.toordinal())

    def days(self, start: date, end: date) -> list[tuple[date, bool, str | None]]:
        """Every day of [start, end] inclusive as (date, working, name)."""
        result: list[tuple[date, bool, str | None]] = []
        day = start
        while day <= end:
            result.append((day, self.is_working_day(day), self.day_name(day)))
            if day == date.max:
                break
            day += timedelta(days=1)
        return result
