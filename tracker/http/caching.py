"""Short public caching for the portal and phones: ETag, 304 and Cache-Control."""
from __future__ import annotations

import hashlib

import orjson
from flask import Response, request

#: Where answers may be cached briefly by browsers and proxies, with a body-hash ETag.
CACHED_PREFIXES = ("/api/v1/public/", "/lookup")
CACHE_CONTROL = "public, max-age=30"


def json_response(body, status: int = 200) -> Response:
    """An orjson-encoded JSON response (UTF-8, no escapes, aware datetimes in ISO 8601)."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def conditional_caching(response: Response) -> Response:
    """ETag (a hash of the body), 304 on a matching If-None-Match, a short Cache-Control.

    For successful GETs of the public API and pages; a view that set its own
    Cache-Control (a verified, unmasked answer; the statistics) keeps it.
    """
    if (response.status_code != 200 or request.method not in ("GET", "HEAD") or response.is_streamed
            or not request.path.startswith(CACHED_PREFIXES)):
        return response
    headers = response.headers
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = CACHE_CONTROL
    if "Vary" in headers:
        response.vary.add("Accept-Language")
    else:
        headers["Vary"] = "Accept-Language"
    headers["ETag"] = '"%s"' % hashlib.blake2b(response.get_data(), digest_size=16).hexdigest()
    if "If-None-Match" in request.headers:
        return response.make_conditional(request)
    return response
