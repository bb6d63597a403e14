"""The per-client rate limit shared by every public endpoint and page.

One bucket per client address (``tracker.clients.client_address``, which sees
through the trusted reverse proxies) for all the public views together, sized by
``TRACKER_RATELIMIT_PUBLIC``: a scraper cannot multiply its budget by spreading
its requests over the lookup API, the lookup page and the statistics.

Use ``public_limit`` on a view function, under the routing decorator::

    @bp.get("/stats")
    @public_limit
    def stats(): ...

or on a whole blueprint (every endpoint of it, static files included)::

    public_limit(bp)

Counters live in ``TRACKER_RATELIMIT_STORAGE_URL`` (``memory://`` by default, a
Redis URL in production so that all workers share them). A client over the
limit gets 429 as a problem document with ``Retry-After``.
"""
from __future__ import annotations

from flask import current_app, request

from tracker.extensions import limiter

#: The limiter scope shared by the public views.
PUBLIC_SCOPE = "public"

#: The ``detail`` of the 429 problem document.
PUBLIC_LIMIT_MESSAGE = ("Too many requests from your address to the public service: "
                        "wait for the number of seconds in Retry-After and try again.")


def public_rate() -> str:
    """The configured per-client limit, e.g. ``60/minute``."""
    return current_app.config["TRACKER_RATELIMIT_PUBLIC"]


def _is_preflight() -> bool:
    # A portal's CORS preflight is not a lookup: counting it would halve the
    # budget of every browser that sends one.
    return request.method == "OPTIONS"


#: Decorator (view function or blueprint) applying the shared public limit.
public_limit = limiter.shared_limit(public_rate, scope=PUBLIC_SCOPE, exempt_when=_is_preflight,
                                    error_message=PUBLIC_LIMIT_MESSAGE)
