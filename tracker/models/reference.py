"""Reference data: agencies, procedures and the calendar overrides."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.types import UTCDateTime, utcnow


class Agency(db.Model):
    """An agency (cơ quan, đơn vị); agencies form a tree of any depth."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    level: Mapped[str] = mapped_column(String(16), default="other")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Agency | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)

    @property
    def parent_code(self) -> str | None:
        return self.parent.code if self.parent else None


class Procedure(db.Model):
    """An administrative procedure (thủ tục hành chính) and its time limit."""

    __tablename__ = "procedures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(255), index=True)
    name_folded: Mapped[str] = mapped_column(String(500), default="")
    time_limit_value: Mapped[int] = mapped_column(Integer)
    time_limit_unit: Mapped[str] = mapped_column(String(16))
    # Decree 42/2022 level: full, partial or none (tracker.domain.service_levels).
    online_level: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def time_limit(self) -> dict:
        return {"value": self.time_limit_value, "unit": self.time_limit_unit}


class CalendarOverride(db.Model):
    """A local decision that makes a date a working day or a day off."""

    __tablename__ = "calendar_overrides"
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool]
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
