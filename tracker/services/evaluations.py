"""The citizens' evaluations of their dossiers, and the criteria they rate (docs/rules.md#rates).

An evaluation is given by the applicant, who proves who they are as for unmasking
the name (the ID number or phone, checked in constant time); the caller applies the
failed-verification throttle. It moves the evaluation counts of the day the dossier
was resolved, in the same transaction (``statistics.on_evaluation``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from tracker.domain.service_levels import EvaluationRefused, LEVELS, check_evaluation, level_label
from tracker.domain.statuses import normalize_language
from tracker.extensions import db
from tracker.models import Dossier, Evaluation, EvaluationCriterion
from tracker.models.types import utcnow
from tracker.services import audit, statistics
from tracker.services.audit import Actor
from tracker.services.errors import Conflict, Forbidden, Invalid, NotFound
from tracker.services.lookup import applicant_matches

# -- criteria -------------------------------------------------------------------------------------


def criteria(active_only: bool = False) -> list[EvaluationCriterion]:
    """The criteria in display order."""
    query = select(EvaluationCriterion).order_by(EvaluationCriterion.position, EvaluationCriterion.key)
    if active_only:
        query = query.where(EvaluationCriterion.active.is_(True))
    return list(db.session.scalars(query))


def criterion_by_key(key: str) -> EvaluationCriterion | None:
    """The criterion with this key, or None."""
    return db.session.get(EvaluationCriterion, key)


def public_criteria(lang: str) -> list[dict]:
    """``[{key, label}]`` of the active criteria in ``lang``."""
    english = normalize_language(lang) == "en"
    return [{"key": c.key, "label": c.label_en if english else c.label_vi} for c in criteria(active_only=True)]


def create_criterion(who: Actor, data: dict) -> EvaluationCriterion:
    """Add a criterion (409 when the key exists)."""
    if criterion_by_key(data["key"]) is not None:
        raise Conflict(f"A criterion with the key {data['key']} already exists.")
    criterion = EvaluationCriterion(key=data["key"], label_vi=data["label_vi"], label_en=data["label_en"],
                                    position=data.get("position") or 0, active=data.get("active", True))
    db.session.add(criterion)
    db.session.flush()
    audit.record(who, "evaluation_criterion.create", "evaluation_criterion", criterion.key, data)
    return criterion


def update_criterion(who: Actor, criterion: EvaluationCriterion, data: dict) -> EvaluationCriterion:
    """Relabel, reorder, retire or bring back a criterion; evaluations already given keep their levels."""
    for name in ("label_vi", "label_en", "position", "active"):
        if name in data:
            setattr(criterion, name, data[name])
    db.session.flush()
    audit.record(who, "evaluation_criterion.update", "evaluation_criterion", criterion.key, data)
    return criterion


# -- evaluations ----------------------------------------------------------------------------------


def evaluation_of(dossier: Dossier) -> Evaluation | None:
    """The dossier's evaluation, or None."""
    return db.session.scalar(select(Evaluation).where(Evaluation.dossier_id == dossier.id))


def _checked_criteria(given: dict | None) -> dict:
    given = given or {}
    known = {c.key for c in criteria(active_only=True)}
    errors = {f"criteria.{key}": [f"No criterion has the key {key!r}."] for key in given if key not in known}
    errors |= {f"criteria.{key}": [f"Must be one of: {', '.join(LEVELS)}."]
               for key, level in given.items() if key in known and level not in LEVELS}
    if errors:
        raise Invalid(errors, "The evaluation names a criterion or a level that does not exist.")
    return dict(sorted(given.items()))


def evaluate(dossier: Dossier, data: dict, now: datetime | None = None) -> tuple[Evaluation, bool]:
    """Record the applicant's evaluation; returns it and whether it replaced an earlier one.

    ``Forbidden`` when ``verify`` does not match the applicant (the caller counts the
    failure), ``Conflict`` when the dossier is not finished or the window is over.
    """
    now = now or utcnow()
    if not applicant_matches(dossier, data["verify"]):
        raise Forbidden("The ID number or phone number does not match the applicant of this dossier.")
    existing = evaluation_of(dossier)
    try:
        replaces = check_evaluation(dossier.status, existing.first_given_at if existing else None, now)
    except EvaluationRefused as refused:
        raise Conflict(str(refused)) from refused
    levels = _checked_criteria(data.get("criteria"))
    old = existing.overall if existing else None
    if existing is None:
        existing = Evaluation(dossier_id=dossier.id, first_given_at=now)
        db.session.add(existing)
    existing.overall, existing.criteria, existing.comment, existing.given_at = (
        data["overall"], levels, data.get("comment"), now)
    db.session.flush()
    statistics.on_evaluation(dossier, old, existing.overall)
    # Neither the comment nor the proof of identity goes into the audit trail.
    audit.record(Actor(ip=data.get("client_ip")), "dossier.evaluate", "dossier", dossier.code,
                 {"overall": existing.overall, "criteria": levels, "replaces": replaces}, at=now)
    return existing, replaces


def public_view(dossier: Dossier, evaluation: Evaluation, lang: str) -> dict:
    """What the applicant gets back: the levels and times, never the comment."""
    return {"code": dossier.code, "overall": evaluation.overall, "overall_label": level_label(evaluation.overall, lang),
            "criteria": evaluation.criteria or {}, "first_given_at": evaluation.first_given_at,
            "given_at": evaluation.given_at}


def staff_view(dossier: Dossier, evaluation: Evaluation, lang: str) -> dict:
    """The evaluation as staff read it, with the comment."""
    return {**public_view(dossier, evaluation, lang), "comment": evaluation.comment}


def staff_evaluation(dossier: Dossier) -> Evaluation:
    """The dossier's evaluation for staff; 404 when there is none."""
    evaluation = evaluation_of(dossier)
    if evaluation is None:
        raise NotFound(f"The dossier {dossier.code} has not been evaluated.")
    return evaluation
