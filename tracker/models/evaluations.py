"""The citizens' evaluations of their dossiers, the criteria they rate, and the service-index weights."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import UTCDateTime


class Evaluation(db.Model):
    """The applicant's evaluation of one dossier; a new one within the window replaces it in place."""

    __tablename__ = "evaluations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    overall: Mapped[str] = mapped_column(String(16))
    criteria: Mapped[dict] = mapped_column(JSON, default=dict)
    # Read by staff only: a comment may name people.
    comment: Mapped[str | None] = mapped_column(Text)
    first_given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvaluationCriterion(db.Model):
    """A criterion the applicant may rate besides the overall level (admin-managed)."""

    __tablename__ = "evaluation_criteria"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_vi: Mapped[str] = mapped_column(String(255))
    label_en: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class ServiceIndexWeight(db.Model):
    """The points a group of the service index is worth (admin-managed; Decision 766 by default)."""

    __tablename__ = "service_index_weights"
    group: Mapped[str] = mapped_column(String(16), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
