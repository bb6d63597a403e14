"""Dossiers (hồ sơ), their processing steps and the per-agency daily code counters."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.people import User
from tracker.models.reference import Agency, Procedure
from tracker.models.types import UTCDateTime, utcnow


class Dossier(db.Model):
    """One application for one procedure, from registration to the handed-over result.

    The deadline fields are derived from the steps by the services and kept here so
    that lists, lookups and statistics never replay a history.
    """

    __tablename__ = "dossiers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    handling_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    procedure_id: Mapped[int] = mapped_column(ForeignKey("procedures.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), index=True)

    applicant_name: Mapped[str] = mapped_column(String(255))
    applicant_name_folded: Mapped[str] = mapped_column(String(255), index=True)
    applicant_id_number: Mapped[str | None] = mapped_column(String(12))
    applicant_phone: Mapped[str | None] = mapped_column(String(16))
    applicant_email: Mapped[str | None] = mapped_column(String(254))
    applicant_address: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)

    # The time limit as it was at acceptance: later changes to the procedure do not move it.
    limit_value: Mapped[int] = mapped_column(Integer)
    limit_unit: Mapped[str] = mapped_column(String(16))
    # The procedure's online level when the dossier came in, as the online rate counts it.
    online_level: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    # Service flags (docs/rules.md#rates): set at intake or by the accept, receive_payment and complete steps.
    digitized: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    paid_online: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    electronic_result: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    effective_intake_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(String(16))
    timeliness: Mapped[str | None] = mapped_column(String(16))
    supplement_count: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(foreign_keys=[agency_id], lazy="joined")
    handling_agency: Mapped[Agency] = relationship(foreign_keys=[handling_agency_id], lazy="joined")
    procedure: Mapped[Procedure] = relationship(lazy="joined")
    steps: Mapped[list[Step]] = relationship(
        back_populates="dossier", order_by="Step.seq", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_dossiers_agency_accepted", "agency_id", "accepted_at"),)


class Step(db.Model):
    """One processing step; appended, never edited or deleted."""

    __tablename__ = "steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    status_before: Mapped[str | None] = mapped_column(String(32))
    status_after: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    to_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    handler: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    public_note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(String(16))
    new_appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The audit record that seals this step's content (one record may seal many: an import batch).
    audit_id: Mapped[int | None] = mapped_column(Integer)
    # The flag a step sets (tracker.domain.service_levels.STEP_FLAGS); None when not given.
    digitized: Mapped[bool | None] = mapped_column(Boolean)
    online: Mapped[bool | None] = mapped_column(Boolean)
    electronic_result: Mapped[bool | None] = mapped_column(Boolean)

    dossier: Mapped[Dossier] = relationship(back_populates="steps")
    user: Mapped[User | None] = relationship(lazy="joined")
    agency: Mapped[Agency | None] = relationship(foreign_keys=[agency_id], lazy="joined")
    to_agency: Mapped[Agency | None] = relationship(foreign_keys=[to_agency_id], lazy="joined")

    __table_args__ = (UniqueConstraint("dossier_id", "seq", name="uq_steps_dossier_seq"),)


class DossierCounter(db.Model):
    """The last number given to a dossier of this agency on this local day."""

    __tablename__ = "dossier_counters"
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
