"""Retention: erasing the applicant's personal data from dossiers finished long enough ago.

A finished dossier (done, returned, stopped, not accepted or withdrawn) whose last
step is older than the cut-off keeps only the masked name the public lookup shows;
its ID number, phone, e-mail and address are erased. Nothing that a statistic
counts (agency, procedure, channel, dates, steps) is touched, so every published
figure stays the same (see docs/rules.md#masking-and-personal-data).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import bindparam, func, or_, select, update

from tracker.domain.people import fold, mask_name
from tracker.domain.statuses import Status
from tracker.extensions import db
from tracker.models import Dossier, Step
from tracker.models.types import utcnow
from tracker.services import audit
from tracker.services.audit import Actor
from tracker.services.calendar import deadlines

FINISHED = (Status.DONE, Status.RETURNED, Status.STOPPED, Status.NOT_ACCEPTED, Status.WITHDRAWN)
PERSONAL = ("applicant_id_number", "applicant_phone", "applicant_email", "applicant_address")


def cutoff(day: date) -> datetime:
    """The start of ``day`` in the office's time zone: dossiers closed before it are anonymized."""
    return datetime.combine(day, datetime.min.time(), deadlines().hours.tz)


def candidates(day: date):
    """The ids of finished dossiers closed before ``day`` that still hold something to erase."""
    last_step = (select(Step.dossier_id, func.max(Step.at).label("closed_at"))
                 .group_by(Step.dossier_id).subquery())
    holds_data = or_(*(getattr(Dossier, name).is_not(None) for name in PERSONAL),
                     ~Dossier.applicant_name.contains("*"))
    return (select(Dossier.id).join(last_step, last_step.c.dossier_id == Dossier.id)
            .where(Dossier.status.in_([str(s) for s in FINISHED]), last_step.c.closed_at < cutoff(day), holds_data)
            .order_by(Dossier.id))


def count(day: date) -> int:
    """How many dossiers ``anonymize(day)`` would look at."""
    return db.session.scalar(select(func.count()).select_from(candidates(day).subquery()))


def anonymize(who: Actor, day: date, advance: Callable[[int], None] | None = None, batch: int = 1000) -> int:
    """Erase the personal data of the dossiers finished before ``day``; returns how many changed.

    One audit record for the run says when and how many, with no personal data.
    """
    table = Dossier.__table__
    erase = (update(table).where(table.c.id == bindparam("dossier_id"))
             .values(applicant_name=bindparam("masked"), applicant_name_folded=bindparam("folded"),
                     version=table.c.version + 1, updated_at=utcnow(), **dict.fromkeys(PERSONAL)))
    ids = db.session.scalars(candidates(day)).all()
    changed = 0
    for start in range(0, len(ids), batch):
        part = ids[start:start + batch]
        rows = db.session.execute(select(table.c.id, table.c.applicant_name).where(table.c.id.in_(part))).all()
        values = [{"dossier_id": i, "masked": mask_name(name), "folded": fold(mask_name(name))} for i, name in rows]
        if values:
            db.session.execute(erase, values)
        changed += len(values)
        if advance:
            advance(len(part))
    audit.record(who, "dossier.anonymize", "retention", day.isoformat(),
                 {"finished_before": day.isoformat(), "dossiers": changed})
    return changed
