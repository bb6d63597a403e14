"""Input hygiene for every request, API and pages alike: only text the app can hold gets in.

``refuse_unreadable_input`` runs before every view (an app-wide ``before_request``), so
that no view, schema or database driver ever sees:

* bytes that are not UTF-8 (invalid bytes, overlong forms, encoded surrogates) in the
  path, the query string, a header or a JSON body: 400;
* a JSON body nested deeper than ``MAX_JSON_DEPTH`` levels, with ``NaN``/``Infinity`` (not
  JSON) or a number too large for a float or for Python's integer parsing: 400, before
  marshmallow sees it;
* the NUL character (U+0000) or a lone UTF-16 surrogate (``"\\ud800"`` in a JSON string)
  in a query parameter, a JSON key or a JSON value: 422 naming the fields. No identifier
  or text of the application can contain them, PostgreSQL cannot even compare with a NUL,
  and no UTF-8 answer can hold a lone surrogate: without this such values failed deep
  inside with a 500.
"""
from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from flask import request
from flask_smorest import abort
from werkzeug.exceptions import NotFound

from tracker.domain.messages import N_
from tracker.schemas.fields import NUL, TooDeep, printable_name, text_problems

#: Deepest nesting of arrays and objects accepted in a JSON body (the API's own need 3).
MAX_JSON_DEPTH = 64
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_utf8(raw: str) -> bool:
    # WSGI hands the path, the query string and the headers over as latin-1 strings of the bytes.
    try:
        raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return True


def _refuse_bytes(where: str) -> None:
    abort(400, message=f"The {where} is not valid UTF-8 text.")


def _check_envelope() -> None:
    environ = request.environ
    if not _is_utf8(environ.get("PATH_INFO", "")):
        _refuse_bytes("path")
    if NUL in request.path:
        raise NotFound()
    query = environ.get("QUERY_STRING", "")
    if query:
        try:
            unquote_to_bytes(query.encode("latin-1")).decode("utf-8")
        except UnicodeError:
            _refuse_bytes("query string")
    for name, value in request.headers.items():
        if not value.isascii() and not _is_utf8(value):
            _refuse_bytes(f"{name} header")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:20]}… is too large")
    return number


def _json_body():
    """The body as JSON, read strictly (400 when it is not UTF-8, not JSON or too deep)."""
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        abort(400, message=f"The body is not valid UTF-8 text (byte {error.start}).")
    try:
        body = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        abort(400, message=f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
    except ValueError as error:
        abort(400, message=f"The body is not valid JSON: {error}.")
    return body


def refuse_unreadable_input() -> None:
    """Refuse what no view can handle (see the module); an app-wide ``before_request``."""
    _check_envelope()
    errors = {}
    for key, values in request.args.lists():
        problems = set(text_problems([key, *values]).values())
        if problems:
            errors[printable_name(key)] = sorted(problems)
    if request.method in BODY_METHODS and request.is_json and request.content_length != 0:
        body = _json_body() if request.get_data(cache=True) else None
        try:
            found = text_problems(body, MAX_JSON_DEPTH)
        except TooDeep:
            abort(400, message=f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
        errors.update({name: [problem] for name, problem in found.items()})
    if errors:
        abort(422, message=N_("Some values contain characters that are not text (NUL or a lone surrogate)."),
              errors=errors)


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
