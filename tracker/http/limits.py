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

**Verification** and **logins** are attempts that only count when they fail: the plain
lookup and a right password pay nothing. Each attempt is counted in several buckets at
once, before it is tried (so that concurrent attempts on several workers cannot slip past
a limit), and given back when it did not fail:

* verification (``check_verify_allowed`` / ``count_failed_verification``): per client and
  dossier code, ``TRACKER_RATELIMIT_VERIFY``; per code alone,
  ``TRACKER_RATELIMIT_VERIFY_CODE`` (4 times as many unless set);
* logins (``check_login_allowed`` / ``count_failed_login``): per client and username,
  ``TRACKER_RATELIMIT_LOGIN``; per client alone, ``TRACKER_RATELIMIT_LOGIN_CLIENT``, and
  per username alone, ``TRACKER_RATELIMIT_LOGIN_USER`` (each 4 times as many unless set).

An attempt is refused when any of its buckets is used up. Why the buckets are shaped so:
a guesser is stopped by the bucket of their own address and target after a few tries,
while the citizen (or the clerk) at another address keeps their own bucket, so that
someone else's failures alone do not lock them out. The shared bucket of the code (of
the username) still caps a guesser who spreads the attempts over many addresses: it takes
four addresses' worth of failures, a deliberate effort rather than an accident, to lock
the dossier (the account) for everyone for the rest of the window. The per-client login
bucket stops one address from trying a few passwords on every account (the larger size
leaves room for an office of clerks behind one address who mistype).

Counters live in ``TRACKER_RATELIMIT_STORAGE_URL`` (``tracker.ratelimit``). A client over
a limit gets 429 as a problem document with ``Retry-After``.
"""
from __future__ import annotations

import logging
from functools import lru_cache, wraps

from flask import Blueprint, after_this_request, current_app, g, request
from flask_smorest import abort
from limits import RateLimitItem
from limits import parse as parse_limit

from tracker.clients import client_address
from tracker.domain.messages import N_
from tracker.extensions import limiter
from tracker.http import metrics

log = logging.getLogger(__name__)

#: The limiter scope shared by the public views.
PUBLIC_SCOPE = "public"
VERIFY_SCOPES = ("verify-client-code", "verify-code")
LOGIN_SCOPES = ("login-client-user", "login-client", "login-user")

#: Failed ``verify`` attempts allowed per client and dossier code.
DEFAULT_VERIFY_LIMIT = "5 per 15 minutes"
#: The shared bucket of a code or username is this many times the per-client one.
SHARED_FACTOR = 4

#: The ``detail`` of the 429 problem documents (translated when the answer is built).
PUBLIC_LIMIT_MESSAGE = N_("Too many requests from your address to the public service: "
                          "wait for the number of seconds in Retry-After and try again.")
VERIFY_LIMIT_MESSAGE = N_("Too many failed verifications for this dossier: wait for the number of "
                          "seconds in Retry-After before trying again.")
LOGIN_LIMIT_MESSAGE = N_("Too many failed logins from this address or for this user: wait for the number "
                         "of seconds in Retry-After before trying again.")
STORAGE_DOWN_MESSAGE = N_("The service cannot count attempts right now: try again in a minute.")


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


# -- attempts that count when they fail ----------------------------------------------------------

def _configured(name: str, base: RateLimitItem | None = None) -> RateLimitItem:
    """The limit in setting ``name``; when unset, ``SHARED_FACTOR`` times ``base`` over its window."""
    rate = current_app.config.get(name)
    if rate:
        return parsed(rate)
    return type(base)(base.amount * SHARED_FACTOR, base.multiples, base.namespace)


def _reserve(kind: str, buckets: list[tuple[RateLimitItem, tuple[str, ...]]], message: str) -> None:
    """Count one attempt in every bucket; 429 (counting nothing) when one is used up.

    The attempt is given back after the answer unless ``_failed(kind)`` is called.
    """
    if not limiter.enabled:
        return
    taken, over = [], None
    try:
        for item, identifiers in buckets:
            if not limiter.hit(item, *identifiers) and over is None:
                over = (item, identifiers)
            taken.append((item, identifiers))
    except Exception:  # guessing must not become free while the storage is down
        log.warning("rate-limit storage unavailable; attempt refused", exc_info=True)
        _give_back(taken)
        abort(503, message=STORAGE_DOWN_MESSAGE, headers={"Retry-After": "60"})
    if over is not None:
        _give_back(taken)
        _refuse(message, over[0], *over[1])
    attempts = g.setdefault("limited_attempts", {})
    attempts[kind] = taken

    @after_this_request
    def give_back_unless_failed(response):
        if attempts.get(kind):
            _give_back(attempts.pop(kind))
        return response


def _failed(kind: str) -> None:
    """The attempt reserved by ``_reserve(kind, ...)`` failed: it stays counted."""
    g.get("limited_attempts", {}).pop(kind, None)


def _give_back(taken) -> None:
    try:
        for item, identifiers in taken:
            limiter.give_back(item, *identifiers)
    except Exception:  # the attempt stays counted: erring on the safe side
        log.warning("rate-limit storage unavailable; attempt not given back", exc_info=True)


# -- failed verifications of one dossier -----------------------------------------------------------

def _verify_buckets(code: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    per_client = parsed(current_app.config.get("TRACKER_RATELIMIT_VERIFY") or DEFAULT_VERIFY_LIMIT)
    return [(per_client, (VERIFY_SCOPES[0], client_address(), code)),
            (_configured("TRACKER_RATELIMIT_VERIFY_CODE", per_client), (VERIFY_SCOPES[1], code))]


def check_verify_allowed(code: str) -> None:
    """Count a ``verify`` attempt on this dossier; 429 while this client's failures on it,
    or everyone's, are over their limits (see the module). Call before verifying."""
    _reserve("verify", _verify_buckets(code), VERIFY_LIMIT_MESSAGE)


def count_failed_verification(code: str) -> None:
    """The ``verify`` attempt on this dossier failed: it stays counted."""
    _failed("verify")


# -- failed logins --------------------------------------------------------------------------------

def _login_buckets(username: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    per_pair = parsed(current_app.config["TRACKER_RATELIMIT_LOGIN"])
    client, user = client_address(), str(username).strip().lower()[:64]
    return [(per_pair, (LOGIN_SCOPES[0], client, user)),
            (_configured("TRACKER_RATELIMIT_LOGIN_CLIENT", per_pair), (LOGIN_SCOPES[1], client)),
            (_configured("TRACKER_RATELIMIT_LOGIN_USER", per_pair), (LOGIN_SCOPES[2], user))]


def check_login_allowed(username: str) -> None:
    """Count a login attempt; 429 while this client, this username or the pair of them has
    used up its failed logins (see the module). Call before checking the password."""
    _reserve("login", _login_buckets(username), LOGIN_LIMIT_MESSAGE)


def count_failed_login(username: str) -> None:
    """The login attempt failed: it stays counted."""
    _failed("login")
