"""Export in JSON Lines (docs/api-guide.md#import-and-export), the format ``tracker.services.importing.importer`` reads.

The export writes parents before their children and the calendar overrides before
the dossiers, so that its file imports as it is.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

import orjson
from sqlalchemy import select

from tracker.domain.statuses import Status
from tracker.domain.agencies import AgencyTree
from tracker.domain.people import APPLICANT_FIELDS
from tracker.domain.progress import STEP_FIELDS
from tracker.domain.service_levels import STEP_FLAGS
from tracker.domain.workflow import Action
from tracker.extensions import db
from tracker.models import Agency, CalendarOverride, Dossier, Evaluation, Procedure

BATCH = 2000  # dossiers read per query


def _parents_first(agencies: list[Agency]) -> list[Agency]:
    """Agencies by depth in the tree, then by id: a parent moved below a younger agency still comes first."""
    tree = AgencyTree(agencies)
    return sorted(agencies, key=lambda a: (tree.depth(a.id), a.id))


def export_records(rules_tz) -> Iterator[dict]:
    """Every agency, procedure, calendar override and dossier (with its steps) as import records."""
    for agency in _parents_first(db.session.scalars(select(Agency).order_by(Agency.id)).all()):
        yield {"type": "agency", "code": agency.code, "name": agency.name, "parent_code": agency.parent_code,
               "level": agency.level}
    for procedure in db.session.scalars(select(Procedure).order_by(Procedure.id)):
        yield {"type": "procedure", "code": procedure.code, "name": procedure.name, "field": procedure.field,
               "time_limit": procedure.time_limit, "online_level": procedure.online_level}
    for override in db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.date)):
        yield {"type": "calendar_override", "date": override.date.isoformat(), "working": override.working,
               "name": override.name}
    codes = dict(db.session.execute(select(Agency.id, Agency.code)).all())
    procedures = dict(db.session.execute(select(Procedure.id, Procedure.code)).all())
    last_id = 0
    while True:
        chunk = db.session.scalars(select(Dossier).where(Dossier.id > last_id).order_by(Dossier.id).limit(BATCH)).all()
        if not chunk:
            return
        evaluations = {e.dossier_id: e for e in db.session.scalars(
            select(Evaluation).where(Evaluation.dossier_id.in_([d.id for d in chunk])))}
        for dossier in chunk:
            yield _dossier_record(dossier, codes, procedures, rules_tz, evaluations)
        last_id = chunk[-1].id
        db.session.expunge_all()


def _local(value: datetime | None, tz) -> str | None:
    return value.astimezone(tz).isoformat() if value is not None else None


def _dossier_record(dossier: Dossier, codes: dict, procedures: dict, tz, evaluations: dict) -> dict:
    first, rest = dossier.steps[0], dossier.steps[1:]
    accepted = first.action == Action.ACCEPT
    applicant = {k: getattr(dossier, f"applicant_{k}") for k in APPLICANT_FIELDS}
    steps = []
    for step in rest:
        body = {"action": step.action, "at": _local(step.at, tz)}
        for name in STEP_FIELDS:
            value = getattr(step, name)
            if value is not None:
                body[name] = _local(value, tz) if name == "new_appointment_at" else value
        for _, name, _ in STEP_FLAGS:
            if getattr(step, name) is not None:
                body[name] = getattr(step, name)
        if step.to_agency_id is not None:
            body["to_agency_code"] = codes[step.to_agency_id]
        steps.append(body)
    return {
        "type": "dossier", "code": dossier.code, "procedure_code": procedures[dossier.procedure_id],
        "agency_code": codes[dossier.agency_id], "channel": dossier.channel,
        "status": Status.ACCEPTED.value if accepted else Status.REGISTERED.value,
        "applicant": {k: v for k, v in applicant.items() if v is not None},
        "note": dossier.note,
        "accepted_at": _local(first.at, tz) if accepted else None,
        "submitted_at": _local(dossier.submitted_at, tz),
        "time_limit": {"value": dossier.limit_value, "unit": dossier.limit_unit},
        "online_level": dossier.online_level,
        # The flags as they stand: set again at intake, they count as they did (docs/rules.md#rates).
        "digitized": dossier.digitized, "paid_online": dossier.paid_online,
        "steps": steps,
        "evaluation": _evaluation(evaluations.get(dossier.id), tz),
    }


def _evaluation(evaluation: Evaluation | None, tz) -> dict | None:
    if evaluation is None:
        return None
    return {"overall": evaluation.overall, "criteria": evaluation.criteria or {}, "comment": evaluation.comment,
            "first_given_at": _local(evaluation.first_given_at, tz), "given_at": _local(evaluation.given_at, tz)}


def dumps(record: dict) -> bytes:
    """One JSON line, Vietnamese kept as UTF-8."""
    return orjson.dumps({k: v for k, v in record.items() if v is not None}) + b"\n"
