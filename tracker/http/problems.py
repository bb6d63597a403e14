"""Every error as an RFC 9457 problem document (``application/problem+json``).

The API's ``handle_http_exception`` (``tracker.api``) and the app's own error handlers
build every answer here, in one shape:
``{type, title, status, detail}`` plus ``errors`` (422) or ``allowed_actions`` (409).
"""
from __future__ import annotations

import marshmallow as ma
from flask import Response, json
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from tracker.schemas.errors import flatten_errors

PROBLEM_TYPE = "about:blank"
PROBLEM_CONTENT_TYPE = "application/problem+json"

# Sentences a person understands, for errors raised without a detail of their own.
DEFAULT_DETAILS = {
    400: "The request could not be read: check that the body is valid JSON.",
    401: "Authentication is required: send a valid, unexpired bearer token.",
    403: "Your role does not allow this operation.",
    404: "No such resource.",
    405: "This method is not allowed on this resource.",
    409: "The request conflicts with the current state of the resource.",
    412: "The resource has changed since you read it: fetch it again and retry.",
    413: "The request body is larger than 1 MiB.",
    415: "Send the body as application/json.",
    422: "The request is well-formed but some values are invalid.",
    428: "This write needs an If-Match header with the resource's ETag.",
    429: "Too many requests: slow down and retry later.",
    500: "An unexpected error occurred. It has been logged.",
}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as documented in the OpenAPI document."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))
    allowed_actions = ma.fields.List(ma.fields.String())


def problem_response(status: int, detail: str | None = None, title: str | None = None,
                     headers: dict | None = None, **extra) -> Response:
    """Build a problem+json response."""
    body = {
        "type": PROBLEM_TYPE,
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or DEFAULT_DETAILS.get(status, ""),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
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
