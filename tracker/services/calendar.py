"""The working-day calendar in force: the package's holidays plus the override table."""
from __future__ import annotations

import threading
from datetime import date

from flask import current_app, g, has_app_context
from sqlalchemy import select

from tracker.domain.calendar import WorkingCalendar
from tracker.domain.deadlines import Deadlines
from tracker.extensions import db
from tracker.models import CalendarOverride

_lock = threading.Lock()
_cache: dict[str, tuple[tuple, WorkingCalendar]] = {}


def load_overrides() -> dict[date, tuple[bool, str]]:
    """Every override, by date."""
    rows = db.session.execute(select(CalendarOverride.date, CalendarOverride.working, CalendarOverride.name))
    return {d: (working, name) for d, working, name in rows}


def working_calendar() -> WorkingCalendar:
    """The calendar with the current overrides.

    The overrides are read once per request or command (a small table, but a staff
    list judges every dossier on it) and the calendar, with its per-year caches, is
    rebuilt only when they changed. A change of the overrides calls ``forget``.
    """
    if has_app_context() and "tracker_calendar" in g:
        return g.tracker_calendar
    calendar = _current_calendar()
    if has_app_context():
        g.tracker_calendar = calendar
    return calendar


def forget() -> None:
    """Read the overrides again at the next use (they have just changed)."""
    if has_app_context():
        g.pop("tracker_calendar", None)


def _current_calendar() -> WorkingCalendar:
    overrides = load_overrides()
    fingerprint = tuple(sorted(overrides.items()))
    key = current_app.config["SQLALCHEMY_DATABASE_URI"]
    with _lock:
        cached = _cache.get(key)
        if cached is None or cached[0] != fingerprint:
            cached = (fingerprint, WorkingCalendar(overrides))
            _cache[key] = cached
    return cached[1]


def deadlines() -> Deadlines:
    """The deadline rules over the current calendar and the configured office hours."""
    return Deadlines(working_calendar(), current_app.config["OFFICE_HOURS"])
