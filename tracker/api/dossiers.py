"""Dossiers (hồ sơ) and their processing steps, for staff within their agency subtree."""
from __future__ import annotations

from flask import request, url_for
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from tracker.api.common import actor, language, paginate
from tracker.api.glossary import actions_table
from tracker.schemas.paging import page_schema
from tracker.schemas.dossiers import (DossierCreateSchema, DossierPatchSchema, DossierQuerySchema,
                                         DossierSchema, StepCreateSchema, StepResultSchema, StepSchema)
from tracker.api.presenters import dossier_view, step_view
from tracker.api.security import STAFF, WRITERS, roles_required
from tracker.api.unit_of_work import writes
from tracker.services import dossiers

bp = Blueprint("dossiers", __name__, url_prefix="/api/v1/dossiers",
               description="Dossiers and every step of their processing.")

DossierPageSchema = page_schema(DossierSchema)
IF_MATCH = {"parameters": [{"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
                            "description": "The ETag you read; 412 when the dossier has changed since."}]}
IDEMPOTENCY = {"parameters": [{"in": "header", "name": "Idempotency-Key", "required": False,
                               "schema": {"type": "string", "maxLength": 255},
                               "description": "Retries with the same key and body replay the first answer."}]}


def _etag(dossier) -> dict:
    return {"ETag": f'"{dossiers.etag(dossier)}"'}


def _headers(dossier) -> dict:
    return _etag(dossier) | {"Location": url_for("dossiers.get", code=dossier.code)}


def _for_write(code: str):
    """The dossier, locked for this transaction, if ``If-Match`` still names its version."""
    dossier = dossiers.visible(current_user, code, for_update=True)
    dossiers.check_version(dossier, request.if_match)
    return dossier


@bp.get("")
@roles_required(*STAFF)
@bp.arguments(DossierQuerySchema(), location="query")
@bp.response(200, DossierPageSchema)
def all(args):
    """Search the dossiers of your subtree."""
    page = paginate(dossiers.list_query(current_user, args), args["page"], args["page_size"])
    lang = language()
    page["items"] = [dossier_view(d, lang) for d in page["items"]]
    return page


#: Every API write with a body refuses one that is not JSON (tracker.http.hygiene).
NOT_JSON = "The body is not JSON: send it as application/json."


@bp.post("")
@roles_required(*WRITERS)
@writes
@bp.arguments(DossierCreateSchema())
@bp.response(201, DossierSchema)
@bp.alt_response(415, description=NOT_JSON)
@bp.alt_response(403, description="Not a writer, outside your subtree, or accepted_at given by a non-admin.")
@bp.doc(**IDEMPOTENCY)
def new(data):
    """Receive a dossier: accepted at the desk (default) or registered online awaiting acceptance."""
    dossier = dossiers.create(actor(), data)
    return dossier_view(dossier, language()), _headers(dossier)


@bp.get("/<path:code>")
@roles_required(*STAFF)
@bp.response(200, DossierSchema)
def get(code):
    """One dossier with its applicant and steps."""
    dossier = dossiers.visible(current_user, code)
    return dossier_view(dossier, language()), _etag(dossier)


@bp.patch("/<path:code>")
@roles_required(*WRITERS)
@writes
@bp.arguments(DossierPatchSchema())
@bp.response(200, DossierSchema)
@bp.alt_response(415, description=NOT_JSON)
@bp.alt_response(412, description="If-Match is stale.")
@bp.doc(**IF_MATCH)
def update(data, code):
    """Correct the applicant's details."""
    dossier = _for_write(code)
    dossiers.correct_applicant(actor(), dossier, data["applicant"])
    return dossier_view(dossier, language()), _etag(dossier)


STEP_DESCRIPTION = (
    "Each action is allowed from some statuses only (else 409 with `allowed_actions`) and needs "
    "some fields (else 422). `note` is internal; `public_note` and the `reason` of a notice are "
    "shown to the citizen. Only admins may give `at` (to load history).\n\n" + actions_table())


@bp.post("/<path:code>/steps")
@roles_required(*WRITERS)
@writes
@bp.arguments(StepCreateSchema())
@bp.response(201, StepResultSchema)
@bp.alt_response(415, description=NOT_JSON)
@bp.alt_response(409, description="The state machine refuses this action now; see allowed_actions.")
@bp.alt_response(412, description="If-Match is stale.")
@bp.doc(parameters=IF_MATCH["parameters"] + IDEMPOTENCY["parameters"], description=STEP_DESCRIPTION)
def new_step(data, code):
    """Append a processing step; the dossier's status and dates follow."""
    dossier = _for_write(code)
    step = dossiers.append_step(actor(), dossier, data)
    lang = language()
    return {"step": step_view(step, lang), "dossier": dossier_view(dossier, lang)}, _headers(dossier)


@bp.get("/<path:code>/steps")
@roles_required(*STAFF)
@bp.response(200, StepSchema(many=True))
def steps(code):
    """The steps of a dossier, in order."""
    dossier = dossiers.visible(current_user, code)
    lang = language()
    return [step_view(step, lang) for step in dossier.steps]
