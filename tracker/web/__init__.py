"""Server-rendered pages for citizens: the dossier lookup, the public dashboard and the portal's widget.

Pages work without JavaScript, load nothing from other hosts (no CDN, no web
fonts: the phone's own fonts), and send a Content-Security-Policy allowing only
the service itself. Their templates live in ``templates/``, their stylesheet in
``static/``, served under ``/assets/``. Every string is translated with Flask-Babel
(``tracker/translations``); the language is Vietnamese unless the visitor picked
English with the switch (``tracker.http.i18n``).
"""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import get_locale
from werkzeug.exceptions import TooManyRequests

from tracker.domain.statuses import LANGUAGES
from tracker.http.i18n import remember_language

#: Shared templates and static files of every page (``url_for("web.static", filename=...)``).
bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")

#: Only this service: no CDN, no external fonts, no inline scripts or styles.
CONTENT_SECURITY_POLICY = ("default-src 'self'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'self'; object-src 'none'")

#: Each language named in itself, for the switch.
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def secure_page(response):
    """Headers every page carries: CSP, no MIME sniffing, no referrer (codes sit in URLs)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def page_globals() -> dict:
    """What every page template reads: its language and the switch's links (same page, same query)."""
    arguments = {**(request.view_args or {}), **request.args.to_dict()}
    switch = {}
    if request.endpoint:
        switch = {other: url_for(request.endpoint, **{**arguments, "lang": other}) for other in LANGUAGES}
    return {"lang": str(get_locale()), "switch": switch, "language_names": LANGUAGE_NAMES}


def retry_after(error: TooManyRequests) -> int:
    """The seconds to wait that the limiter put in the refusal's Retry-After."""
    headers = dict((getattr(error, "data", None) or {}).get("headers") or {})
    try:
        return max(1, int(headers.get("Retry-After", 60)))
    except (TypeError, ValueError):
        return 60


def too_many_requests(error: TooManyRequests):
    """A page visitor over the public budget: a page in their language saying when to try again."""
    seconds = retry_after(error)
    html = render_template("too_many.html", seconds=seconds, again=request.full_path.rstrip("?"))
    return html, 429, {"Retry-After": str(seconds), "Cache-Control": "no-store"}


def page_blueprint(blueprint: Blueprint) -> Blueprint:
    """Make ``blueprint`` a page: secure headers, the remembered language, the 429 page."""
    blueprint.after_request(secure_page)
    blueprint.after_request(remember_language)
    blueprint.context_processor(page_globals)
    blueprint.register_error_handler(TooManyRequests, too_many_requests)
    return blueprint


bp.after_request(secure_page)
