"""Statistics rules: report periods, the II.06a counters, and how one step moves them.

Pure domain code (no Flask, no database), the rule book's "Statistics" section in code:

- **Periods**: ``2025``, ``2025-03``, ``2025-Q1``, ``2025-H1``, ``2025-9M`` or explicit
  dates, always whole local days [from, to] (:func:`parse_period`, :func:`explicit_period`).
- **Counters**: what a report holds (:class:`Counters`) and how it is printed
  (the counters object, docs/rules.md#statistics-counters, :meth:`Counters.as_dict`; the II.06a columns, :data:`II06A_COLUMNS`).
- **Deltas**: what one step of one dossier adds to the counters of each local day
  (:func:`step_deltas`). Added up from the beginning of time to a day, the deltas give
  every cumulative figure of that day: dossiers open at its end, and how many of them
  were overdue at its end (:func:`overdue_profile`). The service stores them in
  day, month and year cells (:func:`range_cells`, :func:`cumulative_cells`) so that a
  report reads a few rows.

Pending dossiers are judged at the end of ``to``: a dossier is overdue there when
``progress.is_overdue`` says so for the dossier's state after every step of that day or
earlier, at the last instant of the day (:func:`end_of_day`). A period that ends today or
later is judged at the present instant instead (:func:`judge_day`): the rule book's
overdue test is about an instant, and only instants up to now have happened — judging
at a future instant would count as overdue a dossier that is not (yet), against facts
nobody has recorded.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.domain import progress
from tracker.domain.deadlines import DAYS, EARLY, LATE, ON_TIME, Deadlines
from tracker.domain.messages import N_, Message
from tracker.domain.service_levels import LEVELS, Flags
from tracker.domain.statuses import Status

__all__ = [
    "MIN_YEAR", "MAX_YEAR", "MAX_MONTH_GROUPS", "PeriodError", "Period", "parse_period", "explicit_period",
    "month_periods", "month_key", "range_cells", "cumulative_cells", "CUMULATIVE_START", "end_of_day", "judge_day",
    "COLUMNS", "RECEIVED", "EARLY_COL", "ON_TIME_COL", "LATE_COL", "WITHDRAWN", "PROCESSING_DAYS",
    "OVERDUE", "OVERDUE_NONWORKING", "FLOW_COLUMNS", "overdue_profile", "step_deltas", "accumulate", "Counters",
    "rate", "II06A_COLUMNS", "SERVICE_TABLE_COLUMNS", "SPREADSHEET_COLUMNS", "II06A_GROUPS", "II06A_SHORT", "RATE_GOOD", "RATE_FAIR", "rate_grade", "GROUP_BY",
    "SERVICE_COLUMNS", "flag_deltas", "history_flag_deltas", "evaluation_deltas",
]

#: Years a report may ask for: the lunar holidays of the calendar are known for these.
MIN_YEAR, MAX_YEAR = 1901, 2099
#: A report grouped by month covers at most this many months (ten years).
MAX_MONTH_GROUPS = 120
#: The ways a report can be split into groups.
GROUP_BY = ("agency", "procedure", "field", "month", "channel", "online_level")

PERIOD_HINT = N_("Use YYYY, YYYY-MM, YYYY-Q1..Q4, YYYY-H1, YYYY-H2 or YYYY-9M, e.g. 2025-Q1.")
_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q(\d)|H(\d)|(9M)))?$", re.ASCII)


class PeriodError(ValueError):
    """A period that does not exist; ``field`` names the query parameter at fault."""

    def __init__(self, field: str, template: str, *, hint: bool = False, **params):
        self.field = field
        #: The sentences, each translatable: what is wrong, then (``hint``) how periods are written.
        self.messages = [Message(template, **params)] + ([Message(PERIOD_HINT)] if hint else [])
        self.message = " ".join(str(m) for m in self.messages)
        super().__init__(self.message)


@dataclass(frozen=True)
class Period:
    """Local dates [start, end], both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the period spans."""
        return (self.end - self.start).days + 1


def _last_day_of_month(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _check_year(year: int, field: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(field, N_("The year must be between %(min)s and %(max)s."), min=MIN_YEAR, max=MAX_YEAR)


def parse_period(text: str) -> Period:
    """``YYYY``, ``YYYY-MM``, ``YYYY-Qn``, ``YYYY-H1``/``H2`` or ``YYYY-9M`` (any letter case).

    Raises :class:`PeriodError` (field ``period``) for anything else, e.g. ``2026-Q7``
    or ``2026-13``.
    """
    raw = text.strip().upper() if isinstance(text, str) else ""
    match = _PERIOD.fullmatch(raw)  # "$" alone would accept a trailing newline
    if match is None:
        raise PeriodError("period", N_("Unknown period '%(text)s'."), hint=True, text=text)
    year = int(match.group(1))
    _check_year(year, "period")
    month, quarter, half, nine = match.group(2), match.group(3), match.group(4), match.group(5)
    if month is not None:
        m = int(month)
        if not 1 <= m <= 12:
            raise PeriodError("period", N_("There is no month %(month)s in a year."), hint=True, month=month)
        return Period(date(year, m, 1), _last_day_of_month(year, m))
    if quarter is not None:
        q = int(quarter)
        if not 1 <= q <= 4:
            raise PeriodError("period", N_("A year has quarters Q1 to Q4, not Q%(quarter)s."), hint=True,
                              quarter=quarter)
        return Period(date(year, 3 * q - 2, 1), _last_day_of_month(year, 3 * q))
    if half is not None:
        h = int(half)
        if h not in (1, 2):
            raise PeriodError("period", N_("A year has halves H1 and H2, not H%(half)s."), hint=True, half=half)
        return Period(date(year, 6 * h - 5, 1), _last_day_of_month(year, 6 * h))
    if nine is not None:
        return Period(date(year, 1, 1), date(year, 9, 30))
    return Period(date(year, 1, 1), date(year, 12, 31))


def explicit_period(start: date, end: date) -> Period:
    """The period [start, end] of explicit dates; :class:`PeriodError` when impossible."""
    _check_year(start.year, "from")
    _check_year(end.year, "to")
    if end < start:
        raise PeriodError("to", N_("'to' must not be before 'from'."))
    return Period(start, end)


def month_key(day: date) -> str:
    """``YYYY-MM`` of a day."""
    return f"{day.year:04d}-{day.month:02d}"


def month_periods(period: Period) -> list[Period]:
    """The calendar months the period touches, each cut to the period."""
    result = []
    start = period.start
    while start <= period.end:
        end = min(period.end, _last_day_of_month(start.year, start.month))
        result.append(Period(start, end))
        start = end + timedelta(days=1)
    return result


# -- cells ----------------------------------------------------------------------------------------

#: Cumulative figures add every cell from this day on (long before any dossier).
CUMULATIVE_START = date(1, 1, 1)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _previous_month_start(day: date) -> date:
    return _month_start(_month_start(day) - timedelta(days=1))


def range_cells(first: date, last: date) -> list[tuple[str, date, date]]:
    """Cover the days [first, last] with as few day, month and year cells as possible.

    Returns ``(grain, lo, hi)`` triples: the cells of ``grain`` (``"d"``, ``"m"`` or
    ``"y"``) whose start date lies in [lo, hi]. A cell's start is its day, the first
    of its month, or the 1st of January of its year. The cells cover every day of the
    range exactly once; at most two day ranges, two month ranges and one year range.
    """
    if first > last:
        return []
    full_start = first if first.day == 1 else _month_start(_month_start(first) + timedelta(days=31))
    after = last + timedelta(days=1)
    full_end = _month_start(after)  # exclusive: months starting before it are whole
    if full_start >= full_end:
        return [("d", first, last)]
    cells = []
    if first < full_start:
        cells.append(("d", first, full_start - timedelta(days=1)))
    year_start = full_start if full_start.month == 1 else date(full_start.year + 1, 1, 1)
    year_end = date(full_end.year, 1, 1)  # exclusive
    if year_start >= year_end:
        cells.append(("m", full_start, _previous_month_start(full_end)))
    else:
        if full_start < year_start:
            cells.append(("m", full_start, _previous_month_start(year_start)))
        cells.append(("y", year_start, date(year_end.year - 1, 1, 1)))
        if year_end < full_end:
            cells.append(("m", year_end, _previous_month_start(full_end)))
    if full_end <= last:
        cells.append(("d", full_end, last))
    return cells


def _month_end(day: date) -> date:
    return _month_start(_month_start(day) + timedelta(days=31)) - timedelta(days=1)


def cumulative_cells(last: date) -> list[tuple[str, date, date, int]]:
    """Cells whose signed sum covers every day up to ``last`` (the cumulative figures).

    Returns ``(grain, lo, hi, sign)``; all the cells of one grain share a sign. The
    year of ``last`` is taken whole and the months (then days) after ``last`` are
    taken away, or the year is left out and the months (days) before it are added,
    whichever reads fewer cells: at most 6 month and 16 day cells. Cells may hold
    deltas dated after today (deadlines to come), which is why the subtraction is exact.
    """
    year, month = date(last.year, 1, 1), _month_start(last)
    day_count = last.day
    add_days = day_count <= _month_end(last).day - day_count
    # Days: add the month's days up to ``last``, or take the month whole and remove the rest.
    months_through = month if add_days else _month_start(month + timedelta(days=31))  # exclusive
    add_months = (months_through.month - 1 if months_through.year == last.year else 12) <= (
        12 - (months_through.month - 1 if months_through.year == last.year else 12))
    cells: list[tuple[str, date, date, int]] = []
    if add_months:
        if year > CUMULATIVE_START:
            cells.append(("y", CUMULATIVE_START, date(last.year - 1, 1, 1), 1))
        if months_through > year:
            cells.append(("m", year, _previous_month_start(months_through), 1))
    else:
        cells.append(("y", CUMULATIVE_START, year, 1))
        if months_through.year == last.year:
            cells.append(("m", months_through, date(last.year, 12, 1), -1))
    if add_days:
        cells.append(("d", month, last, 1))
    elif last < _month_end(last):
        cells.append(("d", last + timedelta(days=1), _month_end(last), -1))
    return cells


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last instant (to the microsecond) of a local day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) - timedelta(microseconds=1)


def judge_day(period_end: date, today: date) -> date:
    """The day at whose end pending dossiers are judged: ``to``, or today for later periods.

    For today itself the judging instant is now, not the end of the day (see the
    module docstring); only working-hour deadlines can tell the two apart.
    """
    return min(period_end, today)


# -- deltas ---------------------------------------------------------------------------------------

#: The columns of a day's delta vector, in storage order.
#: The service-level columns (docs/rules.md#rates): counted on the day the dossier was received
#: (``online_capable``, ``digitized``, ``paid``, ``paid_online``) or resolved (the others).
SERVICE_COLUMNS = ("online_capable", "digitized", "paid", "paid_online", "completed", "electronic_result",
                   "very_satisfied", "satisfied", "dissatisfied")
COLUMNS = ("received", "early", "on_time", "late", "withdrawn", "processing_days", "overdue",
           "overdue_nonworking", *SERVICE_COLUMNS)
RECEIVED, EARLY_COL, ON_TIME_COL, LATE_COL, WITHDRAWN, PROCESSING_DAYS, OVERDUE, OVERDUE_NONWORKING = range(8)
(ONLINE_CAPABLE_COL, DIGITIZED_COL, PAID_COL, PAID_ONLINE_COL, COMPLETED_COL, ELECTRONIC_RESULT_COL,
 VERY_SATISFIED_COL, SATISFIED_COL, DISSATISFIED_COL) = range(8, 8 + len(SERVICE_COLUMNS))
#: Columns that count events of a day (summed over a period); the rest are summed up to a day.
FLOW_COLUMNS = (*COLUMNS[:6], *SERVICE_COLUMNS)
_TIMELINESS_COLUMN = {EARLY: EARLY_COL, ON_TIME: ON_TIME_COL, LATE: LATE_COL}

def accumulate(sums: dict, key, vector: list[int]) -> None:
    """Add a delta vector into ``sums[key]``; a new key takes the vector over (it is not copied)."""
    current = sums.get(key)
    if current is None:
        sums[key] = vector
    else:
        for i, value in enumerate(vector):
            current[i] += value


def _add(deltas: dict[date, int], day: date, amount: int) -> None:
    if amount:
        deltas[day] = deltas.get(day, 0) + amount


def overdue_profile(clock: progress.DossierClock, start: date,
                    rules: Deadlines) -> tuple[dict[date, int], dict[date, int]]:
    """Whether the dossier, left as ``clock``, is overdue at the end of each day from ``start`` on.

    Returns ``(main, nonworking)``, two maps of day -> +1/-1 steps, such that for every
    day ``d >= start``::

        is_overdue(clock, end_of_day(d)) == sum(main[e] for e in start..d)
                                            + (d is not a working day) * sum(nonworking[e] for e in start..d)

    A running pause moves the deadline with the day judged, so the answer may change
    more than once; after a few days it settles into one of three patterns, which is
    what keeps the description finite:

    - not paused: overdue from the first day whose end is past ``due_at``, for ever;
    - paused, working-hour limit: from the deadline's day on, the pause adds exactly the
      office time that passes, so the answer no longer changes;
    - paused, working-day limit: from the first working day after the day the pause
      starts to count (the later of the request day and the effective intake day), the
      deadline is the ``s``-th working day after the latest working day, where ``s`` is
      the number of working days from that day to the deadline (negative when
      the deadline was already behind): never overdue when s > 0, always when s < 0,
      and overdue on exactly the non-working days when s == 0.

    The days before the pattern starts are judged one by one with ``progress.is_overdue``.
    ``start`` must not be before the day the running pause began (the clock does not
    know the deadline before that).
    """
    main: dict[date, int] = {}
    nonworking: dict[date, int] = {}
    if clock.status not in progress.OPEN or clock.due_at is None:
        return main, nonworking
    tz = rules.hours.tz

    def overdue_on(day: date) -> bool:
        return progress.is_overdue(clock, end_of_day(day, tz), rules)

    due_day = rules.local(clock.due_at).date()
    if clock.paused_at is None:
        # Without a pause the deadline stands still: is_overdue reduces to this comparison.
        at_end = rules.overdue(end_of_day(due_day, tz), clock.due_at, clock.limit)
        main[max(start, due_day if at_end else due_day + timedelta(days=1))] = 1
        return main, nonworking
    paused_day = rules.local(clock.paused_at).date()
    if start < paused_day:
        raise ValueError("the profile of a paused dossier starts on or after the day the pause began")
    calendar = rules.calendar
    if clock.limit.unit == DAYS:
        counted_from = rules.local(rules.pause_start(clock.paused_at, clock.effective_intake_at)).date()
        pattern_start = max(start, calendar.next_working_day(counted_from))
        ahead = (calendar.working_days_after(counted_from, due_day)
                 - calendar.working_days_after(due_day, counted_from))
        pattern: int | None = None if ahead == 0 else (1 if ahead < 0 else 0)
    else:
        pattern_start = max(start, due_day)
        pattern = 1 if overdue_on(pattern_start) else 0
    value, day = 0, start
    while day < pattern_start:
        now = 1 if overdue_on(day) else 0
        _add(main, day, now - value)
        value, day = now, day + timedelta(days=1)
    if pattern is None:
        _add(main, pattern_start, -value)
        _add(nonworking, pattern_start, 1)
    else:
        _add(main, pattern_start, pattern - value)
    return main, nonworking


def _same_profile(before: progress.DossierClock, after: progress.DossierClock) -> bool:
    """Whether both clocks give the same overdue profile (most steps: hand-offs, comments, apologies)."""
    was_open, is_open = before.status in progress.OPEN, after.status in progress.OPEN
    if not was_open and not is_open:
        return True
    return (was_open == is_open and before.due_at == after.due_at and before.paused_at == after.paused_at
            and before.limit == after.limit)


def step_deltas(before: progress.DossierClock, after: progress.DossierClock, at: datetime,
                rules: Deadlines) -> dict[date, list[int]]:
    """What one step (or the intake, from an empty clock) adds to the counters of each local day.

    ``before`` and ``after`` are the dossier's clock around a step recorded at ``at``.
    Flows are counted on the local day of the event: the acceptance, the finish (by its
    timeliness, with the processing working days), the withdrawal; dossiers never
    accepted count nowhere. The overdue columns swap the profile of ``before`` from the
    step's day on for that of ``after``. Days whose vector is all zeros are left out.
    """
    accepted = after.accepted_at is not None
    flows = accepted and (before.accepted_at is None or (before.finished_at is None and after.finished_at is not None)
                          or (before.withdrawn_at is None and after.withdrawn_at is not None))
    same = _same_profile(before, after)
    if not flows and same:
        return {}  # most steps: hand-offs, comments, apologies
    local = rules.local
    deltas: dict[date, list[int]] = defaultdict(lambda: [0] * len(COLUMNS))
    if flows:
        if before.accepted_at is None:
            deltas[local(after.accepted_at).date()][RECEIVED] += 1
        if before.finished_at is None and after.finished_at is not None:
            row = deltas[local(after.finished_at).date()]
            row[_TIMELINESS_COLUMN[after.timeliness]] += 1
            row[PROCESSING_DAYS] += rules.processing_working_days(
                after.effective_intake_at, after.finished_at, after.paused_days)
        if before.withdrawn_at is None and after.withdrawn_at is not None:
            deltas[local(after.withdrawn_at).date()][WITHDRAWN] += 1
    if not same:
        day = local(at).date()
        for clock, sign in ((before, -1), (after, 1)):
            main, nonworking = overdue_profile(clock, day, rules)
            for when, amount in main.items():
                deltas[when][OVERDUE] += sign * amount
            for when, amount in nonworking.items():
                deltas[when][OVERDUE_NONWORKING] += sign * amount
    return {when: row for when, row in deltas.items() if any(row)}


_RECEIVED_FLAGS = ((ONLINE_CAPABLE_COL, "online_capable"), (DIGITIZED_COL, "digitized"), (PAID_COL, "paid"),
                   (PAID_ONLINE_COL, "paid_online"))
_LEVEL_COLUMN = dict(zip(LEVELS, (VERY_SATISFIED_COL, SATISFIED_COL, DISSATISFIED_COL)))


def _completed(clock: progress.DossierClock) -> bool:
    """Resolved through ``complete``: finished, and done then (``returned`` only ever follows ``done``)."""
    return clock.finished_at is not None and clock.status in (Status.DONE, Status.RETURNED)


def flag_deltas(before: progress.DossierClock, after: progress.DossierClock, flags_before: Flags,
                flags_after: Flags, rules: Deadlines) -> dict[date, list[int]]:
    """What one step adds to the service-level columns (docs/rules.md#rates).

    A dossier counts in ``online_capable``, ``digitized``, ``paid`` and ``paid_online`` on
    the day it was received (a payment recorded later moves that day's figures), and in
    ``completed`` and ``electronic_result`` on the day it was resolved. Like
    :func:`step_deltas`, the answer is the difference between what the dossier counts
    for after the step and before it.
    """
    deltas: dict[date, list[int]] = {}

    def add(day: date, column: int, amount: int) -> None:
        if amount:
            deltas.setdefault(day, [0] * len(COLUMNS))[column] += amount

    if after.accepted_at is not None:
        day = rules.local(after.accepted_at).date()
        counted = before.accepted_at is not None
        for column, name in _RECEIVED_FLAGS:
            add(day, column, int(getattr(flags_after, name)) - int(counted and getattr(flags_before, name)))
    if after.finished_at is not None:
        day = rules.local(after.finished_at).date()
        was, now = _completed(before), _completed(after)
        add(day, COMPLETED_COL, int(now) - int(was))
        add(day, ELECTRONIC_RESULT_COL, int(now and flags_after.electronic_result)
            - int(was and flags_before.electronic_result))
    return deltas


def history_flag_deltas(clock: progress.DossierClock, flags: Flags, rules: Deadlines) -> dict[date, list[int]]:
    """The service-level deltas of a whole history at once, from its final clock and flags.

    The flags count on the day of receipt or of resolution, which never move once set,
    so the deltas :func:`flag_deltas` gives step by step add up to these.
    """
    return flag_deltas(progress.DossierClock(status=Status.REGISTERED, limit=clock.limit), clock, Flags(), flags,
                       rules)


def evaluation_deltas(finished_at: datetime | None, old: str | None, new: str | None,
                      rules: Deadlines) -> dict[date, list[int]]:
    """An evaluation given (``old`` None), replaced, or taken back (``new`` None), on the resolution day.

    Dossiers never resolved (not accepted) have no ``finished_at`` and enter no figure.
    """
    if finished_at is None or old == new:
        return {}
    row = [0] * len(COLUMNS)
    if old is not None:
        row[_LEVEL_COLUMN[old]] -= 1
    if new is not None:
        row[_LEVEL_COLUMN[new]] += 1
    return {rules.local(finished_at).date(): row}


# -- counters -------------------------------------------------------------------------------------

def rate(numerator: int, denominator: int, digits: int) -> float | None:
    """``numerator / denominator`` rounded half-even to ``digits`` places; None for 0/0."""
    if denominator == 0:
        return None
    return round(numerator / denominator, digits)


@dataclass
class Counters:
    """The figures of one report (or one group of it), as integers."""

    carried_over: int = 0
    online: int = 0
    direct: int = 0
    postal: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    pending: int = 0
    overdue: int = 0
    withdrawn: int = 0
    processing_days: int = 0
    # The service levels (docs/rules.md#rates); ``online_capable_online`` are those received online.
    online_capable: int = 0
    online_capable_online: int = 0
    digitized: int = 0
    paid: int = 0
    paid_online: int = 0
    completed: int = 0
    electronic_result: int = 0
    very_satisfied: int = 0
    satisfied: int = 0
    dissatisfied: int = 0

    def add(self, other: "Counters") -> None:
        """Add another group's figures to these."""
        for name in _COUNTER_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def received_total(self) -> int:
        """Carried over plus received within the period."""
        return self.carried_over + self.online + self.direct + self.postal

    @property
    def resolved_total(self) -> int:
        """Finished within the period."""
        return self.early + self.on_time + self.late

    @property
    def within_deadline(self) -> int:
        """Pending and not overdue."""
        return self.pending - self.overdue

    def as_dict(self) -> dict:
        """The counters object of the public statistics (docs/rules.md#statistics-counters).

        Rates are fractions rounded to 4 places, the mean processing time to 2; each is
        None when its denominator is zero.
        """
        early, on_time, late, pending = self.early, self.on_time, self.late, self.pending
        resolved, good, within = early + on_time + late, early + on_time, pending - self.overdue
        return {
            "received": {"total": self.carried_over + self.online + self.direct + self.postal,
                         "carried_over": self.carried_over, "online": self.online, "direct": self.direct,
                         "postal": self.postal},
            "resolved": {"total": resolved, "early": early, "on_time": on_time, "late": late},
            "pending": {"total": pending, "within_deadline": within, "overdue": self.overdue},
            "withdrawn": self.withdrawn,
            "on_time_rate": rate(good, resolved, 4),
            "progress_rate": rate(good + within, resolved + pending, 4),
            "avg_processing_working_days": rate(self.processing_days, resolved, 2),
            **self.service_levels(),
        }

    def service_levels(self) -> dict:
        """The evaluations and the service-level rates (docs/rules.md#rates), 4 places, None over 0."""
        resolved = self.resolved_total
        evaluated = self.very_satisfied + self.satisfied + self.dissatisfied
        return {
            "evaluations": {"total": evaluated, "very_satisfied": self.very_satisfied, "satisfied": self.satisfied,
                            "dissatisfied": self.dissatisfied},
            "online_rate": rate(self.online_capable_online, self.online_capable, 4),
            "online_payment_rate": rate(self.paid_online, self.paid, 4),
            "digitized_rate": rate(self.digitized, self.online + self.direct + self.postal, 4),
            "electronic_result_rate": rate(self.electronic_result, self.completed, 4),
            "satisfaction_rate": rate(resolved - self.dissatisfied, resolved, 4),
            "evaluation_rate": rate(evaluated, resolved, 4),
        }


_COUNTER_FIELDS = tuple(f.name for f in dataclass_fields(Counters))

#: The II.06a table: (path in COUNTERS, Vietnamese header, English header, kind).
#: ``kind`` is "count", "rate" (a fraction shown as a percentage) or "days".
II06A_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("received.total", "Tổng số hồ sơ tiếp nhận", "Total received", "count"),
    ("received.carried_over", "Kỳ trước chuyển qua", "Carried over", "count"),
    ("received.online", "Trực tuyến", "Online", "count"),
    ("received.direct", "Trực tiếp", "In person", "count"),
    ("received.postal", "Dịch vụ bưu chính", "Postal service", "count"),
    ("resolved.total", "Số hồ sơ đã giải quyết", "Resolved", "count"),
    ("resolved.early", "Trước hạn", "Early", "count"),
    ("resolved.on_time", "Đúng hạn", "On time", "count"),
    ("resolved.late", "Quá hạn", "Late", "count"),
    ("pending.total", "Số hồ sơ đang giải quyết", "Pending", "count"),
    ("pending.within_deadline", "Trong hạn", "Within deadline", "count"),
    ("pending.overdue", "Quá hạn", "Overdue", "count"),
    ("withdrawn", "Rút hồ sơ", "Withdrawn", "count"),
    ("on_time_rate", "Tỷ lệ đúng hạn", "On-time rate", "rate"),
    ("progress_rate", "Tỷ lệ đúng tiến độ", "Progress rate", "rate"),
    ("avg_processing_working_days", "Số ngày giải quyết trung bình", "Average working days", "days"),
)
#: The Decision 766 figures that the spreadsheets add after the II.06a columns (the dashboard
#: shows them in its service-index view, so that its II.06a table fits a desk screen).
SERVICE_TABLE_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("evaluations.total", "Số lượt đánh giá", "Evaluations", "count"),
    ("evaluations.very_satisfied", "Rất hài lòng", "Very satisfied", "count"),
    ("evaluations.satisfied", "Hài lòng", "Satisfied", "count"),
    ("evaluations.dissatisfied", "Không hài lòng", "Dissatisfied", "count"),
    ("online_rate", "Tỷ lệ hồ sơ trực tuyến", "Online rate", "rate"),
    ("online_payment_rate", "Tỷ lệ thanh toán trực tuyến", "Online payment rate", "rate"),
    ("digitized_rate", "Tỷ lệ số hóa hồ sơ", "Digitised rate", "rate"),
    ("electronic_result_rate", "Tỷ lệ trả kết quả điện tử", "Electronic result rate", "rate"),
    ("satisfaction_rate", "Tỷ lệ hài lòng", "Satisfaction rate", "rate"),
    ("evaluation_rate", "Tỷ lệ hồ sơ được đánh giá", "Evaluation rate", "rate"),
)
#: Every column of the CSV and XLSX downloads.
SPREADSHEET_COLUMNS = II06A_COLUMNS + SERVICE_TABLE_COLUMNS

