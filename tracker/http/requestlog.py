"""One log line per request, and the request id that ties a request's lines together.

The id comes from the client's ``X-Request-ID`` when it is sane (at most 64 letters,
digits, ``-`` or ``_``: a load balancer's or a portal's own id), else it is generated;
either way the answer carries it back in ``X-Request-ID``. The line is written by the
``tracker.request`` logger at INFO with ``method``, ``path`` (never the query string,
which may hold a name or an ID number), ``status``, ``duration_ms`` and ``request_id``.
"""
from __future__ import annotations

import logging
import re
import uuid
from time import perf_counter

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

log = logging.getLogger("tracker.request")


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    return g.get("request_id") if has_request_context() else None


def start_request() -> None:
    """Take the client's request id (when sane) or make one, and start the clock."""
    given = request.headers.get(HEADER, "")
    g.request_id = given if SANE_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = perf_counter()


def finish_request(response: Response) -> Response:
    """Echo the request id and write the request's line."""
    request_id = g.get("request_id")
    if request_id is None:  # a request refused before ``start_request`` ran
        start_request()
        request_id = g.request_id
    response.headers[HEADER] = request_id
    if log.isEnabledFor(logging.INFO):
        duration_ms = round((perf_counter() - g.request_started) * 1000, 2)
        log.info("%s %s %s", request.method, request.path, response.status_code,
                 extra={"method": request.method, "path": request.path, "status": response.status_code,
                        "duration_ms": duration_ms, "request_id": request_id})
    return response


def install(app: Flask) -> None:
    """Give every request of ``app`` an id and a log line."""
    # First of all before_request hooks, so that a request refused by a later hook still has its id.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request(finish_request)
