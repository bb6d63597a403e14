"""The working-day calendar in force: the package's holidays plus the override table."""
from __future__ import annotations

import threading
from datetime import date

from flask import current_app
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

    The overrides are read on every call (a small table) but the calendar, with
    its per-year caches, is rebuilt only when they changed.
    """
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
