"""The citizens' evaluations (đánh giá mức độ hài lòng): given by the applicant, read by staff.

The applicant proves who they are with ``verify``, the ID number or phone on the
dossier, as for unmasking the name on the lookup, and under the same throttle of
failed attempts per dossier. Comments are read by staff only.
"""
from __future__ import annotations

from flask_jwt_extended import current_user
from flask_smorest import Blueprint, abort

from tracker.api.common import actor, language
from tracker.api.security import STAFF, roles_required
from tracker.api.unit_of_work import writes
from tracker.clients import client_address
from tracker.domain.codes import normalize_dossier_code
from tracker.extensions import db
from tracker.http.limits import check_verify_allowed, count_failed_verification, public_limit
from tracker.schemas.evaluations import (CriterionPatchSchema, CriterionSchema, EvaluationCreateSchema,
                                         EvaluationSchema, PublicCriterionSchema, StaffEvaluationSchema)
from tracker.services import dossiers, evaluations
from tracker.services.errors import Forbidden
from tracker.services.lookup import MAX_CODE_LENGTH

bp = Blueprint("evaluations", __name__, url_prefix="/api/v1",
               description="Citizens' evaluations of their dossiers and the criteria they rate.")


@bp.post("/public/dossiers/<path:code>/evaluation")
@public_limit
@bp.arguments(EvaluationCreateSchema())
@bp.response(201, EvaluationSchema)
@bp.alt_response(200, schema=EvaluationSchema, description="The evaluation replaced one given within 30 days.")
@bp.alt_response(403, description="`verify` is not the applicant's ID number or phone.")
@bp.alt_response(404, description="No dossier has this code.")
@bp.alt_response(409, description="The dossier is not finished yet, or its first evaluation is over 30 days old.")
@bp.alt_response(429, description="Too many failed verifications of this dossier; see Retry-After.")
@bp.doc(security=[])
def evaluate(data, code):
    """Evaluate a finished dossier (done, returned, stopped or not accepted): the overall level, optional
    levels per criterion and an optional comment read by staff only."""
    code = normalize_dossier_code(code)[:MAX_CODE_LENGTH + 1]
    dossier = dossiers.find(code)
    if dossier is None:
        abort(404, message=f"No dossier has the code {code[:MAX_CODE_LENGTH]}. Check the code printed on the receipt.")
    check_verify_allowed(dossier.code)
    try:
        evaluation, replaced = evaluations.evaluate(dossier, {**data, "client_ip": client_address()})
    except Forbidden:
        db.session.rollback()
        count_failed_verification(dossier.code)
        raise
    view = evaluations.public_view(dossier, evaluation, language())
    db.session.commit()
    return view, 200 if replaced else 201


@bp.get("/public/evaluation-criteria")
@public_limit
@bp.response(200, PublicCriterionSchema(many=True))
@bp.doc(security=[])
def public_criteria():
    """The criteria an evaluation may rate, labelled in the asked language (Accept-Language)."""
    return evaluations.public_criteria(language())


@bp.get("/dossiers/<path:code>/evaluation")
@roles_required(*STAFF)
@bp.response(200, StaffEvaluationSchema)
@bp.alt_response(404, description="Unknown, outside your subtree, or not evaluated.")
def staff_evaluation(code):
    """The applicant's evaluation of a dossier of your subtree, with the comment."""
    dossier = dossiers.visible(current_user, code)
    return evaluations.staff_view(dossier, evaluations.staff_evaluation(dossier), language())


def _criterion_or_404(key: str):
    criterion = evaluations.criterion_by_key(key)
    if criterion is None:
        abort(404, message=f"No criterion has the key {key}.")
    return criterion


@bp.get("/evaluation-criteria")
@roles_required("admin")
@bp.response(200, CriterionSchema(many=True))
def all_criteria():
    """Every criterion, retired ones included (admins)."""
    return evaluations.criteria()


@bp.post("/evaluation-criteria")
@roles_required("admin")
@writes
@bp.arguments(CriterionSchema())
@bp.response(201, CriterionSchema)
@bp.alt_response(409, description="The key exists already.")
def new_criterion(data):
    """Add a criterion (admins)."""
    return evaluations.create_criterion(actor(), data)


@bp.patch("/evaluation-criteria/<key>")
@roles_required("admin")
@writes
@bp.arguments(CriterionPatchSchema())
@bp.response(200, CriterionSchema)
def update_criterion(data, key):
    """Relabel, reorder, retire (`active: false`) or bring back a criterion (admins)."""
    return evaluations.update_criterion(actor(), _criterion_or_404(key), data)
