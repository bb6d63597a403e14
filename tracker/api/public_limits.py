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

Counters live in the limiter's storage, ``TRACKER_RATELIMIT_STORAGE_URL``
(``memory://`` by default, a Redis URL in production so that all workers share
them), and are counted by the limiter's own strategy. The check is made here,
in one call, rather than through Flask-Limiter's per-request resolution of
decorated limits: that resolution cost the public lookup, the hottest path of
the service, a third of its time. A client over the limit gets 429 as a problem
document with ``Retry-After``.
"""
from __future__ import annotations

import logging
import math
import time
from functools import lru_cache, wraps

from flask import Blueprint, current_app, request
from flask_smorest import abort
from limits import RateLimitItem
from limits import parse as parse_limit

from tracker.clients import client_address
from tracker.extensions import limiter

log = logging.getLogger(__name__)

#: The limiter scope shared by the public views.
PUBLIC_SCOPE = "public"

#: The ``detail`` of the 429 problem document.
PUBLIC_LIMIT_MESSAGE = ("Too many requests from your address to the public service: "
                        "wait for the number of seconds in Retry-After and try again.")


def public_rate() -> str:
    """The configured per-client limit, e.g. ``60/minute``."""
    return current_app.config["TRACKER_RATELIMIT_PUBLIC"]


@lru_cache(maxsize=16)
def parsed(rate: str) -> RateLimitItem:
    """A limit string, parsed once."""
    return parse_limit(rate)


def retry_after(item: RateLimitItem, *identifiers: str) -> int:
    """Seconds until the window of ``item`` for these identifiers resets (1 to the window)."""
    reset_at = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    return max(1, min(item.get_expiry(), math.ceil(reset_at - time.time())))


def check_public_limit() -> None:
    """Count this request against the client's public budget; 429 past it."""
    # A portal's CORS preflight is not a lookup: counting it would halve the
    # budget of every browser that sends one.
    if not limiter.enabled or request.method == "OPTIONS":
        return
    item = parsed(public_rate())
    client = client_address()
    try:
        allowed = limiter.limiter.hit(item, PUBLIC_SCOPE, client)
    except Exception:  # the storage is down: serve rather than refuse every citizen
        log.warning("rate-limit storage unavailable; request let through", exc_info=True)
        return
    if not allowed:
        abort(429, message=PUBLIC_LIMIT_MESSAGE,
              headers={"Retry-After": str(retry_after(item, PUBLIC_SCOPE, client))})


def public_limit(target):
    """Apply the shared public limit to a view function or to a whole blueprint."""
    if isinstance(target, Blueprint):
        target.before_request(check_public_limit)
        return target

    @wraps(target)
    def limited(*args, **kwargs):
        check_public_limit()
        return target(*args, **kwargs)

    return limited
