"""Column types shared by the models, and the one place that converts stored timestamps."""
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def as_utc(value: datetime | str | None) -> datetime | None:
    """A stored timestamp (naive UTC, or SQLite's text form of it) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc)


def naive_utc(value: datetime) -> datetime:
    """An aware datetime as the naive UTC value the columns hold."""
    return value.astimezone(timezone.utc).replace(tzinfo=None)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned tz-aware.

    SQLite has no time zones; storing naive UTC and re-attaching the zone on the
    way out makes both databases give the same aware datetimes.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect):
        return as_utc(value)


def utcnow() -> datetime:
    """The server clock, in UTC."""
    return datetime.now(timezone.utc)
