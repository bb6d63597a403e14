"""The citizen's lookup over HTTP: where is my dossier? (no authentication, rate limited, CORS for the portal).

The view itself is read by ``tracker.services.lookup``; this module parses the
request, applies the limits and answers with orjson. The schemas below only
document the answer in the OpenAPI document.
"""
from __future__ import annotations

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint, abort

from tracker.domain.codes import normalize_dossier_code
from tracker.domain.statuses import Status, pick_language
from tracker.http.caching import json_response
from tracker.http.limits import check_verify_allowed, count_failed_verification, public_limit
from tracker.schemas.fields import CodeNameSchema
from tracker.services.lookup import MAX_CODE_LENGTH, find_public

bp = Blueprint("public", __name__, url_prefix="/api/v1/public",
               description="What citizens and the portal may read without an account.")

# -- the endpoint ---------------------------------------------------------------------------------

class PublicStepSchema(ma.Schema):
    seq = ma.fields.Integer()
    action = ma.fields.String(metadata={"description": "The step's action, or `register` for an online submission."})
    label = ma.fields.String(metadata={"description": "The step in the caller's language (Vietnamese by default)."})
    at = ma.fields.String(metadata={"format": "date-time", "example": "2025-01-24T10:00:00+07:00"})
    agency = ma.fields.String(allow_none=True, metadata={"description": "Code of the agency that recorded the step."})
    agency_name = ma.fields.String(allow_none=True)
    public_note = ma.fields.String(allow_none=True, metadata={"description": "What the office told the citizen."})
    reason = ma.fields.String(allow_none=True, metadata={
        "description": "The text of the notice the applicant received, for `refuse_intake` (why the dossier was "
                       "not accepted), `request_supplement` (what to bring), `stop` (why processing stopped) and "
                       "`apologize` (why the result is late); null for other actions."})
    new_appointment_at = ma.fields.String(allow_none=True, metadata={
        "format": "date-time", "description": "For `apologize`: the new date promised for the result; else null."})


class PublicDossierSchema(ma.Schema):
    code = ma.fields.String()
    procedure = ma.fields.Nested(CodeNameSchema)
    agency = ma.fields.Nested(CodeNameSchema)
    channel = ma.fields.String(metadata={"enum": ["direct", "online", "postal"]})
    status = ma.fields.String(metadata={"enum": [s.value for s in Status]})
    status_code = ma.fields.Integer(metadata={"description": "National status code, 1 to 10."})
    status_label = ma.fields.String(metadata={"description": "Follows Accept-Language: vi (default) or en."})
    accepted_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    due_at = ma.fields.String(allow_none=True, metadata={
        "format": "date-time",
        "description": "The legal deadline; a pause moves it later by the working time it lasted, once it ends."})
    appointment_at = ma.fields.String(allow_none=True, metadata={
        "format": "date-time",
        "description": "The date the result is promised for (moved by an apology). Null while the clock is paused "
                       "(`paused_since` set): it will move later by the paused time once the applicant answers."})
    finished_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    returned_at = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    timeliness = ma.fields.String(allow_none=True, metadata={"enum": ["early", "on_time", "late", None]})
    overdue = ma.fields.Boolean(metadata={"description": "Not finished and past its deadline now."})
    paused_since = ma.fields.String(allow_none=True, metadata={
        "format": "date-time",
        "description": "While the dossier waits for the applicant (documents or payment asked for: see the "
                       "`reason` of the latest `request_supplement` step), when the clock stopped; else null."})
    applicant_name = ma.fields.String(metadata={
        "description": "Masked (first letter of each word, the rest as *) unless `verify` matched."})
    verified = ma.fields.Boolean(metadata={"description": "Whether `verify` matched the applicant."})
    steps = ma.fields.List(ma.fields.Nested(PublicStepSchema))


LOOKUP_PARAMETERS = [
    {"in": "query", "name": "verify", "required": False, "schema": {"type": "string", "maxLength": 32},
     "description": "The applicant's ID number or phone number (0… or +84…): shows the full name. "
                    "Failed attempts on one dossier are limited; then 429. Prefer "
                    "`POST /public/dossiers/{code}/verify`, which keeps the number out of the URL."},
    {"in": "header", "name": "Accept-Language", "required": False, "schema": {"type": "string"},
     "description": "`vi` (default) or `en`, for the labels."},
    {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
     "description": "The ETag of an earlier answer: 304 when nothing changed."},
]


class VerifySchema(ma.Schema):
    verify = ma.fields.String(required=True, validate=ma.validate.Length(max=64), metadata={
        "description": "The applicant's ID number or phone number (0… or +84…): shows the full name."})


LOOKUP_RESPONSES = {
    404: "No dossier has this code.",
    429: "Too many requests from this client, or too many failed verifications of this dossier; "
         "see Retry-After.",
}


def _documented_errors(view):
    for status, description in LOOKUP_RESPONSES.items():
        view = bp.alt_response(status, description=description)(view)
    return view


@bp.get("/dossiers/<path:code>")
@bp.response(200, PublicDossierSchema)
@bp.alt_response(304, description="Not modified since the ETag in If-None-Match.")
@_documented_errors
@bp.doc(security=[], parameters=LOOKUP_PARAMETERS)
def get(code):
    """Look up a dossier by the code on the receipt.

    The code is read as people type it: any letter case, spaces around it, other dashes
    (– — −) or spaces in place of "-", full-width characters, invisible characters.
    """
    return _lookup(code, request.args.get("verify", ""))


@bp.post("/dossiers/<path:code>/verify")
@bp.arguments(VerifySchema())
@bp.response(200, PublicDossierSchema)
@_documented_errors
@bp.doc(security=[], parameters=LOOKUP_PARAMETERS[1:2])
def verify(data, code):
    """The lookup with the applicant's ID or phone number in the body rather than in the URL.

    The same answer as ``GET /public/dossiers/{code}?verify=…``, under the same limits;
    the number then stays out of browser histories and of every log of a URL.
    """
    return _lookup(code, data["verify"])


def _lookup(code: str, verify: str):
    verify = verify.strip()[:64] or None
    code = normalize_dossier_code(code)[:MAX_CODE_LENGTH + 1]
    if verify:
        check_verify_allowed(code)
    found = find_public(code, pick_language(request.headers.get("Accept-Language")), verify)
    if found is None:
        abort(404, message=f"No dossier has the code {code[:MAX_CODE_LENGTH]}. "
                           "Check the code printed on the receipt.")
    response = json_response(found.view)
    if verify:
        if found.verify_failed:
            count_failed_verification(code)
        # A full name must not sit in a shared cache.
        response.headers["Cache-Control"] = "private, no-store"
    return response


# Every endpoint of this blueprint shares the per-client public limit.
public_limit(bp)
