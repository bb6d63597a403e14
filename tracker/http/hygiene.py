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
