"""Translations: Flask-Babel over the catalogs in ``tracker/translations`` (English message ids).

Which language a request gets:

- **pages** (every path outside ``/api/``): Vietnamese, whatever the browser's
  ``Accept-Language`` says; English only when the visitor picks it with the page's
  language switch (``?lang=en``), which is remembered in the ``lang`` cookie
  (``SameSite=Lax``, one year); ``?lang=vi`` switches back;
- **the public API** (``/api/v1/public/``): ``Accept-Language``, Vietnamese by default;
- **the staff API**: English, Vietnamese when ``Accept-Language`` asks for it.

The ``.mo`` files are built from the ``.po`` files (``make install`` runs
``pybabel compile``); :func:`compile_catalogs` also builds any that is missing or older
than its ``.po`` when the app starts, so a checkout run without ``make`` still speaks
Vietnamese.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, gettext

from tracker.domain.messages import N_
from tracker.domain.statuses import LANGUAGES, pick_language

log = logging.getLogger(__name__)

#: The catalogs: ``<lang>/LC_MESSAGES/messages.po`` and the compiled ``messages.mo`` beside it.
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
PUBLIC_API_PREFIX = "/api/v1/public/"

babel = Babel()


def chosen_language() -> str | None:
    """The language picked with ``?lang=`` on this request, if it names one we speak."""
    chosen = request.args.get("lang", "").strip().lower()
    return chosen if chosen in LANGUAGES else None


def page_language() -> str:
    """A page's language: ``?lang=``, else the ``lang`` cookie, else Vietnamese."""
    remembered = request.cookies.get(LANG_COOKIE, "").strip().lower()
    return chosen_language() or (remembered if remembered in LANGUAGES else LANGUAGES[0])


def api_language() -> str:
    """The API's language: from Accept-Language; without one, Vietnamese (public) or English (staff)."""
    header = request.headers.get("Accept-Language")
    if request.path.startswith(PUBLIC_API_PREFIX):
        return pick_language(header)
    return "vi" if header and request.accept_languages.best_match(LANGUAGES) == "vi" else "en"


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module's docstring); English outside a request (the CLI)."""
    if not has_request_context():
        return "en"
    return api_language() if request.path.startswith("/api/") else page_language()


def remember_language(response: Response) -> Response:
    """After a page picked with ``?lang=``: remember the choice for later visits."""
    chosen = chosen_language()
    if chosen is not None and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=LANG_COOKIE_MAX_AGE, samesite="Lax",
                            secure=request.is_secure, httponly=True)
        # A shared cache must not hand this visitor's cookie to someone else.
        response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    return response


#: Sentences that arrive already filled in (marshmallow's, the lookup API's 404): each is
#: recognised by its template, translated, and filled in again with the same values.
FILLED_TEMPLATES = [
    N_("No dossier has the code %(code)s. Check the code printed on the receipt."),
    N_("Must be greater than or equal to %(min)s and less than or equal to %(max)s."),
    N_("Must be greater than or equal to %(min)s."),
    N_("Must be one of: %(choices)s."),
    N_("Longer than maximum length %(max)s."),
    N_("The %(where)s is not valid UTF-8 text."),
    N_("The body is not valid UTF-8 text (byte %(byte)s)."),
    N_("The JSON body is nested deeper than %(depth)s levels."),
    N_("The body is not valid JSON: %(error)s."),
    N_("Send the body as application/json (the Content-Type was %(given)s)."),
]
#: Marshmallow's fixed sentences, for the catalogs.
FIXED = [N_("Not a valid date."), N_("Not a valid integer."), N_("Not a valid string."), N_("Unknown field."),
         N_("Missing data for required field."), N_("Field may not be null.")]
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=None)
def _patterns() -> list[tuple[re.Pattern, str]]:
    patterns = []
    for template in FILLED_TEMPLATES:
        parts = _PLACEHOLDER.split(template)  # text, name, text, name, ..., text
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        patterns.append((re.compile(f"^{regex}$", re.DOTALL), template))
    return patterns


def translate(message):
    """``message`` in the request's language when the catalogs know it, else unchanged.

    For sentences built elsewhere without a language (marshmallow's, the rules', the
    views'): looked up as message ids, exactly, then as one of :data:`FILLED_TEMPLATES`.
    """
    if not isinstance(message, str) or not message:
        return message
    translated = gettext(message)
    if translated != message:
        return translated
    for pattern, template in _patterns():
        match = pattern.match(message)
        if match:
            return gettext(template, **match.groupdict())
    return message


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``.po`` whose ``.mo`` is missing or older; returns the files written.

    Each file is written beside its target and renamed over it, so workers starting
    together never read half a catalog. A read-only checkout logs a warning and keeps
    what is there (``make install`` compiles them).
    """
    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            handle, temporary = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
            with os.fdopen(handle, "wb") as target:
                write_mo(target, catalog)
            os.replace(temporary, mo)
            written.append(mo)
        except OSError:
            log.warning("could not compile %s; run `make install`", po, exc_info=True)
    return written


def init_app(app: Flask) -> None:
    """Compile stale catalogs and bind Flask-Babel (``_`` and ``gettext`` in every template)."""
    compile_catalogs()
    babel.init_app(app, default_locale=LANGUAGES[0], default_translation_directories=str(TRANSLATIONS),
                   locale_selector=select_locale)