#: The II.06a form's column groups (its first header row), by the first part of a column's path;
#: the columns of no group (withdrawn, the rates, the days) span both header rows.
II06A_GROUPS: dict[str, tuple[str, str]] = {
    "received": ("Tiếp nhận", "Received"),
    "resolved": ("Đã giải quyết", "Resolved"),
    "pending": ("Đang giải quyết", "Pending"),
    "evaluations": ("Đánh giá của người dân", "Citizens' evaluations"),
}
#: Second-row labels that differ from the full ones: under its group, a total is just "Total".
II06A_SHORT: dict[str, tuple[str, str]] = {
    "received.total": ("Tổng số", "Total"),
    "resolved.total": ("Tổng số", "Total"),
    "pending.total": ("Tổng số", "Total"),
    "evaluations.total": ("Tổng số", "Total"),
}
#: On-time and progress rates from this fraction up are good, from the second one up fair, below poor.
RATE_GOOD, RATE_FAIR = 0.9, 0.7


def rate_grade(value: float | None) -> str | None:
    """``good`` (>= 90%), ``fair`` (70% to 90%), ``poor`` (< 70%), or None for no rate."""
    if value is None:
        return None
    return "good" if value >= RATE_GOOD else "fair" if value >= RATE_FAIR else "poor"
