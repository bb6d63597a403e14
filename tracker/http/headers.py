"""Headers every answer of the app carries, whatever produced it (views, errors, pages).

* ``X-Content-Type-Options: nosniff`` everywhere: a browser never guesses a type.
* ``Cache-Control: no-store`` on the staff API (everything under ``/api/v1`` but the
  public API and the OpenAPI document): dossiers, users and audit records must not stay
  in a browser's or a proxy's cache.
* ``Vary: Origin`` on the public API, where CORS answers depend on the caller's origin:
  a shared cache must not hand an answer made for one origin to another.
"""
from __future__ import annotations

from flask import Response, request

API_PREFIX = "/api/v1/"
PUBLIC_API_PREFIX = "/api/v1/public/"
#: Staff-free documents under the API prefix.
SHAREABLE_API_PATHS = frozenset({"/api/v1/openapi.json"})


def is_staff_path(path: str) -> bool:
    """Whether ``path`` is one of the staff API's."""
    return (path.startswith(API_PREFIX) and not path.startswith(PUBLIC_API_PREFIX)
            and path not in SHAREABLE_API_PATHS)


def common_headers(response: Response) -> Response:
    """The headers above (an app-wide ``after_request``)."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    path = request.path
    if is_staff_path(path):
        headers["Cache-Control"] = "no-store"
    elif path.startswith(PUBLIC_API_PREFIX):
        response.vary.add("Origin")
    return response
