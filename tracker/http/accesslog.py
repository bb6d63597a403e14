"""gunicorn's access log without the query strings of the public lookups and pages.

A citizen's ``?verify=`` (an ID or phone number) and ``?code=`` sit in those query
strings; the log keeps the path, the status and the timing. Referers lose their query
string everywhere, since the pages' URLs carry codes. ``gunicorn.conf.py`` selects the
class as ``logger_class``.
"""
from __future__ import annotations

from gunicorn.glogging import Logger

#: Staff endpoints keep their query strings (filters, pages); everything else is public.
STAFF_PREFIX = "/api/"
PUBLIC_API_PREFIX = "/api/v1/public"


def keeps_query(path: str) -> bool:
    """Whether the access log may show this path's query string."""
    return path.startswith(STAFF_PREFIX) and not path.startswith(PUBLIC_API_PREFIX)


def without_query(url: str) -> str:
    """``url`` up to its ``?`` (or ``#``)."""
    return url.split("?", 1)[0].split("#", 1)[0]


class PrivateAccessLogger(Logger):
    """gunicorn's logger whose access-log atoms carry no public query string (see the module)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        if not keeps_query(environ.get("PATH_INFO") or ""):
            atoms["r"] = "%s %s %s" % (environ["REQUEST_METHOD"], without_query(environ.get("RAW_URI", "")),
                                       environ["SERVER_PROTOCOL"])
            for key in ("q", "{query_string}e"):
                if key in atoms:
                    atoms[key] = ""
            for key in ("{raw_uri}e", "{request_uri}e", "{location}o"):
                if key in atoms:
                    atoms[key] = without_query(atoms[key])
        for key in ("f", "{referer}i", "{http_referer}e"):
            if key in atoms and atoms[key] != "-":
                atoms[key] = without_query(atoms[key])
        return atoms
