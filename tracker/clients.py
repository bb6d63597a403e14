"""Who is calling: the client address as seen through the trusted reverse proxies."""
from flask import request


def client_address() -> str:
    """The caller's IP address.

    ``ProxyFix`` (configured with the number of trusted proxies) has already
    rewritten ``remote_addr`` from ``X-Forwarded-For`` when the app sits behind
    a reverse proxy; without trusted proxies the header is ignored, so a client
    cannot pick its own rate-limit bucket.
    """
    return request.remote_addr or "unknown"
