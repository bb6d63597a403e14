"""Dossiers and steps as the staff API shows them."""
from __future__ import annotations

from tracker.domain.people import APPLICANT_FIELDS
from tracker.domain.progress import STEP_FIELDS
from tracker.domain.service_levels import STEP_FLAGS
from tracker.domain.statuses import STATUS_CODES, Status, status_label
from tracker.domain.workflow import action_label, allowed_actions
from tracker.models import Dossier, Step
from tracker.services.clock import is_overdue


def code_name(thing) -> dict | None:
    """``{code, name}`` of an agency or a procedure."""
    return {"code": thing.code, "name": thing.name} if thing is not None else None


def step_view(step: Step, lang: str) -> dict:
    """One step with its label in the caller's language."""
    return {
        "seq": step.seq, "action": step.action, "label": action_label(step.action, lang),
        "status_before": step.status_before, "status_after": step.status_after, "at": step.at,
        "user": step.user.username if step.user else None,
        "agency": step.agency.code if step.agency else None,
        "to_agency_code": step.to_agency.code if step.to_agency else None,
        **{name: getattr(step, name) for name in STEP_FIELDS},
        **{name: getattr(step, name) for _, name, _ in STEP_FLAGS},
    }


def dossier_view(dossier: Dossier, lang: str, with_steps: bool = True) -> dict:
    """The whole dossier object (docs/api-guide.md#the-clerks-workflow), with the derived fields."""
    view = {
        "code": dossier.code,
        "procedure": code_name(dossier.procedure),
        "agency": code_name(dossier.agency),
        "handling_agency": code_name(dossier.handling_agency),
        "channel": dossier.channel,
        "status": dossier.status,
        "status_code": STATUS_CODES[Status(dossier.status)],
        "status_label": status_label(dossier.status, lang),
        "applicant": {name: getattr(dossier, f"applicant_{name}") for name in APPLICANT_FIELDS},
        "note": dossier.note,
        "time_limit": {"value": dossier.limit_value, "unit": dossier.limit_unit},
        "overdue": is_overdue(dossier),
        "allowed_actions": allowed_actions(dossier.status),
    }
    for name in ("submitted_at", "accepted_at", "effective_intake_at", "due_at", "appointment_at", "finished_at",
                 "returned_at", "withdrawn_at", "result", "supplement_count", "timeliness", "version",
                 "online_level", "digitized", "paid_online", "electronic_result"):
        view[name] = getattr(dossier, name)
    if with_steps:
        view["steps"] = [step_view(step, lang) for step in dossier.steps]
    return view
