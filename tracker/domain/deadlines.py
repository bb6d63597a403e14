"""Deadline rules (hạn giải quyết) and timeliness (Decision 766).

Pure domain code: every computation happens in the business time zone of
``OfficeHours``; inputs may be in any zone but must be tz-aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tracker.domain.calendar import OfficeHours, WorkingCalendar, time_to_us

DAYS = "working_days"
HOURS = "working_hours"
UNITS = (DAYS, HOURS)

EARLY = "early"
ON_TIME = "on_time"
LATE = "late"

_US_PER_MINUTE = 60_000_000
_END_OF_DAY_US = 24 * 60 * _US_PER_MINUTE


@dataclass(frozen=True)
class TimeLimit:
    """A procedure's time limit: ``value`` working days or working hours."""

    value: int
    unit: str

    def __post_init__(self) -> None:
        """Refuse non-positive values and unknown units."""
        # bool is an int subclass; True as "1 day" is always a caller bug.
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 1:
            raise ValueError(f"time limit value must be an integer >= 1, got {self.value!r}")
        if self.unit not in UNITS:
            raise ValueError(f"time limit unit must be {DAYS!r} or {HOURS!r}, got {self.unit!r}")


class Deadlines:
    """Deadline, pause, timeliness and processing-time rules on a working calendar."""

    def __init__(self, calendar: WorkingCalendar, hours: OfficeHours):
        """Bind the rules to a calendar and office-hour settings."""
        self.calendar = calendar
        self.hours = hours
        # Periods as microseconds since midnight: exact integer arithmetic, no float drift.
        self._periods = tuple((time_to_us(s), time_to_us(e)) for s, e in hours.periods)
        self._day_us = sum(e - s for s, e in self._periods)

    # -- time helpers ----------------------------------------------------

    def local(self, at: datetime) -> datetime:
        """Convert to the business time zone; ValueError on naive datetimes."""
        if not isinstance(at, datetime):
            raise ValueError(f"expected a datetime, got {at!r}")
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"naive datetime {at.isoformat()} (a time zone is required)")
        return at.astimezone(self.hours.tz)

    def _at(self, day: date, t: time) -> datetime:
        """The local instant of wall-clock time ``t`` on ``day``."""
        return datetime.combine(day, t, tzinfo=self.hours.tz)

    def _at_us(self, day: date, us: int) -> datetime:
        """The local instant ``us`` microseconds (wall clock) after midnight of ``day``."""
        return self._at(day, time(0)) + timedelta(microseconds=us)

    def _office_us(self, day: date, lo: int, hi: int) -> int:
        """Office time of ``day`` inside the wall-clock window [lo, hi), in microseconds."""
        if not self.calendar.is_working_day(day):
            return 0
        return sum(max(0, min(e, hi) - max(s, lo)) for s, e in self._periods)

    def _consume(self, start_us: int, remaining: int) -> tuple[int | None, int]:
        """Spend ``remaining`` office microseconds of one day from ``start_us``.

        Returns (end, 0) when the day suffices, else (None, what is left). Ending
        exactly at a period end returns that end: the count stops there rather
        than jumping to the next period's start.
        """
        for s, e in self._periods:
            if start_us >= e:
                continue
            begin = max(start_us, s)
            if remaining <= e - begin:
                return begin + remaining, 0
            remaining -= e - begin
        return None, remaining

    # -- deadlines -------------------------------------------------------

    def effective_intake(self, accepted_at: datetime) -> datetime:
        """The intake instant the clock starts from, after the cut-off rule.

        Accepted on a non-working day, or strictly after the cut-off on a
        working day, the dossier counts as accepted at the opening of the next
        working day. The comparison uses full precision: 15:00:00 counts that
        day, 15:00:01 does not.
        """
        at = self.local(accepted_at)
        day = at.date()
        if self.calendar.is_working_day(day) and at.time() <= self.hours.cutoff:
            return at
        return self._at(self.calendar.next_working_day(day), self.hours.opens)

    def due(self, effective_intake_at: datetime, limit: TimeLimit) -> datetime:
        """The legal deadline ``due_at`` for a limit counted from the effective intake."""
        start = self.local(effective_intake_at)
        if limit.unit == DAYS:
            # Civil Code counting: the intake day itself is not counted.
            return self._at(self.calendar.add_working_days(start.date(), limit.value), self.hours.closes)
        return self.add_working_minutes(start, limit.value * 60)

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        """``start`` plus ``minutes`` counted inside office periods of working days.

        A count ending exactly at a period end returns that end (11:30, not 13:30);
        0 minutes returns ``start`` unchanged (in local time).
        """
        if minutes < 0:
            raise ValueError("minutes must be >= 0")
        local = self.local(start)
        if minutes == 0:
            return local
        day, remaining = local.date(), minutes * _US_PER_MINUTE
        if self.calendar.is_working_day(day):
            end, remaining = self._consume(time_to_us(local.time()), remaining)
            if end is not None:
                return self._at_us(day, end)
        # Skip whole days at once; ceiling division keeps a remainder in (0, day]
        # so an exact multiple ends at closing time rather than next morning.
        whole_days = (remaining - 1) // self._day_us
        day = self.calendar.add_working_days(day, whole_days + 1)
        end, _ = self._consume(0, remaining - whole_days * self._day_us)
        assert end is not None  # the remainder fits in one day by construction
        return self._at_us(day, end)

    def working_minutes_between(self, a: datetime, b: datetime) -> int:
        """Whole office minutes of working days in [a, b); 0 if b <= a."""
        start, end = self.local(a), self.local(b)
        if end <= start:
            return 0
        first, last = start.date(), end.date()
        lo, hi = time_to_us(start.time()), time_to_us(end.time())
        if first == last:
            return self._office_us(first, lo, hi) // _US_PER_MINUTE
        # Full working days strictly between the two dates count as whole days.
        between = self.calendar.working_days_after(first, last)
        between -= 1 if self.calendar.is_working_day(last) else 0
        total = (
            self._office_us(first, lo, _END_OF_DAY_US)
            + between * self._day_us
            + self._office_us(last, 0, hi)
        )
        return total // _US_PER_MINUTE

    # -- pauses ----------------------------------------------------------

    def pause_start(self, paused_at: datetime, effective_intake_at: datetime | None) -> datetime:
        """When a pause starts to count: the later of its request and the effective intake.

        Time before the effective intake was never counted, so it is never paused
        either (docs/rules.md#pauses). Without a known intake the request counts.
        """
        if effective_intake_at is None:
            return paused_at
        return max(paused_at, effective_intake_at)

    def pause_extension(self, limit: TimeLimit, paused_at: datetime, resumed_at: datetime,
                        effective_intake_at: datetime | None = None) -> int:
        """Working time elapsed in a pause: working days (DAYS) or working minutes (HOURS).

        The pause counts from ``pause_start``: for day limits, the working days
        after the later of the request day and the effective intake day, up to
        and including the resume day (so a same-day pause extends nothing); for
        hour limits, the working minutes after the later of the request time and
        the effective intake.
        """
        start = self.pause_start(paused_at, effective_intake_at)
        if limit.unit == DAYS:
            return self.paused_working_days(start, resumed_at)
        return self.working_minutes_between(start, resumed_at)

    def paused_working_days(self, start: datetime, resumed_at: datetime) -> int:
        """Working days after ``start``'s day up to and including ``resumed_at``'s day."""
        return self.calendar.working_days_after(self.local(start).date(), self.local(resumed_at).date())

    def extend(self, due_at: datetime, limit: TimeLimit, amount: int) -> datetime:
        """Move ``due_at`` later by ``amount`` (working days or working minutes, per the limit)."""
        if amount < 0:
            raise ValueError("amount must be >= 0")
        local = self.local(due_at)
        if amount == 0:
            return local
        if limit.unit == DAYS:
            return self._at(self.calendar.add_working_days(local.date(), amount), self.hours.closes)
        # At a period end (e.g. 11:30) the count naturally continues from the next period.
        return self.add_working_minutes(local, amount)

    # -- judging ---------------------------------------------------------

    def timeliness(
        self,
        finished_at: datetime,
        due_at: datetime,
        limit: TimeLimit,
        supplement_count: int = 0,
    ) -> str:
        """``"early"``, ``"on_time"`` or ``"late"`` per the Decision 766 rule."""
        # 766 scoring: the law allows one supplement request; more is late whatever the dates.
        if supplement_count > 1:
            return LATE
        finished, due = self.local(finished_at), self.local(due_at)
        if finished.date() < due.date():
            return EARLY
        if finished.date() > due.date():
            return LATE
        if limit.unit == HOURS and finished > due:
            return LATE
        return ON_TIME

    def overdue(self, at: datetime, due_at: datetime, limit: TimeLimit) -> bool:
        """Whether an unfinished dossier is overdue at instant ``at``."""
        now, due = self.local(at), self.local(due_at)
        if limit.unit == DAYS:
            return now.date() > due.date()
        return now > due

    def processing_working_days(
        self,
        effective_intake_at: datetime,
        finished_at: datetime,
        paused_days: int = 0,
    ) -> int:
        """Working days after the intake day up to and including the finish day, minus pauses (>= 0)."""
        counted = self.calendar.working_days_after(
            self.local(effective_intake_at).date(), self.local(finished_at).date()
        )
        return max(0, counted - paused_days)
