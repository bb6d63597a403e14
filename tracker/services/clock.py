"""The dossier's clock as stored: its columns read into, and written from, the pure ``DossierClock``.

Both the dossier service and the statistics read a dossier's dates through here, so
neither needs the other.
"""
from __future__ import annotations

from datetime import datetime

from tracker.domain import progress
from tracker.domain.deadlines import TimeLimit
from tracker.domain.people import APPLICANT_FIELDS, fold
from tracker.domain.service_levels import STEP_FLAGS
from tracker.models import Dossier
from tracker.models.types import utcnow
from tracker.services.calendar import deadlines

#: The dossier columns a step may move, named as ``DossierClock``'s fields.
CLOCK_FIELDS = ("status", "accepted_at", "effective_intake_at", "due_at", "appointment_at", "finished_at",
                "returned_at", "withdrawn_at", "paused_at", "paused_days", "supplement_count", "result",
                "timeliness")


def clock_of(dossier: Dossier) -> progress.DossierClock:
    """The dossier's dates as a pure clock."""
    clock = progress.DossierClock(status=dossier.status, limit=TimeLimit(dossier.limit_value, dossier.limit_unit))
    for name in CLOCK_FIELDS:
        setattr(clock, name, getattr(dossier, name))
    return clock


def store_clock(dossier: Dossier, clock: progress.DossierClock) -> None:
    """Write the clock's dates back to the dossier's columns."""
    for name in CLOCK_FIELDS:
        setattr(dossier, name, getattr(clock, name))


def is_overdue(dossier: Dossier, at: datetime | None = None) -> bool:
    """Whether the dossier is past its deadline now (or at ``at``); see docs/rules.md#overdue."""
    if dossier.status not in progress.OPEN:
        return False
    return progress.is_overdue(clock_of(dossier), at or utcnow(), deadlines())


def applicant_columns(applicant: dict) -> dict:
    """The ``applicant_*`` columns for the given applicant fields (and the folded name for search)."""
    columns = {f"applicant_{k}": applicant[k] for k in APPLICANT_FIELDS if k in applicant}
    if "name" in applicant:
        columns["applicant_name_folded"] = fold(applicant["name"])
    return columns


def store_flags(dossier: Dossier, flags) -> None:
    """Write the dossier's own service flags (``tracker.domain.service_levels.Flags``) to its columns."""
    dossier.digitized = flags.digitized
    dossier.paid_online = flags.paid_online
    dossier.electronic_result = flags.electronic_result


def step_flag_columns(fields: dict) -> dict:
    """The step's flag columns: the value given with the action that takes it, else None."""
    action = fields.get("action")
    return {name: (fields.get(name) if action == owner else None) for owner, name, _ in STEP_FLAGS}
