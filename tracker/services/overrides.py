"""Local overrides of the national working-day calendar."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.domain.people import nfc
from tracker.extensions import db
from tracker.models import CalendarOverride
from tracker.services import audit, calendar
from tracker.services.audit import Actor
from tracker.services.errors import Conflict, NotFound


def overrides_query(start: date | None = None, end: date | None = None):
    """Overrides by date, within an optional range."""
    query = select(CalendarOverride).order_by(CalendarOverride.date)
    if start:
        query = query.where(CalendarOverride.date >= start)
    if end:
        query = query.where(CalendarOverride.date <= end)
    return query


def create_override(who: Actor, data: dict) -> CalendarOverride:
    """Declare a date working or not; deadlines computed from now on follow it."""
    if db.session.get(CalendarOverride, data["date"]) is not None:
        raise Conflict(f"{data['date']} has an override already: delete it first.")
    override = CalendarOverride(date=data["date"], working=data["working"], name=nfc(data["name"]))
    db.session.add(override)
    db.session.flush()
    calendar.forget()
    audit.record(who, "calendar_override.create", "calendar_override", data["date"].isoformat(), data)
    return override


def delete_override(who: Actor, day: date) -> None:
    """Remove the override of a date."""
    override = db.session.get(CalendarOverride, day)
    if override is None:
        raise NotFound(f"{day} has no override.")
    db.session.delete(override)
    db.session.flush()
    calendar.forget()
    audit.record(who, "calendar_override.delete", "calendar_override", day.isoformat(),
                 {"working": override.working, "name": override.name})
