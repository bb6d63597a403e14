"""Every error as an RFC 9457 problem document (``application/problem+json``).

The API's ``handle_http_exception`` (``tracker.api``) and the app's own error handlers
build every answer here, in one shape:
``{type, title, status, detail}`` plus ``errors`` (422) or ``allowed_actions`` (409).

``title``, ``detail`` and the ``errors`` messages are translated into the request's
language (``tracker.http.i18n``) when the catalogs know them.
"""
from __future__ import annotations

import marshmallow as ma
from flask import Response, json
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from tracker.http.i18n import translate
from tracker.schemas.errors import flatten_errors

PROBLEM_TYPE = "about:blank"
PROBLEM_CONTENT_TYPE = "application/problem+json"


def N_(message: str) -> str:
    """Mark a message for the catalogs; it is translated when the answer is built."""
    return message


#: The titles, for the catalogs (werkzeug's reason phrases).
TITLES = [N_("Bad Request"), N_("Unauthorized"), N_("Forbidden"), N_("Not Found"), N_("Method Not Allowed"),
          N_("Conflict"), N_("Precondition Failed"), N_("Request Entity Too Large"), N_("Unsupported Media Type"),
          N_("Unprocessable Entity"), N_("Precondition Required"), N_("Too Many Requests"),
          N_("Internal Server Error")]

# Sentences a person understands, for errors raised without a detail of their own.
DEFAULT_DETAILS = {
    400: N_("The request could not be read: check that the body is valid JSON."),
    401: N_("Authentication is required: send a valid, unexpired bearer token."),
    403: N_("Your role does not allow this operation."),
    404: N_("No such resource."),
    405: N_("This method is not allowed on this resource."),
    409: N_("The request conflicts with the current state of the resource."),
    412: N_("The resource has changed since you read it: fetch it again and retry."),
    413: N_("The request body is larger than 1 MiB."),
    415: N_("Send the body as application/json."),
    422: N_("The request is well-formed but some values are invalid."),
    428: N_("This write needs an If-Match header with the resource's ETag."),
    429: N_("Too many requests: slow down and retry later."),
    500: N_("An unexpected error occurred. It has been logged."),
}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as documented in the OpenAPI document."""

    type = ma.fields.String(metadata={"description": "A URI naming the kind of problem; `about:blank` when the "
                                                    "status says it all.", "example": "about:blank"})
    title = ma.fields.String(metadata={"description": "The HTTP status phrase.", "example": "Unprocessable Entity"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code.", "example": 422})
    detail = ma.fields.String(metadata={"description": "What went wrong, in a sentence a person understands.",
                                        "example": "The action 'complete' needs more fields."})
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), metadata={
        "description": "422 only: per field (dotted path), what is wrong with it.",
        "example": {"result": ["Required."]}})
    allowed_actions = ma.fields.List(ma.fields.String(), metadata={
        "description": "409 only: the actions the dossier's current status allows."})


def problem_response(status: int, detail: str | None = None, title: str | None = None,
                     headers: dict | None = None, **extra) -> Response:
    """Build a problem+json response."""
    body = {
        "type": PROBLEM_TYPE,
        "title": translate(title or HTTP_STATUS_CODES.get(status, "Error")),
        "status": status,
        "detail": translate(detail or DEFAULT_DETAILS.get(status, "")),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    if isinstance(body.get("errors"), dict):
        body["errors"] = {field: [translate(m) for m in messages] if isinstance(messages, list) else messages
                          for field, messages in body["errors"].items()}
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def problem_from_exception(error: HTTPException) -> Response:
    """Map an HTTP exception (with webargs/abort data when present) to a problem response."""
    data = getattr(error, "data", None) or {}
    extra = {}
    errors = data.get("errors") or data.get("messages")
    if errors:
        extra["errors"] = flatten_errors(errors)
    if "allowed_actions" in data:
        extra["allowed_actions"] = data["allowed_actions"]
    detail = data.get("message")
    if detail is None and error.description and error.description != type(error).description:
        detail = error.description
    headers = dict(data.get("headers") or {})
    # Keep headers the exception prepared itself (Allow on 405, Retry-After on 429).
    for key, value in error.get_headers():
        if key.lower() != "content-type":
            headers.setdefault(key, value)
    return problem_response(error.code or 500, detail, headers=headers, **extra)
