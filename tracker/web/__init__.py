"""Server-rendered pages for citizens: the dossier lookup, the public dashboard and the portal's widget.

Pages work without JavaScript, load nothing from other hosts (no CDN, no web
fonts: the phone's own fonts), and send a Content-Security-Policy allowing only
the service itself. Their templates live in ``templates/``, their stylesheet in
``static/``, served under ``/assets/``.
"""
from __future__ import annotations

from flask import Blueprint

#: Shared templates and static files of every page (``url_for("web.static", filename=...)``).
bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")

#: Only this service: no CDN, no external fonts, no inline scripts or styles.
CONTENT_SECURITY_POLICY = ("default-src 'self'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'self'; object-src 'none'")


def secure_page(response):
    """Headers every page carries: CSP, no MIME sniffing, no referrer (codes sit in URLs)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


bp.after_request(secure_page)
