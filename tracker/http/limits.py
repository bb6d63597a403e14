"""The rate limits: the public budget per client, failed verifications per dossier, failed logins.

**Public.** One bucket per client address (``tracker.clients.client_address``, which
sees through the trusted reverse proxies) for all the public views together, sized by
``TRACKER_RATELIMIT_PUBLIC``: a scraper cannot multiply its budget by spreading its
requests over the lookup API, the lookup page and the statistics. Use ``public_limit``
on a view function, under the routing decorator, or on a whole blueprint::

    @bp.get("/stats")
    @public_limit
    def stats(): ...

    public_limit(bp)

**Verification.** Failed ``verify`` attempts are counted per dossier
(``TRACKER_RATELIMIT_VERIFY``); only failures count, so the plain lookup pays nothing.

**Logins.** Failed logins are counted per client address and per username
(``TRACKER_RATELIMIT_LOGIN``).

Counters live in ``TRACKER_RATELIMIT_STORAGE_URL`` (``tracker.ratelimit``). A client over
a limit gets 429 as a problem document with ``Retry-After``.
"""
from __future__ import annotations

import logging
from functools import lru_cache, wraps

from flask import Blueprint, current_app, request
from flask_smorest import abort
from limits import RateLimitItem
from limits import parse as parse_limit

from tracker.clients import client_address
from tracker.extensions import limiter
from tracker.http import metrics

log = logging.getLogger(__name__)

#: The limiter scope shared by the public views.
PUBLIC_SCOPE = "public"
VERIFY_SCOPE = "public-verify"
LOGIN_SCOPES = ("login-ip", "login-user")

#: Failed ``verify`` attempts allowed per dossier code (then 429 for everyone verifying it).
DEFAULT_VERIFY_LIMIT = "5 per 15 minutes"

#: The ``detail`` of the 429 problem documents.
PUBLIC_LIMIT_MESSAGE = ("Too many requests from your address to the public service: "
                        "wait for the number of seconds in Retry-After and try again.")
VERIFY_LIMIT_MESSAGE = ("Too many failed verifications for this dossier: wait for the number of "
                        "seconds in Retry-After before trying again.")
LOGIN_LIMIT_MESSAGE = ("Too many failed logins from this address or for this user: wait for the number "
                       "of seconds in Retry-After before trying again.")


@lru_cache(maxsize=16)
def parsed(rate: str) -> RateLimitItem:
    """A limit string, parsed once."""
    return parse_limit(rate)


def _refuse(message: str, item: RateLimitItem, *identifiers: str) -> None:
    metrics.count_refusal(identifiers[0])
    abort(429, message=message, headers={"Retry-After": str(limiter.retry_after(item, *identifiers))})


# -- the public budget ----------------------------------------------------------------------------

def public_rate() -> str:
    """The configured per-client limit, e.g. ``60/minute``."""
    return current_app.config["TRACKER_RATELIMIT_PUBLIC"]


def check_public_limit() -> None:
    """Count this request against the client's public budget; 429 past it."""
    # A portal's CORS preflight is not a lookup: counting it would halve the
    # budget of every browser that sends one.
    if not limiter.enabled or request.method == "OPTIONS":
        return
    item = parsed(public_rate())
    client = client_address()
    try:
        allowed = limiter.hit(item, PUBLIC_SCOPE, client)
    except Exception:  # the storage is down: serve rather than refuse every citizen
        log.warning("rate-limit storage unavailable; request let through", exc_info=True)
        return
    if not allowed:
        _refuse(PUBLIC_LIMIT_MESSAGE, item, PUBLIC_SCOPE, client)


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


# -- failed verifications of one dossier -----------------------------------------------------------

def _verify_limit() -> RateLimitItem:
    return parsed(current_app.config.get("TRACKER_RATELIMIT_VERIFY", DEFAULT_VERIFY_LIMIT))


def check_verify_allowed(code: str) -> None:
    """429 while the failed verifications of this dossier are over the limit (for every client)."""
    if limiter.enabled and not limiter.test(_verify_limit(), VERIFY_SCOPE, code):
        _refuse(VERIFY_LIMIT_MESSAGE, _verify_limit(), VERIFY_SCOPE, code)


def count_failed_verification(code: str) -> None:
    """One more failed ``verify`` for this dossier."""
    if limiter.enabled:
        limiter.hit(_verify_limit(), VERIFY_SCOPE, code)


# -- failed logins --------------------------------------------------------------------------------

def _login_buckets(username: str) -> list[tuple[str, str]]:
    return [(LOGIN_SCOPES[0], client_address()), (LOGIN_SCOPES[1], str(username).strip().lower()[:64])]


def _login_limit() -> RateLimitItem:
    return parsed(current_app.config["TRACKER_RATELIMIT_LOGIN"])


def check_login_allowed(username: str) -> None:
    """429 while this address, or this username, has used up its failed logins."""
    if not limiter.enabled:
        return
    item = _login_limit()
    for bucket in _login_buckets(username):
        if not limiter.test(item, *bucket):
            _refuse(LOGIN_LIMIT_MESSAGE, item, *bucket)


def count_failed_login(username: str) -> None:
    """One more failed login for this address and for this username."""
    if limiter.enabled:
        for bucket in _login_buckets(username):
            limiter.hit(_login_limit(), *bucket)
