"""Input hygiene for every request, API and pages alike."""
from __future__ import annotations

from flask import request
from flask_smorest import abort
from werkzeug.exceptions import NotFound

from tracker.domain.messages import N_
from tracker.schemas.fields import NUL, nul_fields


def refuse_nul_characters() -> None:
    """Refuse text with a NUL character before any view sees it (an app-wide before_request).

    No identifier or text of the application can contain U+0000, and PostgreSQL cannot
    even compare with such a string: without this, ``/agencies/a%00b`` or a name with
    ``\\u0000`` in a JSON body reached the driver and failed with a 500. (The problem
    document translates the messages.)
    """
    if NUL in request.path:
        raise NotFound()
    message = N_("Must not contain the NUL character (U+0000).")
    errors = {key.replace(NUL, "\\0"): [message] for key, values in request.args.lists()
              if NUL in key or any(NUL in v for v in values)}
    if request.method in {"POST", "PUT", "PATCH"} and request.is_json:
        errors.update({name: [message] for name in nul_fields(request.get_json(silent=True))})
    if errors:
        abort(422, message=N_("Some values contain a NUL character."), errors=errors)


def require_json_bodies() -> None:
    """Refuse an API body that is not JSON with 415 (an app-wide before_request).

    Without this, form data or JSON sent without its Content-Type was read as no body
    at all and answered with "missing field" errors for every field that was sent. A
    write with no body (``/auth/logout``) is let through: it has nothing to misread.
    """
    if request.method not in {"POST", "PUT", "PATCH"} or not request.path.startswith("/api/"):
        return
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if has_body and not request.is_json:
        given = request.mimetype or "none"
        abort(415, message=f"Send the body as application/json (the Content-Type was {given}).")
